from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from orders import undo  # the app registry is ready only now: undo imports the models

        undo.register()
