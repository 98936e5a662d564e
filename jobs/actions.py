"""Each item's write, made through the app that owns it (never reimplemented here), and the check of an
item found in flight (its worker stopped after sending): verified at the upstream, never sent blindly.

- a count change: downloads.edits.download_record_count_set (write-ahead audited, under the
  record's lock, refusing when the count is no longer the one the dry run saw);
- a resend: orders.resend.order_resend_email;
- an undo: audit.undo.audit_undo of the item's own audit entry (once, refusing when changed since).

The item keeps the audit entry its write opens, before the write is sent (keep_entry). An item found in
flight is checked with the owning app's own read-back, the one a person's unclear write gets
(downloads.readback.patch_check, orders.resend.resend_check), and closes exactly that entry
(audit.services.audited_recover).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.models import AuditEntry
from audit.services import AuditUnavailable, audited_recover
from audit.undo import CannotUndo, UndoInProgress, audit_undo
from downloads import edits, readback
from downloads.services import EditConflict
from fileflare_admin.api import errors, fileflare
from fileflare_admin.api.cache import LockBusy
from jobs import notes
from jobs.models import BulkJob, BulkJobItem
from orders import resend
from orders.identity import order_id_for_number
from orders_index.services import order_index_note
from staff import roles

State = BulkJobItem.State
# Verdicts the upstream gave on its own: the item ends with the sentence. Anything else is unclear.
FINAL = (errors.NotFound, errors.ValidationFailed, errors.NotConfigured, errors.PlanLimit, roles.NotAllowed)
NOT_SENT = (AuditUnavailable, LockBusy, errors.RateLimited)


@dataclass(frozen=True)
class Outcome:
    """How an item ended: its state and its note (jobs.notes: said in the reader's language)."""

    state: str
    said: dict[str, Any]
    entry_id: int | None = None

    @property
    def note(self) -> str:
        """The note in English (the item's `note`)."""
        return notes.english(self.said)


class Retry(Exception):
    """The upstream did not answer clearly (or not at all): try the item again after `wait` seconds.
    `sent`: the write may have gone out, so the next try verifies first. `said`: why (jobs.notes)."""

    def __init__(self, said: dict[str, Any], *, sent: bool, wait: float | None = None) -> None:
        self.message = notes.english(said)
        super().__init__(self.message)
        self.said, self.sent, self.wait = said, sent, wait


def _retry(failure: Exception, *, sent: bool) -> Retry:
    message = getattr(failure, "user_message", "")
    said = notes.text(message) if message else notes.note("unclear")
    wait = float(failure.retry_after) if isinstance(failure, errors.RateLimited) else None
    return Retry(said, sent=sent and not isinstance(failure, NOT_SENT), wait=wait)


def job_reason(job: BulkJob) -> str:
    """The reason every audit entry of the job carries, naming the job."""
    if job.undo_of_id:
        return f"{job.reason} (undo of bulk fix #{job.undo_of_id}; bulk fix #{job.pk})"
    return f"{job.reason} (bulk fix #{job.pk})"


def _send_time() -> timedelta:
    """The longest a write can still be arriving upstream after it was sent (timeouts and retries)."""
    attempts = 1 + max(settings.UPSTREAM_RETRIES, 0)
    return timedelta(seconds=(settings.UPSTREAM_CONNECT_TIMEOUT + settings.UPSTREAM_READ_TIMEOUT) * attempts)


def keep_entry(item: BulkJobItem) -> Callable[[AuditEntry], None]:
    """What the item's write does as its audit entry is written (audit.services.audit_job): the item
    keeps it before anything is sent, so a check after its worker stopped closes exactly that entry."""

    def keep(entry: AuditEntry) -> None:
        BulkJobItem.objects.filter(pk=item.pk).update(audit_entry=entry)
        item.audit_entry = entry

    return keep


def _close_left_pending(item: BulkJobItem, *, saved: bool) -> int | None:
    """The item's own write-ahead entry, if its stopped worker left it pending: closed with what the
    check found. Returns the entry when the write was saved."""
    if item.audit_entry_id is None:  # the worker stopped before the entry was written: nothing was sent
        return None
    audited_recover(
        entry_id=item.audit_entry_id,
        saved=saved,
        # Kept in English and translated where the log shows them; the entry's reason names the job.
        verified=gettext_noop("checked at the API after its worker stopped"),
        error=gettext_noop("Not saved: the worker stopped before the write reached the API."),
    )
    return item.audit_entry_id if saved else None


# --- Download counts -----------------------------------------------------------------------------


def count_set(job: BulkJob, item: BulkJobItem, *, count: int, expected: int, undo: bool = False) -> Outcome:
    assert job.created_by is not None  # a job whose person is gone is stopped before any item (jobs.runner)
    action = edits.COUNT_REVERT if undo else edits.COUNT
    try:
        written = edits.download_record_count_set(
            actor=job.created_by,
            download_id=item.download_id,
            count=count,
            expected=expected,
            reason=job_reason(job),
            order_number=item.order_number,
            action=action,
        )
    except EditConflict as conflict:
        now = conflict.current.download_count
        return Outcome(State.SKIPPED, notes.note("changed_since_dry_run", count=now))
    except FINAL as refused:
        return Outcome(State.FAILED, notes.text(refused.user_message))
    except (errors.ApiError, AuditUnavailable, LockBusy) as unclear:
        raise _retry(unclear, sent=True) from unclear
    said = notes.note("set_checked" if written.checked else "set", count=count)
    return Outcome(State.DONE, said, written.entry.pk if written.entry else None)


def count_verify(item: BulkJobItem, *, count: int, expected: int) -> Outcome | None:
    """An item found in flight: what the record holds now (downloads.readback, as for a person's
    write). None when the write did not happen (send it)."""
    try:
        check = readback.patch_check(
            item.download_id, changes={"download_count": count}, before={"download_count": expected}
        )
    except errors.NotFound:
        return Outcome(State.FAILED, notes.note("record_gone"))
    except errors.ApiError as unclear:
        raise _retry(unclear, sent=True) from unclear
    if check.saved:
        entry_id = _close_left_pending(item, saved=True)
        return Outcome(State.DONE, notes.note("set_verified", count=count), entry_id)
    if check.not_saved:
        _close_left_pending(item, saved=False)
        return None
    return Outcome(State.SKIPPED, notes.note("changed_meanwhile", count=check.record.download_count))


# --- Resends -------------------------------------------------------------------------------------


def order_id_of(item: BulkJobItem) -> str:
    """The order's Fileflare ID: from the dry run, else orders.identity's (the index, an earlier answer,
    or one list request); "" when Fileflare has no one order with the number."""
    if not item.order_id:
        try:
            found = order_id_for_number(int(item.order_number or 0))
        except errors.ApiError as unclear:
            raise _retry(unclear, sent=False) from unclear
        item.order_id = found or ""
        item.save(update_fields=["order_id"])
    return item.order_id


def _email_moved(item: BulkJobItem, sent_at: datetime | None) -> bool:
    return item.email_known and sent_at != item.email_sent_before


def resend_send(job: BulkJob, item: BulkJobItem) -> Outcome:
    person = job.created_by
    assert person is not None  # a job whose person is gone is stopped before any item (jobs.runner)
    if not order_id_of(item):
        return Outcome(State.FAILED, notes.note("no_such_order", number=str(item.order_number)))
    try:
        current = fileflare.order_get(order_id=item.order_id, fresh=True).value
        if _email_moved(item, current.email_sent_at):
            sent_at = current.email_sent_at
            return Outcome(
                State.SKIPPED,
                notes.note("sent_elsewhere", when=notes.moment(sent_at, seconds=True))
                if sent_at
                else notes.note("changed_not_sent"),
            )
        # The e-mail time just before the send: what the check after a stopped worker compares with.
        item.email_sent_before, item.email_known = current.email_sent_at, True
        item.sent_at = timezone.now()
        item.save(update_fields=["email_sent_before", "email_known", "sent_at"])
        # No one-time token: a retry happens only after the check below says the e-mail did not go.
        resent = resend.order_resend_email(
            actor=person, order_id=item.order_id, reason=job_reason(job)
        )
    except FINAL as refused:
        return Outcome(State.FAILED, notes.text(refused.user_message))
    except (errors.ApiError, AuditUnavailable, LockBusy) as unclear:
        raise _retry(unclear, sent=True) from unclear
    order_index_note(resent.order)
    when = notes.moment(resent.order.email_sent_at or timezone.now())
    said = notes.note("sent_checked" if resent.checked else "sent", when=when)
    return Outcome(State.DONE, said, resent.entry.pk)


def resend_verify(item: BulkJobItem) -> Outcome | None:
    """An order found in flight: sent (its e-mail time moved past the one read before the send:
    orders.resend's read-back, as for a person's resend) or not. Waits until an answer can tell."""
    if not item.order_id or item.sent_at is None or not item.email_known:
        return None  # resend_send keeps the e-mail time it compares with before it sends: nothing went
    settled = item.sent_at + _send_time()  # after this, a request sent then can no longer land
    if timezone.now() < settled:
        wait = (settled - timezone.now()).total_seconds() + 1
        raise Retry(notes.note("waiting_to_check"), sent=True, wait=wait)
    try:
        order, went_out = resend.resend_check(order_id=item.order_id, sent_before=item.email_sent_before)
    except errors.ApiError as unclear:
        raise _retry(unclear, sent=True) from unclear
    if went_out:
        order_index_note(order)
        entry_id = _close_left_pending(item, saved=True)
        return Outcome(State.DONE, notes.note("sent_verified"), entry_id)
    _close_left_pending(item, saved=False)
    return None


# --- Undo of an earlier job's item ---------------------------------------------------------------


def undo_send(job: BulkJob, item: BulkJobItem) -> Outcome:
    original = item.undo_of
    assert original is not None and original.count_before is not None and original.count_after is not None
    entry = original.audit_entry
    if entry is None or entry.outcome != AuditEntry.Outcome.SUCCESS:
        return count_set(job, item, count=original.count_before, expected=original.count_after, undo=True)
    try:
        undone = audit_undo(actor=job.created_by, entry_id=entry.pk, reason=job_reason(job))
    except UndoInProgress as busy:
        raise Retry(notes.text(busy.user_message), sent=False, wait=60) from busy
    except CannotUndo as cannot:
        return Outcome(State.SKIPPED, notes.text(cannot.user_message))
    except FINAL as refused:
        return Outcome(State.FAILED, notes.text(refused.user_message))
    except (errors.ApiError, AuditUnavailable, LockBusy) as unclear:
        raise _retry(unclear, sent=True) from unclear
    return Outcome(State.DONE, notes.text(undone.message), undone.entry.pk)
