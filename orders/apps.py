from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        # The app registry is ready only now: undo imports the models.
        from orders import audit_actions, undo

        audit_actions.register()
        undo.register()
