"""Resending the download e-mail: the one write the orders app makes itself."""

from typing import Any

from audit.models import AuditEntry
from audit.services import audit_record
from fileflare_admin.api import fileflare, types
from fileflare_admin.api.errors import ApiError, InvalidIdentifier
from staff import roles


def order_get(*, order_id: str) -> types.Order:
    """One order with its files (the resend confirmation names it and shows when it was last sent)."""
    return fileflare.order_get(order_id=order_id).value


def order_resend_email(*, actor: Any, order_id: str, reason: str = "") -> types.Order:
    """Send the download e-mail again. Audited whether it goes through or not."""
    number = fileflare.order_number_for(order_id)
    before: dict[str, Any] | None = None
    try:
        roles.require_can_resend(actor)
        current = fileflare.order_get(order_id=order_id).value
        number = current.order_number
        before = {"email_sent_at": current.email_sent_at.isoformat() if current.email_sent_at else None}
        order = fileflare.order_send_email(order_id=order_id)
    except (ApiError, roles.NotAllowed) as error:
        if not isinstance(error, InvalidIdentifier):
            audit_record(
                actor=actor,
                action=AuditEntry.Action.EMAIL_RESEND,
                order_number=number,
                order_id=order_id,
                before=before,
                reason=reason,
                error=str(error),
            )
        raise
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EMAIL_RESEND,
        order_number=order.order_number,
        order_id=order.id,
        before=before,
        after={"email_sent_at": order.email_sent_at.isoformat() if order.email_sent_at else None},
        reason=reason,
    )
    return order
