"""insights.snapshots over the in-process sandbox: every record's count read by the full pass, recent
orders' by the recent one, only changes stored, within the bulk share and never the slots kept for staff."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from background import pacing
from downloads import history
from downloads.models import CountChange
from fileflare_admin.api import budget, types
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE
from insights import snapshots
from insights.models import CountSnapshots
from orders_index.models import IndexedOrder
from tests.conftest import SandboxApis
from tests.downloads.conftest import DownloadsApi
from tests.insights.conftest import records_total

pytestmark = pytest.mark.django_db
Queued = list[tuple[str, datetime | None]]


@pytest.fixture
def step(django_capture_on_commit_callbacks: Any) -> Callable[[], Queued]:
    """`step()`: start the chain if it is not, run its queued step here; answers every step queued."""
    queued: Queued = []

    def enqueue(token: str, run_after: datetime | None) -> None:
        queued.append((token, run_after))

    def run() -> Queued:
        if not queued:
            with django_capture_on_commit_callbacks(execute=True):
                assert snapshots.ensure(enqueue=enqueue)
        with django_capture_on_commit_callbacks(execute=True):
            snapshots.run_step(queued[-1][0], enqueue=enqueue)
        return queued

    return run


def _state() -> CountSnapshots:
    return CountSnapshots.objects.get(api=DOWNLOADS.identity())


def _gone() -> types.DownloadRecord:
    return types.DownloadRecord(
        download_id="gone",
        date_created=None,
        product_id=1,
        order_id=1,
        download_count=4,
        download_file_name="deleted.pdf",
        is_amazon=False,
        amazon_key="",
    )


def test_a_full_pass_reads_every_records_count_once_and_stores_only_changes_after(
    settings: Any, sandbox: SandboxApis, step: Callable[[], Queued], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SNAPSHOT_RECENT_EVERY_SECONDS = 0
    monkeypatch.setattr(snapshots, "PAGE_SIZE", 500)  # the sandbox's largest page: fewer requests here
    monkeypatch.setattr(snapshots, "STEP_SECONDS", 60)
    total = records_total(sandbox)
    deleted_since = history.note_counts(  # a record the API no longer has, seen two days ago
        [_gone()],
        seen_at=timezone.now() - timedelta(days=2),
        source="snapshot",
    )
    assert deleted_since == 1
    before = sandbox.stats()["downloads"]
    queued = step()
    state = _state()
    assert state.full_finished_at is not None and state.full_page == 0
    assert state.full_records == total and state.calls == -(-total // 500)
    assert sandbox.stats()["downloads"] - before == state.calls
    assert CountChange.objects.filter(latest=True).count() == total  # and "gone", not found, is forgotten
    assert "gone" not in history.last_counts() and CountChange.objects.filter(download_id="gone").exists()
    assert CountChange.objects.filter(delta__isnull=False).exclude(count=0).count() == 0  # first sightings
    # The next full pass is due a day after this one started: the next step waits for it in the queue.
    assert queued[-1][1] is not None and queued[-1][1] > timezone.now() + timedelta(hours=23)
    assert snapshots.as_of() == state.full_finished_at


def test_a_record_a_deletion_pushes_onto_a_page_already_read_is_not_taken_for_deleted(
    settings: Any, sandbox: SandboxApis, step: Callable[[], Queued], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SNAPSHOT_RECENT_EVERY_SECONDS = 0
    monkeypatch.setattr(snapshots, "STEP_SECONDS", 60)
    monkeypatch.setattr(snapshots, "PAGE_SIZE", 500)  # the sandbox's largest page: fewer requests here
    assert records_total(sandbox) > 500  # two pages at least
    step()  # the first full pass: every record seen
    assert _state().full_finished_at is not None
    read = snapshots.downloads_api.record_list
    pushed: list[str] = []

    def one_deleted_after_page_one(**asked: Any) -> Any:
        """The API as it answers once a record of page 1 is deleted after that page was read: every later
        record a place up, page 2's first now page 1's last (the shared sandbox itself is left alone)."""
        fetched = read(**asked)
        if asked["page"] < 2:
            return fetched
        if asked["page"] == 2:
            pushed.append(fetched.value.items[0].download_id)
        return replace(fetched, value=replace(fetched.value, items=fetched.value.items[1:]))

    monkeypatch.setattr(snapshots.downloads_api, "record_list", one_deleted_after_page_one)
    moved_back = timezone.now() - timedelta(days=1, minutes=1)
    CountSnapshots.objects.filter(pk=_state().pk).update(full_started_at=moved_back)  # the next is due
    step()
    state = _state()
    assert pushed and state.full_started_at is not None and state.full_started_at > moved_back
    assert state.full_finished_at is not None and state.full_finished_at >= state.full_started_at
    assert pushed[0] in history.last_counts()  # missed by this pass, seen by the one before: not deleted


def test_the_recent_pass_reads_new_records_and_orders_emailed_lately_then_only_changes_are_stored(
    settings: Any,
    sandbox: SandboxApis,
    step: Callable[[], Queued],
    make_record: Any,
    downloads_api: DownloadsApi,
) -> None:
    settings.SNAPSHOT_FULL_EVERY_SECONDS = 0
    settings.SNAPSHOT_RECENT_EVERY_SECONDS = 60
    new = make_record(download_count=0)  # created now: among the newest records
    example = sandbox.customer(1050)  # ordered in 2023, its e-mail sent again just now
    now = timezone.now()
    IndexedOrder.objects.create(
        shop=FILEFLARE.identity(),
        order_id=example["id"],
        order_number=1050,
        ordered_at=now - timedelta(days=900),
        email_sent_at=now - timedelta(minutes=5),
        seen_at=now,
    )
    before = sandbox.stats()["downloads"]
    step()
    state = _state()
    assert sandbox.stats()["downloads"] - before == state.calls < 10  # the newest page(s), then one order
    assert state.recent_finished_at is not None and not state.recent_page and not state.recent_orders
    assert state.full_started_at is None  # the full pass is off
    known = history.last_counts()
    assert known[new["download_id"]].count == 0
    old = downloads_api.for_order(1050)
    assert {item["download_id"] for item in old} <= set(known)

    downloads_api.patch(new["download_id"], download_count=2)  # the customer downloaded twice
    CountSnapshots.objects.filter(pk=state.pk).update(recent_started_at=now - timedelta(minutes=2))
    step()
    assert [(row.count, row.delta, row.source) for row in history.changes_of_order(new["order_id"])] == [
        (0, 0, "snapshot"),
        (2, 2, "snapshot"),
    ]


def test_the_snapshots_spend_at_most_their_share_and_wait_in_the_queue_for_the_rest(
    settings: Any, sandbox: SandboxApis, step: Callable[[], Queued]
) -> None:
    settings.BULK_DOWNLOADS_BUDGET_PER_MINUTE = 3
    settings.SNAPSHOT_RECENT_EVERY_SECONDS = 0
    before = sandbox.stats()["downloads"]
    queued = step()
    state = _state()
    assert sandbox.stats()["downloads"] - before == 3 == state.calls
    assert state.full_page == 4 and state.full_finished_at is None
    # The next step is queued for when the share's sliding minute frees a slot, not slept on.
    assert (
        len(queued) == 2
        and queued[1][1] is not None
        and queued[1][1] > timezone.now() + timedelta(seconds=30)
    )
    assert state.lease_until is None


def test_the_snapshots_never_take_the_slots_kept_for_staff(
    settings: Any, sandbox: SandboxApis, step: Callable[[], Queued]
) -> None:
    settings.DOWNLOADS_BUDGET_PER_MINUTE = 30
    settings.UPSTREAM_WRITE_RESERVE = 5
    settings.STAFF_READ_RESERVE = 20
    shared = DOWNLOADS.budget_name()
    for _ in range(5):  # staff's pages took 5: what is left is theirs
        assert budget.acquire(shared, 30) is None
    assert pacing.headroom_wait(DOWNLOADS) is not None
    before = sandbox.stats()["downloads"]
    queued = step()
    assert sandbox.stats()["downloads"] == before and _state().calls == 0
    assert len(queued) == 2 and queued[1][1] is not None and queued[1][1] > timezone.now()


def test_a_failed_read_is_kept_in_english_as_the_order_syncs_is_whatever_the_workers_language(
    settings: Any, sandbox: SandboxApis, step: Callable[[], Queued]
) -> None:
    settings.SNAPSHOT_RECENT_EVERY_SECONDS = 0
    sandbox.config(error_rate=1.0)  # the downloads API fails every read
    with translation.override("fr"):  # a worker of a shop whose LANGUAGE_CODE is fr
        step()
    state = _state()
    assert state.failures >= 1
    assert state.last_error.startswith("The downloads API had a problem on its side")  # the msgid's words


def test_nothing_is_started_when_both_passes_are_off(settings: Any) -> None:
    settings.SNAPSHOT_FULL_EVERY_SECONDS = 0
    settings.SNAPSHOT_RECENT_EVERY_SECONDS = 0
    assert not snapshots.ensure(enqueue=lambda token, run_after: None)
    assert not CountSnapshots.objects.exists()
    assert "are 0" in snapshots.snapshot_progress().sentence


def test_the_status_page_says_when_the_last_snapshots_finished(
    settings: Any, merchant_client: Client, step: Callable[[], Queued], make_record: Any
) -> None:
    settings.SNAPSHOT_FULL_EVERY_SECONDS = 0
    settings.SNAPSHOT_RECENT_EVERY_SECONDS = 3600
    page = merchant_client.get("/status/").content.decode()
    assert "Counts have not been snapshotted yet" in page
    make_record(download_count=1)
    step()
    page = merchant_client.get("/status/").content.decode()
    assert "Download counts over time" in page
    assert "those of orders e-mailed in the last 48 hours every hour; only changes are stored" in page
    assert "Last snapshot of recent orders" in page
