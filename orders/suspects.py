"""The order page's link-scanner line: each record of the order whose count jumped like a scanner's
(downloads.suspects, over the changes downloads.history saw), with the fix at hand — give those downloads
back, through the count write of downloads.edits (audited ahead with the suspect's reason, checked against
the count the person saw, refused beyond their role's step, undoable from the audit log like any count fix).

The e-mail times are the order's (Fileflare's latest, as the page read it) and the dashboard's own resends
(the order's audit entries, which the page has already read).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from audit.services import audit_entries_for_order
from downloads.edits import COUNT, download_record_count_set
from downloads.history import suspect_changes_of_order
from downloads.models import CountChange
from downloads.services import RecordWrite
from downloads.suspects import Suspect, Thresholds, email_times, record_suspects
from fileflare_admin.api import fileflare, types
from fileflare_admin.sentences import UserFacingError
from orders.resend import EMAIL_RESEND
from staff import roles


class SuspectGone(UserFacingError):
    default_message = gettext_lazy(
        "That burst of downloads is no longer listed for this record (its counts were seen again "
        "since). Nothing was changed: reload the order to see it as it is now."
    )


class AlreadyGivenBack(UserFacingError):
    default_message = gettext_lazy(
        "These downloads were already given back (see the audit log). Nothing was changed: undo that fix "
        "first if it was wrong."
    )


@dataclass(frozen=True)
class SuspectLine:
    """A suspect on the order page, and what its fix would do for this person."""

    suspect: Suspect
    count: int | None  # the record's count as the page read it (None: the record was not read)
    after: int | None  # the count the fix sets
    given_back: AuditEntry | None  # the fix already made (succeeded, not undone)
    refusal: str  # why this person may not give them back ("" when they may)


def order_emails(order: types.Order, entries: Iterable[AuditEntry]) -> list[datetime]:
    """When the order's download e-mail went out: Fileflare's latest, and each resend the trail holds."""
    resent = [entry.created_at for entry in entries if entry.action == EMAIL_RESEND and entry.succeeded]
    return email_times([order.email_sent_at], resent)


def given_back(suspects: Sequence[Suspect]) -> dict[tuple[str, datetime], AuditEntry]:
    """The one rule of "already given back" (the order page, its fix, the Reports page): the count fix
    written with the suspect's reason on its record, that succeeded and was not undone. By
    `suspect_key`; one query, whatever the number of suspects and however old the fix."""
    if not suspects:
        return {}
    entries = list(
        AuditEntry.objects.filter(
            action=COUNT,
            outcome=AuditEntry.Outcome.SUCCESS,
            download_id__in={suspect.download_id for suspect in suspects},
            reason__in={suspect.reason for suspect in suspects},
        )
        .select_related("actor")
        .prefetch_related("undone_by")
        .order_by("-created_at", "-pk")
    )
    found: dict[tuple[str, datetime], AuditEntry] = {}
    for suspect in suspects:
        for entry in entries:
            if (
                entry.download_id == suspect.download_id
                and entry.reason == suspect.reason
                and not any(undo.succeeded for undo in entry.undone_by.all())
            ):
                found[suspect_key(suspect)] = entry
                break
    return found


def suspect_key(suspect: Suspect) -> tuple[str, datetime]:
    """A burst of one record: its record and when it began (as insights.SuspectBurst is unique)."""
    return suspect.download_id, suspect.since


def _refusal(user: roles.AnyUser, *, old: int, new: int) -> str:
    try:
        roles.require_count_change_allowed(user, old=old, new=new)
    except roles.NotAllowed as refused:
        return refused.user_message
    return ""


def order_suspects(
    order: types.Order, timeline: Iterable[AuditEntry], *, download_id: str | None = None
) -> list[Suspect]:
    """The order's suspects (of one record, with `download_id`), newest first, from the count changes
    the rule needs (downloads.history.suspect_changes_of_order: a burst's worth, however long the order's
    history) and the order's e-mail times."""
    emails = order_emails(order, timeline)
    limits = Thresholds.from_settings()
    changes = suspect_changes_of_order(
        order.order_number,
        emails=emails,
        window=limits.window,
        per_hour=limits.per_hour,
        download_id=download_id,
    )
    by_record: dict[str, list[CountChange]] = {}
    for change in changes:
        by_record.setdefault(change.download_id, []).append(change)
    found = [
        suspect
        for rows in by_record.values()
        for suspect in record_suspects(rows, emails=emails, limits=limits)
    ]
    return sorted(found, key=lambda suspect: suspect.last_seen, reverse=True)


def suspect_lines(
    *,
    order: types.Order,
    records: Sequence[types.DownloadRecord],
    timeline: Sequence[AuditEntry],
    user: roles.AnyUser,
) -> list[SuspectLine]:
    """The order page's suspects, newest first, each with its fix as this person may make it."""
    counts = {record.download_id: record.download_count for record in records}
    lines = []
    found = order_suspects(order, timeline)
    backs = given_back(found)
    for suspect in found:
        count = counts.get(suspect.download_id)
        after = suspect.given_back(count) if count is not None else None
        refusal = _refusal(user, old=count, new=after) if count is not None and after is not None else ""
        lines.append(
            SuspectLine(
                suspect=suspect,
                count=count,
                after=after,
                given_back=backs.get(suspect_key(suspect)),
                refusal=refusal,
            )
        )
    return lines


@dataclass(frozen=True)
class GiveBack:
    suspect: Suspect
    written: RecordWrite


def order_suspect_give_back(
    *, actor: roles.AnyUser, order_id: str, download_id: str, since: datetime, seen: int
) -> GiveBack:
    """Give back the downloads of the suspect of `download_id` whose burst began at `since`: set the
    record's count from `seen` (what the person saw) to `seen` less the burst's downloads, audited with
    the suspect's reason. The suspect is found again here, from the history, never taken from the form.
    Raises SuspectGone, AlreadyGivenBack, and whatever the count write raises (EditConflict when the count
    is no longer `seen`, NotAllowed beyond the person's step)."""
    order = fileflare.order_get(order_id=order_id).value
    timeline = audit_entries_for_order(order_number=order.order_number)
    listed = order_suspects(order, timeline, download_id=download_id)
    found = [suspect for suspect in listed if suspect.since == since]
    if not found:
        raise SuspectGone()
    suspect = found[0]
    if given_back([suspect]):
        raise AlreadyGivenBack()
    written = download_record_count_set(
        actor=actor,
        download_id=download_id,
        count=suspect.given_back(seen),
        expected=seen,
        reason=suspect.reason,
        order_number=order.order_number,
    )
    return GiveBack(suspect=suspect, written=written)
