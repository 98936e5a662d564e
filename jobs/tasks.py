"""The bulk job's task: one step of its chain (see jobs.runner and background.chain)."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from background.chain import Enqueue
from jobs import runner


@task()
def bulk_job_step(job_id: int, token: str) -> None:
    runner.run_step(job_id, token, enqueue=enqueuer(job_id))


def enqueuer(job_id: int) -> Enqueue:
    """How the chain of job `job_id` queues its next step."""

    def enqueue(token: str, run_after: datetime | None) -> None:
        (bulk_job_step.using(run_after=run_after) if run_after else bulk_job_step).enqueue(job_id, token)

    return enqueue
