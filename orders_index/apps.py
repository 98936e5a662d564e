from django.apps import AppConfig


class OrdersIndexConfig(AppConfig):
    name = "orders_index"
    verbose_name = "Order index"

    def ready(self) -> None:
        from background.keepers import register_keeper
        from orders_index.services import order_sync_ensure

        # The task worker starts the sync, and queues it again after a lost worker (never a page view).
        register_keeper("order sync", lambda: int(order_sync_ensure()))
