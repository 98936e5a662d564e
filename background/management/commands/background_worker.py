"""`manage.py background_worker [-- worker options]`: the task worker, keeping its own chains alive.

It runs the keepers (background.keepers: every bulk job still running gets a step again, the order
index's sync starts or resumes) once at start, then every BACKGROUND_KEEPALIVE_SECONDS on a thread of
its own, so a chain whose worker died is back soon after its lease runs out, with nobody looking at a
page. Meanwhile this process runs the task worker of TASKS_BACKEND: django-tasks-db's `db_worker`
(database) or django-rq's `rqworker` (rq). Options after `--` go to that worker, e.g.
`manage.py background_worker -- --interval 0.2` (see `manage.py db_worker --help`, `rqworker --help`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from background.keepers import keep_alive

logger = logging.getLogger(__name__)

# Each backend's worker as deploy/Procfile ran it. The database worker never reloads on code changes
# (that would run a second worker process; `make run` restarts everything instead).
WORKERS = {
    "database": ["db_worker", "--no-reload"],
    "rq": ["rqworker", "default", "--job-class", "django_tasks_rq.Job", "--with-scheduler"],
}


def _keep_alive_round() -> dict[str, int]:
    try:
        return keep_alive()
    finally:
        connections.close_all()  # this thread's own connections: none is held between rounds


def _keep_alive_every(seconds: float, stop: threading.Event) -> None:
    while not stop.wait(seconds):
        queued = {name: count for name, count in _keep_alive_round().items() if count}
        if queued:
            logger.info("background: queued again %s", queued)


class Command(BaseCommand):
    help = "Run the task worker (TASKS_BACKEND), which keeps the background chains alive by itself."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("worker_options", nargs="*", help="after --: passed on to db_worker or rqworker")

    def handle(self, *args: Any, worker_options: list[str], **options: Any) -> None:
        queued = _keep_alive_round()
        self.stdout.write(
            "Kept alive: " + ", ".join(f"{name} ({count} queued)" for name, count in queued.items())
        )
        stop = threading.Event()
        threading.Thread(
            target=_keep_alive_every,
            args=(settings.BACKGROUND_KEEPALIVE_SECONDS, stop),
            name="background-keepalive",
            daemon=True,  # ends with the worker: a step it queued is safe in the task queue
        ).start()
        try:
            call_command(*WORKERS[settings.TASKS_BACKEND], *worker_options)
        finally:
            stop.set()
