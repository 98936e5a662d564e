"""Reading the trail for the audit log page: the entries matching its filters, a page of them with what
each row shows, and the people the filter offers. No writes."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects

from audit.changes import Changes, entry_changes
from audit.models import AuditEntry
from audit.services import Actor
from audit.undo import UndoState, removals, undo_state

PER_PAGE = 50


def audit_actors() -> QuerySet[Any]:
    """The people the trail names (an account since removed is left out), by username. Asked person by
    person (EXISTS on the actor index): the cost follows the number of staff, not of entries."""
    named = AuditEntry.objects.filter(actor=OuterRef("pk"))
    return get_user_model().objects.filter(Exists(named)).order_by("username")


def audit_entry_list(
    *,
    actor: Any = None,
    action: str = "",
    outcome: str = "",
    order_number: int | None = None,
    download_id: str = "",
    job_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEntry]:
    """The entries matching every filter given (an empty one matches all), newest first. The log shows
    each entry's actor by the name it keeps (`actor_name`): the account itself is not read."""
    entries = AuditEntry.objects.all()
    if actor:
        entries = entries.filter(actor=actor)
    exact = {
        "action": action,
        "outcome": outcome,
        "order_number": order_number,
        "download_id": download_id,
        "job_id": job_id,
    }
    for name, value in exact.items():
        if value:
            entries = entries.filter(**{name: value})
    if date_from:
        entries = entries.filter(created_at__date__gte=date_from)
    if date_to:
        entries = entries.filter(created_at__date__lte=date_to)
    return entries


TRAIL_COUNT_KEY = "audit-trail-count"
TRAIL_RECOUNT_SECONDS = 60
# The entries after the kept count's newest id are counted this many at most by the primary key's index;
# more than that (a bulk load) and they are all counted.
TRAIL_ADDED_AT_ONCE = 100


def trail_count() -> int:
    """How many entries the trail holds, without counting 100,000 rows on every page (issue 28). The
    trail is append-only (AppendOnlyQuerySet: no update but a pending entry's close, no delete), so a
    count kept with the newest id it saw stays right: each page adds the entries after that id (one
    query on the primary key's index, bounded by what is new). On PostgreSQL two entries written at the
    same moment may commit out of id order and the slower one be missed: the whole trail is counted
    again every TRAIL_RECOUNT_SECONDS."""
    kept = cache.get(TRAIL_COUNT_KEY)
    now = time.time()
    since, counted, counted_at = (0, 0, now)
    if isinstance(kept, tuple) and len(kept) == 3 and now - kept[2] < TRAIL_RECOUNT_SECONDS:
        since, counted, counted_at = kept
    newer = AuditEntry.objects.filter(pk__gt=since).order_by("pk")
    # LIMIT makes PostgreSQL walk the primary key even without statistics for the table (one that just
    # grew by a bulk load): `id > n` alone it may plan as a read of the whole table (issue 28).
    added = newer[:TRAIL_ADDED_AT_ONCE].aggregate(newest=Max("pk"), added=Count("pk")) if since else None
    if added is None or added["added"] == TRAIL_ADDED_AT_ONCE:
        added = newer.aggregate(newest=Max("pk"), added=Count("pk"))
    total = counted + added["added"]
    if added["added"]:
        cache.set(TRAIL_COUNT_KEY, (added["newest"], total, counted_at), 2 * TRAIL_RECOUNT_SECONDS)
    return total


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    changes: Changes
    undo: UndoState


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"(\d{1,18})-(\d{1,18})")


@dataclass(frozen=True)
class Cursor:
    """Where a page of the log starts or ends: an entry's place in the log's order (created_at, id), as a
    link carries it ("<microseconds since 1970>-<id>"). The next page is the entries after it in that
    order, read from the created_at index: every page costs the same, however deep (keyset paging)."""

    created_at: datetime
    pk: int

    @classmethod
    def of(cls, entry: AuditEntry) -> Cursor:
        return cls(entry.created_at, entry.pk)

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """The cursor a link carries; None for anything else (a link typed by hand)."""
        found = _CURSOR.fullmatch(text.strip())
        if found is None:
            return None
        try:
            when = _EPOCH + timedelta(microseconds=int(found.group(1)))
        except OverflowError:
            return None
        return cls(when, int(found.group(2)))

    def __str__(self) -> str:
        return f"{(self.created_at - _EPOCH) // timedelta(microseconds=1)}-{self.pk}"

    def older(self) -> Q:
        """The entries after this one in the log's order (older). `created_at <= …` beside the exact
        condition lets the database walk the created_at index."""
        return Q(created_at__lte=self.created_at) & (
            Q(created_at__lt=self.created_at) | Q(created_at=self.created_at, pk__lt=self.pk)
        )

    def newer(self) -> Q:
        return Q(created_at__gte=self.created_at) & (
            Q(created_at__gt=self.created_at) | Q(created_at=self.created_at, pk__gt=self.pk)
        )


