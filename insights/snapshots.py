"""Snapshots of every download record's count, in the background, storing only changes (downloads.history).

The Reports page reads counts over time from the dashboard's own database, never from the downloads API:
this chain fills it. Two passes, each at a steady pace:
- the full pass reads every record, oldest first (`sortby=date_created`, so records created meanwhile
  come at the end), PAGE_SIZE a request, every SNAPSHOT_FULL_EVERY_SECONDS (a day);
- the recent pass, every SNAPSHOT_RECENT_EVERY_SECONDS (an hour), reads the newest records back to
  SNAPSHOT_RECENT_HOURS (48), then one by one the orders the order index says were e-mailed within those
  hours whose records are older (a resend of an old order: its link scanner is what we look for).
Each page's counts go to `downloads.history.note_counts` (source "snapshot"): a row only where a count
changed. Pages staff open note their counts too, at no call (downloads.history.note_seen).

Pacing (as the order sync and bulk fixes do): before each request the shared budget must have room
outside the slots kept for staff (background.pacing.headroom_wait), then the request takes a slot of
BULK_DOWNLOADS_BUDGET_PER_MINUTE (background.shares.BULK_DOWNLOADS, shared with bulk fixes); when either
says wait, the next step is queued for then. A step stops after STEP_SECONDS. A setting of 0 turns its
pass off. Only the worker starts the chain (its keeper); no page view does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from background import chain, pacing, shares
from downloads.history import forget_unseen, note_counts
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api.errors import NotConfigured, Unavailable
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE
from fileflare_admin.numbers import grouped
from insights.models import CountSnapshots
from orders_index.models import IndexedOrder

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # records a request: WordPress's REST API caps `per_page` at 100 on its own routes
STEP_SECONDS = 5.0  # a step stops after this long, so a worker asked to stop is free soon
MAX_BACKOFF = 600
RECENT_ORDERS_MOST = 500  # orders read one by one in a recent pass, at most (the newest e-mailed first)


def _every(name: str) -> timedelta | None:
    seconds = int(getattr(settings, name))
    return timedelta(seconds=seconds) if seconds > 0 else None


def full_every() -> timedelta | None:
    return _every("SNAPSHOT_FULL_EVERY_SECONDS")


def recent_every() -> timedelta | None:
    return _every("SNAPSHOT_RECENT_EVERY_SECONDS")


def recent_since(now: datetime) -> datetime:
    return now - timedelta(hours=settings.SNAPSHOT_RECENT_HOURS)


def snapshots_row(api: str) -> CountSnapshots:
    return CountSnapshots.objects.get_or_create(api=api)[0]


@dataclass(frozen=True)
class Read:
    kind: Literal["full", "newest", "order"]
    page: int = 0
    order_number: int = 0


def _due(started: datetime | None, every: timedelta | None, now: datetime) -> bool:
    return every is not None and (started is None or now - started >= every)


def start_passes_if_due(state: CountSnapshots, now: datetime) -> None:
    """Start the full pass and the recent pass each when its time has come (and it is not under way)."""
    changed = []
    if state.full_page == 0 and _due(state.full_started_at, full_every(), now):
        state.full_before_started_at = state.full_started_at
        state.full_page, state.full_started_at, state.full_records = 1, now, 0
        changed += ["full_page", "full_started_at", "full_before_started_at", "full_records"]
    recent_idle = state.recent_page == 0 and not state.recent_orders
    if recent_idle and _due(state.recent_started_at, recent_every(), now):
        state.recent_page, state.recent_started_at, state.recent_records = 1, now, 0
        changed += ["recent_page", "recent_started_at", "recent_records"]
    if changed:
        state.save(update_fields=changed)


def next_read(state: CountSnapshots) -> Read | None:
    """The recent pass goes first (it is the short one); None when no pass is under way."""
    if state.recent_page:
        return Read("newest", page=state.recent_page)
    if state.recent_orders:
        return Read("order", order_number=int(state.recent_orders[0]))
    if state.full_page:
        return Read("full", page=state.full_page)
    return None


def seconds_until_due(state: CountSnapshots, now: datetime) -> float:
    """Nothing under way: until the next pass is due (an hour when both are off: the keeper checks)."""
    waits = [
        (started + every - now).total_seconds() if started else 0.0
        for started, every in (
            (state.full_started_at, full_every()),
            (state.recent_started_at, recent_every()),
        )
        if every is not None
    ]
    return max(min(waits, default=3600.0), 1.0)


def _recent_orders(now: datetime) -> list[int]:
    """Orders e-mailed within SNAPSHOT_RECENT_HOURS that were ordered before it (their records are older
    than the newest walk reached), newest e-mail first, as the order index knows them."""
    try:
        shop = FILEFLARE.identity()
    except NotConfigured:
        return []
    since = recent_since(now)
    rows = IndexedOrder.objects.filter(shop=shop, email_sent_at__gte=since).filter(
        Q(ordered_at__lt=since) | Q(ordered_at__isnull=True)
    )
    numbers = rows.order_by("-email_sent_at").values_list("order_number", flat=True)[:RECENT_ORDERS_MOST]
    return list(dict.fromkeys(numbers))


def unseen_since(state: CountSnapshots) -> datetime:
    """A full pass that finished forgets the records seen by nothing since the pass before it began (or,
    after the first pass, a full period before it began). Not since this pass began: a record deleted
    during the pass moves every later record up a place, and the one pushed onto a page already read is
    missed by this pass, not deleted; the next pass sees it (a pass reads every page once, oldest first:
    sortby=date_created)."""
    started = state.full_started_at or timezone.now()
    return state.full_before_started_at or started - (full_every() or timedelta(0))


def read_once(state: CountSnapshots, read: Read) -> None:
    """One list request past the read cache, its counts noted; the pass moves on. Raises ApiError."""
    now = timezone.now()
    if read.kind == "order":
        fetched = downloads_api.record_list(
            page=1, per_page=PAGE_SIZE, sortby="date_created", search=str(read.order_number), fresh=True
        )
    else:
        fetched = downloads_api.record_list(
            page=read.page,
            per_page=PAGE_SIZE,
            sortby="date_created",
            sortdir="DESC" if read.kind == "newest" else "ASC",
            fresh=True,
        )
    state.calls += 1
    if fetched.stale:
        raise Unavailable(_("The downloads API did not answer the snapshot in time; it will try again."))
    listed = fetched.value
    items = [r for r in listed.items if read.kind != "order" or r.order_id == read.order_number]
    state.changes += note_counts(items, seen_at=fetched.fetched_at, source="snapshot")
    last = len(listed.items) < PAGE_SIZE or (listed.last_page is not None and read.page >= listed.last_page)
    if read.kind == "full":
        state.full_records += len(items)
        state.full_page = 0 if last else state.full_page + 1
        if last:
            state.full_finished_at = now
            if state.full_records and state.full_started_at:  # an empty answer proves nothing was deleted
                forget_unseen(since=unseen_since(state))
    elif read.kind == "newest":
        state.recent_records += len(items)
        since = recent_since(state.recent_started_at or now)
        oldest = min((r.date_created for r in items if r.date_created is not None), default=None)
        if last or oldest is None or oldest < since:
            state.recent_page, state.recent_orders = 0, _recent_orders(state.recent_started_at or now)
        else:
            state.recent_page += 1
    else:
        state.recent_records += len(items)
        state.recent_orders = state.recent_orders[1:]
    if read.kind != "full" and not state.recent_page and not state.recent_orders:
        state.recent_finished_at = now
    state.failures, state.last_error = 0, ""
    state.save()


def run_step(token: str, *, enqueue: chain.Enqueue) -> None:
    """One step of the chain: read while a pass is under way and the budget allows, then queue the next."""
    try:
        api = DOWNLOADS.identity()
    except NotConfigured:
        return
    rows = CountSnapshots.objects.filter(api=api)
    snapshots_row(api)
    chain.chain_run(rows, token, work=lambda: _work(api, token), enqueue=enqueue)


def _work(api: str, token: str) -> float:
    """Returns the seconds until the next step."""
    return chain.paced_reads(
        lambda: CountSnapshots.objects.get(api=api),
        token,
        begin_if_due=start_passes_if_due,
        next_read=lambda state, now: next_read(state),
        seconds_until_due=seconds_until_due,
        budget_wait=lambda: pacing.headroom_wait(DOWNLOADS) or shares.BULK_DOWNLOADS.wait(),
        read_once=read_once,
        label="count snapshots",
        log=logger,
        most_backoff=MAX_BACKOFF,
        step_seconds=STEP_SECONDS,
    )


def ensure(*, enqueue: chain.Enqueue, force: bool = False) -> bool:
    """Queue a step unless one is running or due: starts the snapshots, or resumes them after a lost
    worker. Nothing when both passes are off or no downloads API is configured."""
    if full_every() is None and recent_every() is None:
        return False
    try:
        api = DOWNLOADS.identity()
    except NotConfigured:
        return False
    snapshots_row(api)
    return chain.chain_start(CountSnapshots.objects.filter(api=api), enqueue=enqueue, force=force)


# --- What the Status page and the figures say -------------------------------------------------------


@dataclass(frozen=True)
class SnapshotProgress:
    full_finished_at: datetime | None
    full_started_at: datetime | None
    full_under_way: bool
    full_records: int
    recent_finished_at: datetime | None
    recent_under_way: bool
    next_step_at: datetime | None
    calls: int
    changes: int
    last_error: str
    last_error_at: datetime | None
    budget_per_minute: int

    @property
    def sentence(self) -> str:
        """One line for the status page."""
        if full_every() is None and recent_every() is None:
            return _(
                "Counts are not snapshotted: SNAPSHOT_FULL_EVERY_SECONDS and SNAPSHOT_RECENT_EVERY_SECONDS "
                "are 0."
            )
        if self.full_finished_at is None and self.recent_finished_at is None and not self.last_error:
            if self.full_under_way:
                return _("The first snapshot of every record's count is under way: %(count)s read.") % {
                    "count": grouped(self.full_records)
                }
            return _("Counts have not been snapshotted yet: the snapshots start with the task worker.")
        hours = settings.SNAPSHOT_RECENT_HOURS
        return ngettext(
            "Every record's count is read %(full)s, those of orders e-mailed in the last %(hours)s hour "
            "%(recent)s; only changes are stored.",
            "Every record's count is read %(full)s, those of orders e-mailed in the last %(hours)s hours "
            "%(recent)s; only changes are stored.",
            hours,
        ) % {"full": _period(full_every()), "hours": grouped(hours), "recent": _period(recent_every())}


def _period(every: timedelta | None) -> str:
    if every is None:
        return _("never (turned off)")
    seconds = int(every.total_seconds())
    units = (
        (86400, lambda count: ngettext("every day", "every %(count)s days", count)),
        (3600, lambda count: ngettext("every hour", "every %(count)s hours", count)),
        (60, lambda count: ngettext("every minute", "every %(count)s minutes", count)),
        (1, lambda count: ngettext("every second", "every %(count)s seconds", count)),
    )
    for size, words in units:
        if seconds % size == 0:
            count = seconds // size
            return words(count) % {"count": grouped(count)}
    return ""  # not reached: every whole number of seconds is a multiple of 1


def _state() -> CountSnapshots | None:
    try:
        api = DOWNLOADS.identity()
    except NotConfigured:
        return None
    return CountSnapshots.objects.filter(api=api).first()


def snapshot_progress() -> SnapshotProgress:
    state = _state()
    return SnapshotProgress(
        full_finished_at=state.full_finished_at if state else None,
        full_started_at=state.full_started_at if state else None,
        full_under_way=bool(state and state.full_page),
        full_records=state.full_records if state else 0,
        recent_finished_at=state.recent_finished_at if state else None,
        recent_under_way=bool(state and (state.recent_page or state.recent_orders)),
        next_step_at=state.step_due_at if state else None,
        calls=state.calls if state else 0,
        changes=state.changes if state else 0,
        last_error=state.last_error if state else "",
        last_error_at=state.last_error_at if state else None,
        budget_per_minute=settings.BULK_DOWNLOADS_BUDGET_PER_MINUTE,
    )


def as_of() -> datetime | None:
    """When the last snapshot pass (full or recent) finished: the counts the figures are made of are
    known up to then (a page's own read may be newer). None: no pass has finished yet."""
    state = _state()
    if state is None:
        return None
    finished = [moment for moment in (state.full_finished_at, state.recent_finished_at) if moment is not None]
    return max(finished, default=None)
