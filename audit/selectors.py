"""Reading the trail for the audit log page: the entries matching its filters, a page of them with what
each row shows, and the people the filter offers. No writes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, QuerySet, prefetch_related_objects

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


@dataclass(frozen=True)
class AuditLogPage:
    page: Page[AuditEntry]
    rows: list[AuditRow]


def audit_log_page(*, viewer: Actor, filters: dict[str, Any], page: int = 1) -> AuditLogPage:
    """One page of the log for `viewer`: each entry with its before/after and what undo it offers them.
    `filters` are audit_entry_list's."""
    paginator = Paginator(audit_entry_list(**filters), PER_PAGE)
    if not any(filters.values()):
        vars(paginator)["count"] = trail_count()
    shown = paginator.get_page(page)
    entries = list(shown)
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
    return AuditLogPage(page=shown, rows=rows)


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
