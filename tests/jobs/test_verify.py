"""An item found in flight (its worker stopped mid-write) is checked with the owning app's read-back and
closes its own audit entry, which the item kept before anything was sent: never another entry of the
same record, such as a colleague's write opened a moment later. No worker process: the steps are called
as the worker calls them, against the in-process sandbox."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from audit.models import AuditEntry
from downloads.edits import COUNT
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import fileflare
from jobs import actions, runner, services
from jobs.models import BulkJob, BulkJobItem
from jobs.selection import Selection
from orders.resend import EMAIL_RESEND
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi

pytestmark = pytest.mark.django_db
Pending = AuditEntry.Outcome.PENDING


def _item_in_flight(
    merchant: User, number: int, kind: str = BulkJob.Kind.COUNT_RESET, **sent: Any
) -> tuple[BulkJob, BulkJobItem]:
    """A one-item job, its item as the runner leaves it when it sends (`sent`: what the send notes)."""
    job = services.job_plan(
        actor=merchant, selection=Selection(order_numbers=(number,)), kind=kind, amount=None, reason="A"
    )
    item = job.items.get()
    values = {"state": BulkJobItem.State.IN_FLIGHT, "sent_at": timezone.now(), **sent}
    for name, value in values.items():
        setattr(item, name, value)
    item.save(update_fields=list(values))
    return job, item


def _left_open(actor: User, action: str = COUNT, **values: Any) -> AuditEntry:
    """An entry as `audited(...)` writes it ahead, whose block never ended: its process stopped inside."""
    return AuditEntry.objects.create(
        actor=actor, actor_name=actor.get_username(), action=action, outcome=Pending, **values
    )


def _assert_only_its_own_entry_closed(
    found: actions.Outcome | None, *, own: AuditEntry, colleague: AuditEntry, saved: bool
) -> None:
    own.refresh_from_db()
    colleague.refresh_from_db()
    assert colleague.outcome == Pending and colleague.finished_at is None
    assert own.finished_at is not None and own.verified.endswith("after its worker stopped")
    if saved:
        assert found is not None and found.state == BulkJobItem.State.DONE and found.entry_id == own.pk
        assert own.outcome == AuditEntry.Outcome.SUCCESS
    else:
        assert found is None  # not sent: the runner sends it now
        assert own.outcome == AuditEntry.Outcome.FAILED


@pytest.mark.parametrize("reached_the_api", [True, False])
def test_an_item_found_in_flight_closes_its_own_entry_not_a_colleagues_opened_just_after(
    merchant_user: User,
    admin_user: User,
    make_records,
    new_order_number,
    downloads_api: DownloadsApi,
    reached_the_api: bool,
) -> None:
    number = new_order_number()
    (record,) = make_records(number, [3])
    job, item = _item_in_flight(merchant_user, number)
    download_id = record["download_id"]
    own = _left_open(merchant_user, download_id=download_id, order_number=number, job_id=str(job.pk))
    actions.keep_entry(item)(own)  # as audit_job(on_open=…) has the worker's write keep it
    if reached_the_api:
        downloads_api.patch(download_id, download_count=0)
    # A colleague's write to the same record, opened within a second and still under way.
    colleague = _left_open(admin_user, download_id=download_id, order_number=number)
    assert BulkJobItem.objects.get(pk=item.pk).audit_entry_id == own.pk

    found = actions.count_verify(BulkJobItem.objects.get(pk=item.pk), count=0, expected=3)

    _assert_only_its_own_entry_closed(found, own=own, colleague=colleague, saved=reached_the_api)


@pytest.mark.parametrize("went_out", [True, False])
def test_a_resend_found_in_flight_closes_its_own_entry_not_a_colleagues_opened_just_after(
    merchant_user: User, admin_user: User, sandbox: Sandbox, went_out: bool
) -> None:
    order = sandbox.create_order({"lines": [], "email_sent": True})
    number = order["order_number"]
    # As resend_send leaves it when it sends (long enough ago that nothing sent then can still land).
    job, item = _item_in_flight(
        merchant_user,
        number,
        BulkJob.Kind.EMAIL_RESEND,
        order_id=order["id"],
        email_sent_before=fileflare.order_get(order_id=order["id"], fresh=True).value.email_sent_at,
        email_known=True,
        sent_at=timezone.now() - timedelta(minutes=10),
    )
    own = _left_open(
        merchant_user, EMAIL_RESEND, order_id=order["id"], order_number=number, job_id=str(job.pk)
    )
    actions.keep_entry(item)(own)
    if went_out:
        time.sleep(1.1)  # e-mail times have whole seconds
        fileflare.order_send_email(order_id=order["id"])
    colleague = _left_open(admin_user, EMAIL_RESEND, order_id=order["id"], order_number=number)

    found = actions.resend_verify(BulkJobItem.objects.get(pk=item.pk))

    _assert_only_its_own_entry_closed(found, own=own, colleague=colleague, saved=went_out)


def test_the_item_keeps_its_entry_before_the_write_is_sent(
    merchant_user: User, make_records, new_order_number, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = new_order_number()
    make_records(number, [3])
    job, item = _item_in_flight(merchant_user, number)
    kept_when_sent: list[tuple[int | None, str]] = []
    send = downloads_api.record_update

    def watched(**values: Any) -> Any:
        kept = BulkJobItem.objects.get(pk=item.pk).audit_entry
        kept_when_sent.append((kept.pk if kept else None, kept.outcome if kept else ""))
        return send(**values)

    monkeypatch.setattr(downloads_api, "record_update", watched)
    item.state = BulkJobItem.State.PENDING  # as the runner finds it: not sent yet
    outcome = runner._process(BulkJob.objects.select_related("created_by").get(pk=job.pk), item)

    assert outcome.state == BulkJobItem.State.DONE and outcome.entry_id is not None
    assert kept_when_sent == [(outcome.entry_id, Pending)]


@pytest.mark.parametrize("in_flight", [True, False])
def test_cancel_stops_a_job_no_worker_runs_at_once_unless_an_item_is_in_flight(
    merchant_user: User, make_records, new_order_number, in_flight: bool
) -> None:
    """The check for an item in flight is part of the cancel's UPDATE (a read first, then a write, fails
    on SQLite when a worker wrote in between): an item in flight leaves the job to its worker, which checks
    it at the upstream; with none the job is cancelled here and its pending items with it."""
    number = new_order_number()
    make_records(number, [3])
    job, item = _item_in_flight(merchant_user, number)
    if not in_flight:
        BulkJobItem.objects.filter(pk=item.pk).update(state=BulkJobItem.State.PENDING, sent_at=None)
    BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.RUNNING)

    cancelled = services.job_cancel(actor=merchant_user, job_id=job.pk)

    assert cancelled.cancel_requested_at is not None
    if in_flight:
        assert cancelled.state == BulkJob.State.RUNNING
        assert job.items.get(pk=item.pk).state == BulkJobItem.State.IN_FLIGHT
    else:
        assert cancelled.state == BulkJob.State.CANCELLED
        assert set(job.items.values_list("state", flat=True)) == {BulkJobItem.State.CANCELLED}
