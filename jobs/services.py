"""Bulk fixes, as the pages use them: plan (the dry run), run, follow, cancel, download, undo.

Merchant only, checked here on every call. The work itself runs in the task worker (jobs.runner); a web
request only reads and writes rows and queues steps, never waits on the upstream for a job.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from background import chain
from fileflare_admin.numbers import grouped
from fileflare_admin.sentences import UserFacingError
from fileflare_admin.spreadsheet import csv_lines
from jobs import notes, pace, tasks
from jobs.models import BulkJob, BulkJobItem
from jobs.plan import PlanSummary, job_plan_create, plan_summary
from jobs.selection import Selection
from staff import roles

__all__ = ["PlanSummary", "Selection", "job_plan_create", "plan_summary"]

Item = BulkJobItem.State
ITEMS_PER_PAGE = 100


class JobRefused(UserFacingError):
    """The job cannot do that now (run twice, undo a job still running…); nothing changed."""


def job_get(*, actor: roles.AnyUser, job_id: int) -> BulkJob:
    """BulkJob.DoesNotExist when there is none."""
    roles.require(actor, "run_bulk_fixes")
    return BulkJob.objects.select_related("undo_of").get(pk=job_id)


@dataclass(frozen=True)
class JobRow:
    """A job in the list, with where it stands counted as its own page counts it (job_progress)."""

    job: BulkJob
    progress: JobProgress


def job_list(*, actor: roles.AnyUser, limit: int = 50) -> list[JobRow]:
    roles.require(actor, "run_bulk_fixes")
    jobs = list(BulkJob.objects.order_by("-created_at", "-pk")[:limit])
    counts: dict[int, dict[str, int]] = {job.pk: {} for job in jobs}
    rows = BulkJobItem.objects.filter(job__in=jobs).values_list("job_id", "state").annotate(n=Count("pk"))
    for job_id, state, n in rows.values_list("job_id", "state", "n"):
        counts[job_id][state] = n
    return [JobRow(job=job, progress=_progress(job, counts[job.pk], timed=False)) for job in jobs]


def job_plan(
    *, actor: User, selection: Selection, kind: str, amount: int | None, reason: str
) -> BulkJob:
    """The dry run, kept as a draft job. Raises NotAllowed, SelectionError and the API's errors."""
    roles.require(actor, "run_bulk_fixes")
    return job_plan_create(actor=actor, selection=selection, kind=kind, amount=amount, reason=reason)


def _start(job: BulkJob) -> None:
    chain.chain_start(BulkJob.objects.filter(pk=job.pk), enqueue=tasks.enqueuer(job.pk), force=True)


def job_run(*, actor: roles.AnyUser, job_id: int) -> BulkJob:
    """Queue a dry run's job for the worker: exactly the items the dry run listed."""
    job = job_get(actor=actor, job_id=job_id)
    with transaction.atomic():
        draft = BulkJob.objects.filter(pk=job.pk, state=BulkJob.State.DRAFT)
        if not draft.update(state=BulkJob.State.QUEUED):
            state = str(job.get_state_display()).lower()
            started = _("Bulk fix #%(number)s was already started (%(state)s).")
            raise JobRefused(started % {"number": job.pk, "state": state})
        job.refresh_from_db()
        _start(job)
    return job


def job_cancel(*, actor: roles.AnyUser, job_id: int) -> BulkJob:
    """Stop before the next item. A job no worker is running stops at once; one being run stops after
    its current item (an item in flight is checked at the upstream, never left unknown)."""
    job = job_get(actor=actor, job_id=job_id)
    name = actor.get_username() if actor.is_authenticated else "system"
    now = timezone.now()
    if job.state == BulkJob.State.DRAFT:
        BulkJob.objects.filter(pk=job.pk, state=BulkJob.State.DRAFT).update(
            state=BulkJob.State.CANCELLED, cancel_requested_at=now, cancelled_by_name=name, finished_at=now
        )
    elif job.active:
        BulkJob.objects.filter(pk=job.pk, cancel_requested_at__isnull=True).update(
            cancel_requested_at=now, cancelled_by_name=name
        )
        _cancel_now_if_idle(job, now)
    job.refresh_from_db()
    return job


