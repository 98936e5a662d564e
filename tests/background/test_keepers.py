"""Background work is kept alive by the worker's keepers, never by a page view (run in this process).

A running job whose worker died (its lease ran out) and a shop whose sync never started: exactly what a
page used to re-queue as it was viewed. Now a GET of any page queues nothing and writes no row; the
keepers (what `background_worker` runs at start and on its timer) queue both.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEntry
from background.keepers import keep_alive
from jobs.models import BulkJob
from orders_index.models import OrderSync

pytestmark = pytest.mark.django_db


@pytest.fixture
def lost_job() -> BulkJob:
    """A job a worker was running when it died: its lease ran out a minute ago, no step is queued."""
    return BulkJob.objects.create(
        kind=BulkJob.Kind.COUNT_RESET,
        reason="Bot storm",
        created_by_name="merchant",
        state=BulkJob.State.RUNNING,
        step_token="the-dead-workers-step",
        lease_until=timezone.now() - timedelta(minutes=1),
    )


def test_no_page_view_starts_or_restarts_background_work(
    merchant_client: Client,
    lost_job: BulkJob,
    django_capture_on_commit_callbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages = [
        reverse("jobs:list"),
        reverse("jobs:detail", args=[lost_job.pk]),
        reverse("jobs:progress", args=[lost_job.pk]),
        reverse("orders:list"),
        reverse("status"),
    ]
    tasks, entries = DBTaskResult.objects.count(), AuditEntry.objects.count()

    enqueued: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(Task, "enqueue", lambda task, *args, **kwargs: enqueued.append((task.name, args)))

    # Every callback a page left for its commit runs (a page may note in the cache what it stored in the
    # order index): none of them, and nothing the page itself did, enqueues a task.
    with django_capture_on_commit_callbacks(execute=True):
        for page in pages:
            assert merchant_client.get(page).status_code == 200, page

    assert enqueued == []
    assert DBTaskResult.objects.count() == tasks
    assert AuditEntry.objects.count() == entries
    assert not OrderSync.objects.exists()  # the sync was neither started nor given a row
    lost_job.refresh_from_db()
    assert lost_job.step_token == "the-dead-workers-step" and lost_job.step_due_at is None


# No digest is due and no count was noted: the insights' other keepers queue nothing.
IDLE_INSIGHTS = {"daily digest": 0, "link-scanner suspects": 0}


@pytest.mark.engine
def test_the_keepers_queue_a_step_for_a_lost_job_and_start_the_sync_once(
    lost_job: BulkJob, django_capture_on_commit_callbacks
) -> None:
    tasks = DBTaskResult.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        assert keep_alive() == {"order sync": 1, "bulk fixes": 1, "count snapshots": 1, **IDLE_INSIGHTS}
    with django_capture_on_commit_callbacks(execute=True):  # the queued steps are due, not lost
        assert keep_alive() == {"order sync": 0, "bulk fixes": 0, "count snapshots": 0, **IDLE_INSIGHTS}

    assert DBTaskResult.objects.count() == tasks + 3
    lost_job.refresh_from_db()
    assert lost_job.step_token != "the-dead-workers-step" and lost_job.step_due_at is not None
    assert OrderSync.objects.get().step_due_at is not None


def test_background_resume_runs_the_keepers_once_and_says_what_it_queued(
    lost_job: BulkJob, django_capture_on_commit_callbacks, capsys
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("background_resume")

    said = capsys.readouterr().out.splitlines()
    assert said == [
        "order sync: 1 step queued.",
        "bulk fixes: 1 step queued.",
        "count snapshots: 1 step queued.",
        "daily digest: 0 steps queued.",
        "link-scanner suspects: 0 steps queued.",
    ]
