"""Bulk-fix tests: the real database worker, records of this test's own orders at the sandbox."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from jobs import services
from jobs.models import BulkJob
from jobs.selection import Selection
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi, downloads_api
from tests.jobs.worker import DB_WORKER, Worker, worker_env

__all__ = ["downloads_api"]  # the downloads tests' fixture, used here too

# Order numbers no seeded order has and no other test uses (within the API's int(11)).
_order_numbers = itertools.count(random.randint(150_000_000, 200_000_000) * 10, 10)


def reset_plan(actor: User, order_numbers: tuple[int, ...], reason: str = "r") -> BulkJob:
    """The dry run of "reset the count to 0" for the records of these orders (a draft BulkJob)."""
    return services.job_plan(
        actor=actor, selection=Selection(order_numbers=order_numbers), kind=BulkJob.Kind.COUNT_RESET,
        amount=None, reason=reason,
    )


@pytest.fixture
def new_order_number() -> Callable[[], int]:
    return lambda: next(_order_numbers)


@pytest.fixture
def make_records(downloads_api: DownloadsApi) -> Callable[..., list[dict[str, Any]]]:
    """`make_records(order_number, counts=[3, 5], **fields)`: records made straight at the API."""

    def make(order_number: int, counts: list[int], **fields: Any) -> list[dict[str, Any]]:
        return [
            downloads_api.create(
                product_id=fields.get("product_id", 4242),
                order_id=order_number,
                download_count=count,
                download_file_name=fields.get("download_file_name", f"bulk-{order_number}-{index}.pdf"),
                is_amazon=False,
                amazon_key="",
            )
            for index, count in enumerate(counts)
        ]

    return make


@pytest.fixture
def start_worker(
    transactional_db: None, sandbox: Sandbox, tmp_path: Path, settings: Any
) -> Iterator[Callable[..., Worker]]:
    """`start_worker(**values)`: a task worker (`background_worker`) with these settings (as environment
    variables, over the defaults of tests.jobs.worker.worker_env), which the test's own process takes
    too, as two machines of one deployment would. Killed at the end of the test, before the database is
    emptied (whatever it was doing is thrown away with the database)."""
    workers: list[Worker] = []

    def start(command: list[str] | None = None, **values: Any) -> Worker:
        for name, value in values.items():
            setattr(settings, name, value)
        worker = Worker(
            env=worker_env(sandbox, **values),
            log_path=tmp_path / f"worker-{len(workers)}.log",
            command=command or list(DB_WORKER),
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.kill()
