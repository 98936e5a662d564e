from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        # Each module declares the audited writes it performs (audit.registry.declare_write) when it is
        # imported; the app registry is ready only now, and these import the models.
        from orders import attachments, replies, resend  # noqa: F401
