"""`manage.py background_resume`: queue whatever background work lost its step with a stopped worker.

Run it when a task worker starts (`make run` does): bulk jobs still marked running get a step again,
and the order index's sync starts (or resumes). Each job then verifies the item it was sending, if any,
before going on. Safe to run any time: work that is under way is left alone.
"""

from typing import Any

from django.core.management.base import BaseCommand

from jobs.services import jobs_resume
from orders_index.services import order_sync_ensure, order_sync_progress


class Command(BaseCommand):
    help = "Resume bulk jobs and the order index's sync after a worker stopped (safe to run any time)."

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = jobs_resume()
        order_sync_ensure(force=True)
        if resumed:
            self.stdout.write(f"Resumed {resumed} bulk fix{'es' if resumed != 1 else ''}.")
        self.stdout.write(order_sync_progress().sentence)
