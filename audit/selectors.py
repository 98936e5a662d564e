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
from django.db.models import Count, Exists, Max, OuterRef, QuerySet

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
    """The entries matching every filter given (an empty one matches all), newest first."""
    entries = AuditEntry.objects.select_related("actor").prefetch_related("undone_by")
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
    added = AuditEntry.objects.filter(pk__gt=since).aggregate(newest=Max("pk"), added=Count("pk"))
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
    removed = removals({entry.download_id for entry in shown if entry.download_id})
    rows = [
        AuditRow(
            entry=entry,
            changes=entry_changes(entry),
            undo=undo_state(actor=viewer, entry=entry, removed=removed),
        )
        for entry in shown
    ]
    return AuditLogPage(page=shown, rows=rows)
