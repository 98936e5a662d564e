"""The orders app's audit actions and how the audit log names them: registered with the audit app
(audit.registry) in OrdersConfig.ready(), beside the undo of attach and detach (orders.undo)."""

from django.db import models

from audit.registry import register_action


class Action(models.TextChoices):
    EMAIL_RESEND = "email_resend", "Resent download e-mail"
    ORDER_ASSETS_ATTACH = "order_assets_attach", "Attached files to order"
    ORDER_ASSETS_DETACH = "order_assets_detach", "Detached files from order"
    REPLY_TEMPLATE_EDIT = "reply_template_edit", "Changed a support reply"


def register() -> None:
    for action in Action:
        register_action(action.value, action.label)
