"""The count snapshots' task: one step of the chain (see background.chain and insights.snapshots)."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from insights import snapshots


@task()
def count_snapshot_step(token: str) -> None:
    snapshots.run_step(token, enqueue=enqueue)


def enqueue(token: str, run_after: datetime | None) -> None:
    (count_snapshot_step.using(run_after=run_after) if run_after else count_snapshot_step).enqueue(token)


def count_snapshots_ensure() -> bool:
    """Start the snapshots, or queue them again when their step was lost with a worker; True when a step
    was queued. Safe any time: a step running or due is left alone."""
    return snapshots.ensure(enqueue=enqueue)
