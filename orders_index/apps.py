from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class OrdersIndexConfig(AppConfig):
    name = "orders_index"
    verbose_name = gettext_lazy("Order index")

    def ready(self) -> None:
        from background.keepers import register_keeper
        from fileflare_admin import kept
        from fileflare_admin.status import register_status_section
        from orders_index.models import IndexedOrder
        from orders_index.services import order_sync_ensure, order_sync_progress

        # An order's number, read by every order page, is kept. Fileflare gives an order its number once,
        # for good (sandbox/README.md), so the sync's updates (when it last saw an order, its dates, files
        # and e-mail) change no kept read: only a row made or deleted does, and a sync pass does not make
        # every kept order page afresh.
        kept.follow(IndexedOrder, kept.IDENTITY, updates=False)

        # The task worker starts the sync, and queues it again after a lost worker (never a page view).
        register_keeper("order sync", lambda: int(order_sync_ensure()))
        # The status page (fileflare_admin, which imports no feature app) shows the sync's progress.
        register_status_section(
            "order_index", template="orders_index/_status.html", figures=order_sync_progress
        )
