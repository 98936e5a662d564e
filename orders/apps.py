from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        # Each module declares the audited writes it performs (audit.registry.declare_write) when it is
        # imported; the app registry is ready only now, and these import the models.
        from fileflare_admin import kept
        from orders import attachments, replies, resend  # noqa: F401
        from orders.models import KnownCustomerToken, ReplyTemplate

        kept.follow(ReplyTemplate, kept.REPLIES)  # the reply template a page reads is kept
        kept.follow(KnownCustomerToken, kept.IDENTITY)  # so is an order's pasted link (orders.identity)
