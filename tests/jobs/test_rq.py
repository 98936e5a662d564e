"""The same bulk job on RQ (TASKS_BACKEND=rq), the backend for many machines: steps go through a real
Redis to a real `rqworker`, waits included (a step queued for later runs when it is due)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from jobs import services
from jobs.models import BulkJob
from jobs.selection import Selection
from tests.conftest import free_port
from tests.downloads.conftest import DownloadsApi
from tests.jobs.worker import RQ_WORKER, Worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server")
    assert server, "`make test` installs Debian's redis-server"
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    time.sleep(0.3)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def test_a_job_runs_on_rq_workers_and_a_step_queued_for_later_runs_when_due(
    start_worker: Callable[..., Worker],
    redis_url: str,
    settings: Any,
    merchant_user: User,
    make_records,
    new_order_number,
    downloads_api: DownloadsApi,
    sandbox,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 600}}
    number = new_order_number()
    records = make_records(number, [3, 4])
    job = services.job_plan(
        actor=merchant_user,
        selection=Selection(order_numbers=(number,)),
        kind=BulkJob.Kind.COUNT_RESET,
        amount=None,
        reason="On RQ",
    )
    sandbox.config(error_rate=1)  # the downloads API fails at first: the job waits, in Redis's schedule
    worker = start_worker(RQ_WORKER, TASKS_BACKEND="rq", TASKS_REDIS_URL=redis_url)
    services.job_run(actor=merchant_user, job_id=job.pk)
    worker.wait_for(
        "a step queued for later", lambda: BulkJob.objects.filter(pk=job.pk, failures__gte=1).exists()
    )
    sandbox.reset_faults()

    job = worker.wait_for(
        "the job to finish", lambda: BulkJob.objects.filter(pk=job.pk, state="done").first(), timeout=60
    )
    assert [downloads_api.get(record["download_id"])["download_count"] for record in records] == [0, 0]
    assert set(job.items.values_list("state", flat=True)) == {"done"}
    assert "Job OK" in worker.log()
