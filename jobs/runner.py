"""Running a bulk job: one short step at a time (see background.chain), item after item.

Before each item the job takes its requests from the budget shares (jobs.pace); when they say wait, the
step ends and the next is queued for then, so the worker is free meanwhile. Each item is marked in flight
before its write is sent; an item found in flight (its worker stopped, or the answer was unclear) is
verified at the upstream first and sent again only when the check shows it did not happen. Cancel stops
before the next item; an item in flight is verified, never abandoned unknown.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from audit.services import audit_job
from background import chain
from jobs import actions, notes, pace
from jobs.actions import Outcome, Retry
from jobs.models import BulkJob, BulkJobItem
from staff import roles

logger = logging.getLogger(__name__)

STEP_SECONDS = 5.0  # a step hands over after this long, so a worker asked to stop is free soon
MAX_BACKOFF = 300.0
Item = BulkJobItem.State


def _rows(job_id: int) -> QuerySet[BulkJob]:
    return BulkJob.objects.filter(pk=job_id, state__in=BulkJob.ACTIVE)


def run_step(job_id: int, token: str, *, enqueue: chain.Enqueue) -> None:
    rows = _rows(job_id)
    if not chain.chain_claim(rows, token):
        return
    now = timezone.now()
    rows.filter(state=BulkJob.State.QUEUED).update(state=BulkJob.State.RUNNING, started_at=now)
    job = BulkJob.objects.select_related("created_by").get(pk=job_id)
    try:
        with chain.lease_kept(rows, token):
            delay = _work(job, token)
    except Exception:
        logger.exception("bulk fix #%s: a step stopped unexpectedly", job_id)
        delay = MAX_BACKOFF
        _stopped(job_id, notes.note("step_failed"))
    if delay is None:
        chain.chain_end(BulkJob.objects.filter(pk=job_id), token)
    else:
        chain.chain_next(rows, token, due=timezone.now() + timedelta(seconds=delay), enqueue=enqueue)


def next_item(job: BulkJob) -> BulkJobItem | None:
    """An item in flight first (it must be verified), then the first waiting one."""
    return (
        job.items.filter(state__in=BulkJobItem.OPEN)
        .annotate(
            first=Case(
                When(state=Item.IN_FLIGHT, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .select_related("undo_of__audit_entry")
        .order_by("first", "position")
        .first()
    )


def _work(job: BulkJob, token: str) -> float | None:
    """Items until the step's time is up. Returns the seconds until the next step, None when finished."""
    started = time.monotonic()
    cost = pace.cost_of(job.kind)
    while time.monotonic() - started < STEP_SECONDS:
        job.refresh_from_db(fields=["cancel_requested_at", "step_token"])
        if job.step_token != token:
            return chain.GRACE.total_seconds()  # superseded: the hand-over fails, the other step goes on
        item = next_item(job)
        if item is None:
            _finish(job, BulkJob.State.DONE)
            return None
        if job.cancel_requested_at and item.state == Item.PENDING:
            _finish(job, BulkJob.State.CANCELLED)
            return None
        if _refused(job):
            said = notes.note("no_longer_allowed")
            BulkJob.objects.filter(pk=job.pk).update(
                cancel_requested_at=timezone.now(), last_error=notes.english(said), error_said=said
            )
            continue
        wait = pace.take(cost)
        if wait is not None:
            BulkJob.objects.filter(pk=job.pk).update(waiting_until=timezone.now() + timedelta(seconds=wait))
            return float(wait)
        try:
            outcome = _process(job, item)
        except Retry as retry:
            return _retry_later(job, item, retry)
        _record(job, item, outcome)
        if not chain.chain_renew(_rows(job.pk), token):
            return chain.GRACE.total_seconds()
    return 0.0


def _refused(job: BulkJob) -> bool:
    """Whether the job must stop: the person who runs it may no longer run bulk fixes."""
    person = job.created_by
    return person is None or not roles.allows(person, "run_bulk_fixes")


def _stopped(job_id: int, said: dict[str, Any]) -> None:
    BulkJob.objects.filter(pk=job_id).update(last_error=notes.english(said), error_said=said)


def _process(job: BulkJob, item: BulkJobItem) -> Outcome:
    if item.state == Item.IN_FLIGHT and item.sent_at is not None:
        verified = _verify(job, item)
        if verified is not None:
            return verified
        if job.cancel_requested_at:
            return Outcome(Item.CANCELLED, notes.note("not_sent_cancelled"))
    item.state, item.sent_at = Item.IN_FLIGHT, timezone.now()
    item.save(update_fields=["state", "sent_at"])
    # The item's audit entry names this job (the audit log filters by it); the item keeps that entry.
    with audit_job(job.pk, on_open=actions.keep_entry(item)):
        return _send(job, item)


def _verify(job: BulkJob, item: BulkJobItem) -> Outcome | None:
    if job.kind == BulkJob.Kind.EMAIL_RESEND:
        return actions.resend_verify(item)
    if job.kind == BulkJob.Kind.UNDO:
        original = item.undo_of
        assert original is not None and original.count_before is not None and original.count_after is not None
        return actions.count_verify(item, count=original.count_before, expected=original.count_after)
    assert item.count_after is not None and item.count_before is not None
    return actions.count_verify(item, count=item.count_after, expected=item.count_before)


def _send(job: BulkJob, item: BulkJobItem) -> Outcome:
    if job.kind == BulkJob.Kind.EMAIL_RESEND:
        return actions.resend_send(job, item)
    if job.kind == BulkJob.Kind.UNDO:
        return actions.undo_send(job, item)
    assert item.count_after is not None and item.count_before is not None
    return actions.count_set(job, item, count=item.count_after, expected=item.count_before)


def _record(job: BulkJob, item: BulkJobItem, outcome: Outcome) -> None:
    item.state, item.note, item.said = outcome.state, outcome.note, outcome.said
    item.finished_at, item.audit_entry_id = timezone.now(), outcome.entry_id
    item.save(update_fields=["state", "note", "said", "finished_at", "audit_entry"])
    BulkJob.objects.filter(pk=job.pk).update(failures=0, last_error="", error_said={}, waiting_until=None)


def _retry_later(job: BulkJob, item: BulkJobItem, retry: Retry) -> float:
    if not retry.sent:
        BulkJobItem.objects.filter(pk=item.pk, state=Item.IN_FLIGHT).update(state=Item.PENDING)
    failures = job.failures + 1
    delay = retry.wait if retry.wait is not None else min(2.0 * 2 ** min(failures, 8), MAX_BACKOFF)
    BulkJob.objects.filter(pk=job.pk).update(
        failures=failures,
        last_error=retry.message,
        error_said=retry.said,
        waiting_until=timezone.now() + timedelta(seconds=delay),
    )
    logger.info("bulk fix #%s: item %s waits %.0fs: %s", job.pk, item.position, delay, retry.message)
    return delay


def _finish(job: BulkJob, state: str) -> None:
    now = timezone.now()
    if state == BulkJob.State.CANCELLED:
        said = notes.note("not_run")
        job.items.filter(state=Item.PENDING).update(
            state=Item.CANCELLED, note=notes.english(said), said=said, finished_at=now
        )
    BulkJob.objects.filter(pk=job.pk).update(state=state, finished_at=now, waiting_until=None)
    logger.info("bulk fix #%s %s", job.pk, state)
