from django.apps import AppConfig


class OrdersIndexConfig(AppConfig):
    name = "orders_index"
    verbose_name = "Order index"