def _cancel_now_if_idle(job: BulkJob, now: datetime) -> None:
    """No step is running and nothing is in flight: cancel here rather than wait for a worker. The check
    is part of the UPDATE itself: on SQLite a transaction that reads before it writes fails at once
    ("database is locked") when a worker wrote in between, whatever the busy timeout."""
    in_flight = BulkJobItem.objects.filter(job=OuterRef("pk"), state=Item.IN_FLIGHT)
    with transaction.atomic():
        idle = chain.chain_idle(BulkJob.objects.filter(pk=job.pk, state__in=BulkJob.ACTIVE))
        cancelled = idle.filter(~Exists(in_flight)).update(
            state=BulkJob.State.CANCELLED, finished_at=now, step_token="", waiting_until=None
        )
        if cancelled:
            said = notes.note("not_run")
            job.items.filter(state=Item.PENDING).update(
                state=Item.CANCELLED, note=notes.english(said), said=said, finished_at=now
            )


def jobs_resume() -> int:
    """Queue a step for every running job whose step was lost (a worker that stopped mid-step): the task
    worker's keeper (registered in JobsConfig.ready, see background.keepers), never a page view."""
    resumed = 0
    for job in BulkJob.objects.filter(state__in=BulkJob.ACTIVE):
        resumed += chain.chain_start(
            BulkJob.objects.filter(pk=job.pk, state__in=BulkJob.ACTIVE), enqueue=tasks.enqueuer(job.pk)
        )
    return resumed


# --- Following a job -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobProgress:
    total: int
    done: int
    failed: int
    skipped: int
    cancelled: int
    remaining: int
    seconds_left: int | None
    waiting_until: datetime | None
    finished: bool

    @property
    def processed(self) -> int:
        return self.total - self.remaining

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.processed / self.total)

    @property
    def time_left_text(self) -> str:
        if self.finished or self.seconds_left is None:
            return ""
        if self.seconds_left < 60:
            return _("less than a minute left")
        minutes = round(self.seconds_left / 60)
        return ngettext("about %(count)s minute left", "about %(count)s minutes left", minutes) % {
            "count": grouped(minutes)
        }