@dataclass(frozen=True)
class AuditLogPage:
    """One page of the log: its rows, how many entries match in all, the page's number (a label: counted
    from the newest when the page was reached), and where the Newer / Older links start ("" for none)."""

    rows: list[AuditRow]
    count: int
    number: int
    num_pages: int
    newer: str
    older: str


def audit_log_page(
    *,
    viewer: Actor,
    filters: dict[str, Any],
    page: int = 1,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
) -> AuditLogPage:
    """One page of the log for `viewer`: each entry with its before/after and what undo it offers them.
    `filters` are audit_entry_list's. A page is the PER_PAGE entries older than `older_than` or newer
    than `newer_than` (a link's cursor: the same cost on every page); without either, the `page`th page
    counted from the newest (an older ?page=N link, read with OFFSET). `page` beside a cursor only
    numbers the page."""
    matching = audit_entry_list(**filters)
    count = trail_count() if not any(filters.values()) else matching.count()
    num_pages = max(1, math.ceil(count / PER_PAGE))
    number = min(max(page, 1), num_pages)
    entries: list[AuditEntry] = []
    has_newer = has_older = False
    if newer_than is not None:
        newer = list(matching.filter(newer_than.newer()).order_by("created_at", "pk")[: PER_PAGE + 1])
        if len(newer) > PER_PAGE:  # else the newest page is what is newer
            entries = newer[PER_PAGE - 1 :: -1]
            has_newer = True
            has_older = _any(matching, Cursor.of(entries[-1]).older())
            number = max(number, 2)
    elif older_than is not None:
        older = list(matching.filter(older_than.older())[: PER_PAGE + 1])
        if older:  # else (a cursor past the oldest) the newest page
            entries, has_older = older[:PER_PAGE], len(older) > PER_PAGE
            has_newer = _any(matching, Cursor.of(entries[0]).newer(), "created_at", "pk")
            number = max(number, 2) if has_newer else 1
    if not entries:
        if newer_than is not None or older_than is not None:
            number = 1
        start = (number - 1) * PER_PAGE
        entries = list(matching[start : start + PER_PAGE + 1])
        has_newer, has_older = number > 1, len(entries) > PER_PAGE
        entries = entries[:PER_PAGE]
    _read_undos(entries)
    removed = removals({entry.download_id for entry in entries if entry.download_id})
    rows = [
        AuditRow(
            entry=entry,
            changes=entry_changes(entry),
            undo=undo_state(actor=viewer, entry=entry, removed=removed),
        )
        for entry in entries
    ]
    return AuditLogPage(
        rows=rows,
        count=count,
        number=number,
        num_pages=num_pages,
        newer=str(Cursor.of(entries[0])) if has_newer and entries else "",
        older=str(Cursor.of(entries[-1])) if has_older and entries else "",
    )


def _any(matching: QuerySet[AuditEntry], place: Q, *order: str) -> bool:
    """Whether an entry matches beside a page (for its Newer / Older link). Read as the first in the log's
    order (or `order`), not EXISTS: PostgreSQL walks the created_at index for it, where for EXISTS it may
    read the table from its start until one row matches."""
    beside = matching.filter(place)
    return bool((beside.order_by(*order) if order else beside).values_list("pk", flat=True)[:1])


def _read_undos(entries: list[AuditEntry]) -> None:
    """Each entry's `undone_by` (the undos of it), for all of them in one query. The range of the
    entries' ids beside their list lets PostgreSQL walk the undo_of index even before it has statistics
    for the table (a trail that just grew by a bulk load): with the list alone it may plan a read of the
    whole table (issue 28). With statistics the range changes nothing."""
    if not entries:
        return
    ids = [entry.pk for entry in entries]
    undos = AuditEntry.objects.filter(undo_of__gte=min(ids), undo_of__lte=max(ids))
    prefetch_related_objects(entries, Prefetch("undone_by", queryset=undos))
