"""Running bulk fixes in the real database worker against the sandbox: each item written once, audited
under its job, skipped when changed since the dry run; cancel, undo, and a worker that dies mid-write
(taken over by the next worker by itself: no page is viewed in these tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User

from audit.models import AuditEntry
from downloads.edits import COUNT_REVERT
from downloads.records import count_change
from jobs import services
from jobs.models import BulkJob, BulkJobItem
from jobs.selection import Selection
from orders.resend import EMAIL_RESEND
from orders_index.services import order_index_lookup
from tests.downloads.conftest import DownloadsApi
from tests.jobs.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)
Kind = BulkJob.Kind
Item = BulkJobItem.State


def _plan(merchant: User, number: int, kind: str = Kind.COUNT_RESET, amount: int | None = None) -> BulkJob:
    return services.job_plan(
        actor=merchant,
        selection=Selection(order_numbers=(number,)),
        kind=kind,
        amount=amount,
        reason="Bot storm on the 3rd, ticket #4821",
    )


def _finished(job: BulkJob) -> Callable[[], BulkJob | None]:
    return lambda: BulkJob.objects.filter(pk=job.pk, state__in=BulkJob.FINISHED).first()


def _item(job: BulkJob, download_id: str) -> BulkJobItem:
    return job.items.select_related("audit_entry").get(download_id=download_id)


def _counts(downloads_api: DownloadsApi, records: list[dict[str, Any]]) -> list[int]:
    return [downloads_api.get(record["download_id"])["download_count"] for record in records]


@pytest.mark.engine
def test_a_job_fixes_every_record_audits_each_under_the_job_and_skips_what_changed_since_the_dry_run(
    start_worker: Callable[..., Worker],
    merchant_user: User,
    make_records,
    new_order_number,
    downloads_api: DownloadsApi,
) -> None:
    number = new_order_number()
    records = make_records(number, [5, 7, 3, 0])
    job = _plan(merchant_user, number)
    downloads_api.patch(records[1]["download_id"], download_count=8)  # a colleague, after the dry run
    worker = start_worker()

    services.job_run(actor=merchant_user, job_id=job.pk)
    job = worker.wait_for("the job to finish", _finished(job))

    assert job.state == BulkJob.State.DONE
    assert _counts(downloads_api, records) == [0, 8, 0, 0]
    changed = _item(job, records[1]["download_id"])
    assert changed.state == Item.SKIPPED
    assert changed.note == "Changed since the dry run: the count is now 8, so it was left alone."
    assert _item(job, records[3]["download_id"]).note == "Already 0: nothing to change."
    for record, before in ((records[0], 5), (records[2], 3)):
        item = _item(job, record["download_id"])
        entry = item.audit_entry
        assert item.state == Item.DONE and item.note == "Set to 0."
        assert entry is not None and entry.outcome == AuditEntry.Outcome.SUCCESS
        assert (entry.actor, entry.download_id) == (merchant_user, record["download_id"])
        assert entry.order_number == number
        assert entry.reason == f"Bot storm on the 3rd, ticket #4821 (bulk fix #{job.pk})"
        assert entry.job_id == str(job.pk)  # the audit log's "Bulk fix" filter finds it
        assert count_change(entry.before, entry.after) == (before, 0)
    progress = services.job_progress(job)
    assert (progress.done, progress.skipped, progress.failed, progress.remaining) == (2, 2, 0, 0)
    # Each record was written once; the refused attempt is in the trail too, with its reason.
    entries = AuditEntry.objects.filter(order_number=number)
    assert entries.filter(outcome=AuditEntry.Outcome.SUCCESS).count() == 2
    refused = entries.get(outcome=AuditEntry.Outcome.FAILED)
    assert refused.download_id == records[1]["download_id"] and "from 7 to 8" in refused.error
    assert not entries.filter(outcome=AuditEntry.Outcome.PENDING).exists()
    csv = "".join(services.job_csv(job)).splitlines()
    assert csv[0].startswith("position,order_number,download_id,file_name")
    assert len(csv) == 5
    line = next(line for line in csv if f",{records[0]['download_id']}," in line)
    assert f",{number},{records[0]['download_id']}," in line and ",5,0,,,Done,Set to 0.," in line


def test_a_job_paces_itself_and_cancel_stops_it_before_the_next_item(
    start_worker: Callable[..., Worker],
    merchant_user: User,
    make_records,
    new_order_number,
    downloads_api: DownloadsApi,
) -> None:
    number = new_order_number()
    records = make_records(number, [4, 4, 4, 4, 4])
    job = _plan(merchant_user, number, kind=Kind.COUNT_SET, amount=1)
    # 4 requests a minute: two records (a read and a write each), then a wait of about a minute.
    worker = start_worker(BULK_DOWNLOADS_BUDGET_PER_MINUTE=4)
    services.job_run(actor=merchant_user, job_id=job.pk)
    worker.wait_for(
        "two records, then a wait for the budget",
        lambda: BulkJob.objects.filter(pk=job.pk, waiting_until__isnull=False).exists(),
    )
    progress = services.job_progress(BulkJob.objects.get(pk=job.pk))
    assert (progress.done, progress.remaining) == (2, 3)
    assert progress.seconds_left is not None and progress.seconds_left >= 60

    job = services.job_cancel(actor=merchant_user, job_id=job.pk)

    assert job.state == BulkJob.State.CANCELLED and job.cancelled_by_name == merchant_user.username
    assert sorted(_counts(downloads_api, records)) == [1, 1, 4, 4, 4]
    assert job.items.filter(state=Item.CANCELLED).count() == 3
    assert job.items.get(position=5).note == "Not run: the job was cancelled."
    time.sleep(1.5)  # the worker, were it still going, would find nothing to do
    assert sorted(_counts(downloads_api, records)) == [1, 1, 4, 4, 4]


@pytest.mark.engine
def test_undo_sets_back_every_item_nobody_changed_since(
    start_worker: Callable[..., Worker],
    merchant_user: User,
    make_records,
    new_order_number,
    downloads_api: DownloadsApi,
) -> None:
    number = new_order_number()
    records = make_records(number, [4, 6, 2])
    worker = start_worker()
    job = _plan(merchant_user, number)
    services.job_run(actor=merchant_user, job_id=job.pk)
    job = worker.wait_for("the job to finish", _finished(job))
    assert _counts(downloads_api, records) == [0, 0, 0]
    downloads_api.patch(records[2]["download_id"], download_count=9)  # the customer downloaded since

    undo = services.job_undo(actor=merchant_user, job_id=job.pk, reason="Wrong order list")
    undo = worker.wait_for("the undo to finish", _finished(undo))

    assert _counts(downloads_api, records) == [4, 6, 9]
    kept = _item(undo, records[2]["download_id"])
    assert kept.state == Item.SKIPPED and "changed again since (now 9)" in kept.note
    for record in records[:2]:
        item = _item(undo, record["download_id"])
        assert item.state == Item.DONE
        entry = item.audit_entry
        assert entry is not None and entry.action == COUNT_REVERT
        assert entry.undo_of == _item(job, record["download_id"]).audit_entry
        assert entry.reason == f"Wrong order list (undo of bulk fix #{job.pk}; bulk fix #{undo.pk})"
        assert entry.job_id == str(undo.pk)
    with pytest.raises(services.JobRefused, match="already undone"):
        services.job_undo(actor=merchant_user, job_id=job.pk, reason="again")


@pytest.mark.engine
def test_a_job_survives_its_worker_dying_mid_write_and_verifies_the_item_in_flight(
    start_worker: Callable[..., Worker],
    merchant_user: User,
    make_records,
    new_order_number,
    downloads_api: DownloadsApi,
    sandbox,
) -> None:
    number = new_order_number()
    records = make_records(number, [3, 3, 3])
    job = _plan(merchant_user, number)
    sandbox.config(latency_ms=700)  # each request takes 0.7 s: a kill lands mid-item
    first = start_worker()
    services.job_run(actor=merchant_user, job_id=job.pk)
    first.wait_for(
        "an item in flight", lambda: job.items.filter(state=Item.IN_FLIGHT, position__gte=2).exists()
    )
    time.sleep(0.9)  # its fresh read answered; its write is on its way
    first.kill()
    in_flight = job.items.get(state=Item.IN_FLIGHT)

    # The next worker takes the job over by itself once the dead one's lease (BACKGROUND_LEASE_SECONDS=4)
    # has run out: its keep-alive (every BACKGROUND_KEEPALIVE_SECONDS=1) queues a step. Nothing else does.
    second = start_worker()
    job = second.wait_for("the job to finish after the restart", _finished(job), timeout=180)

    assert job.state == BulkJob.State.DONE
    assert _counts(downloads_api, records) == [0, 0, 0]
    assert set(job.items.values_list("state", flat=True)) == {Item.DONE}
    verified = job.items.get(pk=in_flight.pk)
    # Whichever way the dead worker's write went, the item was checked at the API, never sent twice
    # blindly: one successful entry per record, and no entry left pending.
    entries = AuditEntry.objects.filter(order_number=number)
    assert entries.filter(outcome=AuditEntry.Outcome.PENDING).count() == 0
    for record in records:
        succeeded = entries.filter(download_id=record["download_id"], outcome=AuditEntry.Outcome.SUCCESS)
        assert succeeded.count() == 1
    assert verified.audit_entry is not None
    # The write-ahead entry the dead worker left pending was closed with what the check found.
    left = entries.get(download_id=verified.download_id, verified__contains="after its worker stopped")
    assert left.finished_at is not None
    if left.outcome == AuditEntry.Outcome.SUCCESS:  # its write had reached the API
        assert verified.audit_entry == left
        assert verified.note == "Set to 0 (checked at the API after the worker stopped)."
    else:  # it had not: sent again, once
        assert left.outcome == AuditEntry.Outcome.FAILED and verified.note == "Set to 0."


def test_a_resend_job_sends_each_chosen_order_once_and_skips_one_resent_since_the_dry_run(
    start_worker: Callable[..., Worker], merchant_user: User, sandbox
) -> None:
    never, sent, other = (
        sandbox.create_order({"lines": [], "email_sent": flag}) for flag in (False, True, True)
    )
    worker = start_worker()  # which starts the sync: the index knows each order's ID and e-mail time
    worker.wait_for(
        "the newest orders indexed", lambda: order_index_lookup(other["order_number"]), timeout=120
    )
    numbers = (never["order_number"], sent["order_number"], other["order_number"])
    job = services.job_plan(
        actor=merchant_user,
        selection=Selection(order_numbers=numbers),
        kind=Kind.EMAIL_RESEND,
        amount=None,
        reason="The shop's mail server bounced them",
    )
    assert services.plan_summary(job).lookups == 0
    time.sleep(1.1)  # e-mail times have whole seconds
    requests.put(
        f"{sandbox.fileflare_url}/v1/orders/{other['id']}",
        json={},
        headers={"Authorization": f"Bearer {sandbox.key}", "Accept": "application/json"},
        timeout=30,
    ).raise_for_status()  # a colleague resends one of them after the dry run
    mailed_before = len(sandbox.outbox())

    services.job_run(actor=merchant_user, job_id=job.pk)
    job = worker.wait_for("the job to finish", _finished(job))

    outbox = sandbox.outbox()  # newest first
    mailed = [message["order_number"] for message in outbox[: len(outbox) - mailed_before]]
    assert sorted(mailed) == sorted([never["order_number"], sent["order_number"]])
    states = {item.order_number: item for item in job.items.select_related("audit_entry")}
    assert states[other["order_number"]].state == Item.SKIPPED
    assert states[other["order_number"]].note.startswith("Sent again by someone else since the dry run (")
    for number in (never["order_number"], sent["order_number"]):
        item = states[number]
        assert item.state == Item.DONE and item.note.startswith("Sent at ")
        assert item.audit_entry is not None and item.audit_entry.action == EMAIL_RESEND
        assert item.audit_entry.reason == f"The shop's mail server bounced them (bulk fix #{job.pk})"
    # Our own write updated the index at once: "e-mail never sent" no longer lists it.
    assert order_index_lookup(never["order_number"])[0].order.email_sent_at is not None
    assert services.undo_refusal(job) == "An e-mail cannot be unsent."