def job_progress(job: BulkJob) -> JobProgress:
    """Where the job stands: the one count its page, its progress bar and the jobs list all show."""
    counts = dict(job.items.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    return _progress(job, counts, timed=True)


def _progress(job: BulkJob, counts: dict[str, int], *, timed: bool) -> JobProgress:
    """`counts`: the job's items by state. `timed`: estimate the time left (one more query)."""
    remaining = counts.get(Item.PENDING, 0) + counts.get(Item.IN_FLIGHT, 0)
    return JobProgress(
        total=sum(counts.values()),
        done=counts.get(Item.DONE, 0),
        failed=counts.get(Item.FAILED, 0),
        skipped=counts.get(Item.SKIPPED, 0),
        cancelled=counts.get(Item.CANCELLED, 0),
        remaining=remaining,
        seconds_left=_seconds_left(job, remaining) if timed else None,
        waiting_until=job.waiting_until if job.waiting_until and job.waiting_until > timezone.now() else None,
        finished=job.finished,
    )


def _seconds_left(job: BulkJob, remaining: int) -> int | None:
    """The budget's pace, or the pace seen so far when the upstream is slower than that."""
    if not remaining or job.finished:
        return None
    by_budget = pace.seconds_for(items=remaining, cost=pace.cost_of(job.kind))
    finished = job.items.filter(finished_at__isnull=False, sent_at__isnull=False)
    sent = finished.count()
    if job.started_at and sent >= 5:
        elapsed = (timezone.now() - job.started_at).total_seconds()
        return max(by_budget, round(elapsed / sent * remaining))
    return by_budget


def job_items(job: BulkJob, *, page: int = 1, state: str = "") -> Page[BulkJobItem]:
    items = job.items.select_related("audit_entry").order_by("position")
    if state in Item.values:
        items = items.filter(state=state)
    return Paginator(items, ITEMS_PER_PAGE).get_page(page)


@dataclass(frozen=True)
class JobPage:
    """A job's page: its dry run (while a draft), where it stands (as its progress bar shows it too), and
    one page of its items."""

    plan: PlanSummary | None
    progress: JobProgress
    stalled_since: datetime | None
    undo_refusal: str
    items: Page[BulkJobItem]
    item_state: str  # the items shown are in this state; "" for every item


def job_page(job: BulkJob, *, page: int = 1, state: str = "") -> JobPage:
    return JobPage(
        plan=plan_summary(job) if job.state == BulkJob.State.DRAFT else None,
        progress=job_progress(job),
        stalled_since=stalled_since(job),
        undo_refusal=undo_refusal(job),
        items=job_items(job, page=page, state=state),
        item_state=state,
    )


# --- The result as CSV ---------------------------------------------------------------------------

# The result's columns, named in the downloader's language (English keeps the names scripts read; the cells
# stay as the API writes them).
CSV_HEADER = [
    pgettext_lazy("CSV column", "position"),
    pgettext_lazy("CSV column", "order_number"),
    pgettext_lazy("CSV column", "download_id"),
    pgettext_lazy("CSV column", "file_name"),
    pgettext_lazy("CSV column", "product_id"),
    pgettext_lazy("CSV column", "count_before"),
    pgettext_lazy("CSV column", "count_after"),
    pgettext_lazy("CSV column", "order_id"),
    pgettext_lazy("CSV column", "email_sent_before"),
    pgettext_lazy("CSV column", "outcome"),
    pgettext_lazy("CSV column", "note"),
    pgettext_lazy("CSV column", "finished_at"),
    pgettext_lazy("CSV column", "audit_entry"),
]


def _csv_row(item: BulkJobItem) -> list[object]:
    return [
        item.position,
        item.order_number,
        item.download_id,
        item.file_name,
        item.product_id,
        item.count_before,
        item.count_after,
        item.order_id,
        item.email_sent_before.isoformat() if item.email_sent_before else "",
        str(item.get_state_display()),
        item.note_text,
        item.finished_at.isoformat() if item.finished_at else "",
        item.audit_entry_id or "",
    ]


def job_csv(job: BulkJob) -> Iterator[str]:
    """The job's items as CSV lines (header first), for a streaming download; no cell runs as a formula.
    Its words (the header, each outcome and note) are in the language active when this is called, though
    the lines are made later, as the response streams."""
    language = translation.get_language()
    items = job.items.order_by("position").iterator(chunk_size=500)

    def lines() -> Iterator[str]:
        with translation.override(language):
            header = [str(name) for name in CSV_HEADER]
            yield from csv_lines(itertools.chain([header], (_csv_row(item) for item in items)))

    return lines()


# --- Undo of a whole job -------------------------------------------------------------------------


def undo_refusal(job: BulkJob) -> str:
    """Why this job cannot be undone, or "" when it can."""
    if job.kind in (BulkJob.Kind.EMAIL_RESEND, BulkJob.Kind.UNDO):
        if job.is_email:
            return _("An e-mail cannot be unsent.")
        return _("An undo is undone by running the fix again.")
    if not job.finished:
        return _("Undo is possible once the job has finished or been cancelled.")
    if job.undone_by.exclude(state=BulkJob.State.CANCELLED).exists():
        return _("This job was already undone (see the undo job below).")
    if not job.items.filter(state=Item.DONE).exists():
        return _("Nothing to undo: no item of this job was changed.")
    return ""


def job_undo(*, actor: User, job_id: int, reason: str) -> BulkJob:
    """A new job that sets every changed item back, each only if nobody changed it since (checked just
    before its write), queued at once. Raises JobRefused."""
    job = job_get(actor=actor, job_id=job_id)
    with transaction.atomic():
        # One undo at a time, on both engines: a write as the transaction's first statement locks the
        # job's row (PostgreSQL) or the database (SQLite, which has no row locks and, had the transaction
        # read first, could not take the write lock later while a worker wrote: "database is locked").
        BulkJob.objects.filter(pk=job.pk).update(state=F("state"))
        refusal = undo_refusal(job)
        if refusal:
            raise JobRefused(refusal)
        undo = BulkJob.objects.create(
            kind=BulkJob.Kind.UNDO,
            reason=reason.strip() or _("Undo of bulk fix #%(number)s") % {"number": job.pk},
            selection=job.selection,
            state=BulkJob.State.QUEUED,
            created_by=actor,
            created_by_name=actor.get_username(),
            undo_of=job,
        )
        BulkJobItem.objects.bulk_create(
            [
                BulkJobItem(
                    job=undo,
                    position=position,
                    download_id=item.download_id,
                    order_number=item.order_number,
                    file_name=item.file_name,
                    product_id=item.product_id,
                    count_before=item.count_after,
                    count_after=item.count_before,
                    undo_of=item,
                )
                for position, item in enumerate(
                    job.items.filter(state=Item.DONE).order_by("position"), start=1
                )
            ],
            batch_size=500,
        )
        _start(undo)
    return undo


def stalled_since(job: BulkJob) -> datetime | None:
    """Since when a running job has had no worker: its step was due and none took it (no worker
    running?), or the worker that took it stopped mid-step (its lease ran out). Else None."""
    now = timezone.now()
    due, lease = job.step_due_at, job.lease_until
    if not job.active or (lease is not None and lease >= now):
        return None
    if due is None:
        return lease  # taken by a worker that stopped
    return due if due < now - timedelta(seconds=30) else None
