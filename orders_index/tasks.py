"""The order sync's task: one step of the chain (see background.chain and orders_index.sync)."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from orders_index import sync


@task()
def order_sync_step(token: str) -> None:
    sync.run_step(token, enqueue=enqueue)


def enqueue(token: str, run_after: datetime | None) -> None:
    (order_sync_step.using(run_after=run_after) if run_after else order_sync_step).enqueue(token)
