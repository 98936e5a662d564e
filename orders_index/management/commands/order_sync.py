"""`manage.py order_sync`: start the order index's background sync now (or resume it), and say where it is."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation

from orders_index.services import order_sync_ensure, order_sync_progress


class Command(BaseCommand):
    help = "Queue the order index's sync (a task worker runs it) unless it is already under way."

    def handle(self, *args: Any, **options: Any) -> None:
        queued = order_sync_ensure()
        with translation.override("en"):  # an operator's command speaks English, as the logs do
            said = order_sync_progress().sentence
        self.stdout.write(("Queued the order sync. " if queued else "") + said)
