"""The insights' tasks: one step of the count snapshots' chain (see background.chain and
insights.snapshots); one person's digest of one day, sent once (insights.digest); and a scan of the counts
noted since the last one for link-scanner suspects (insights.suspects)."""

from __future__ import annotations

from datetime import date, datetime

from django_tasks import task

from insights import digest, snapshots, suspects


@task()
def count_snapshot_step(token: str) -> None:
    snapshots.run_step(token, enqueue=enqueue)


def enqueue(token: str, run_after: datetime | None) -> None:
    (count_snapshot_step.using(run_after=run_after) if run_after else count_snapshot_step).enqueue(token)


def count_snapshots_ensure() -> bool:
    """Start the snapshots, or queue them again when their step was lost with a worker; True when a step
    was queued. Safe any time: a step running or due is left alone."""
    return snapshots.ensure(enqueue=enqueue)


@task()
def digest_send_task(user_id: int, day: str) -> bool:
    return digest.digest_send(user_id=user_id, day=date.fromisoformat(day))


@task()
def suspects_refresh_task() -> int:
    return suspects.suspects_refresh()


def suspects_keep() -> int:
    """The keeper: queue a scan when counts were noted since the last one (background.keepers)."""
    if not suspects.suspects_waiting():
        return 0
    suspects_refresh_task.enqueue()
    return 1
