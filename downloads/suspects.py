"""Link-scanner suspects: a record whose count jumped in a way a customer hardly makes (pure).

Two rules, over the changes the dashboard saw in a record's count (downloads.history: the snapshots, the
pages' fresh reads, the dashboard's own writes) and the times the order's e-mail went out (passed in:
downloads does not import the order index):
- **after an e-mail**: downloads (the positive deltas) adding up to at least `burst` seen within
  `window` after an e-mail, the moment e-mail security scanners open every link of a message;
- **in one hour**: more than `per_hour` downloads seen within one clock hour (UTC, the hour a report
  groups by), at any time (a shared link, a bot, a scanner of a forwarded e-mail).

The evidence is what the dashboard saw, not what happened: a change is known only between the sighting
before it and its own (`seen_at`), so "3 downloads within 4 minutes of the e-mail" means "seen by 4
minutes after the e-mail" and an hourly snapshot places a burst only to within its hour. A first
sighting (delta None: the count before it is unknown) is never counted as downloads, and a lowered
count (a fix giving downloads back) is not a download, nor is a rise the dashboard wrote itself (that
fix undone). The sentence names no time (the page shows the
evidence's times in the person's zone); `reason` is what the give-back fix writes in the audit trail.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from downloads.history import is_download
from fileflare_admin.counts import count_lowered
from fileflare_admin.numbers import grouped

HOUR = timedelta(hours=1)


class SeenCount(Protocol):
    """A change seen in a record's count: downloads.models.CountChange, or plain values in tests."""

    @property
    def download_id(self) -> str: ...
    @property
    def order_number(self) -> int: ...
    @property
    def file_name(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def delta(self) -> int | None: ...
    @property
    def seen_at(self) -> datetime: ...
    @property
    def source(self) -> str: ...  # "snapshot", "read" or "write" (the dashboard's own write)


@dataclass(frozen=True)
class Thresholds:
    burst: int = 3  # downloads after an e-mail…
    window: timedelta = timedelta(minutes=60)  # …seen within this long of it
    per_hour: int = 5  # more than this many in any hour

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            burst=settings.SUSPECT_BURST_DOWNLOADS,
            window=timedelta(minutes=settings.SUSPECT_WINDOW_MINUTES),
            per_hour=settings.SUSPECT_DOWNLOADS_PER_HOUR,
        )


@dataclass(frozen=True)
class Evidence:
    seen_at: datetime
    count: int
    delta: int


def _sentence(rule: str, downloads: int, minutes: int, per_hour: int) -> str:
    values = {
        "downloads": ngettext("%(count)s download", "%(count)s downloads", downloads)
        % {"count": grouped(downloads)},
        "minutes": grouped(minutes),
        "per_hour": grouped(per_hour),
    }
    if rule == "email":
        return (
            ngettext(
                "%(downloads)s within %(minutes)s minute of the e-mail: possibly a link scanner",
                "%(downloads)s within %(minutes)s minutes of the e-mail: possibly a link scanner",
                minutes,
            )
            % values
        )
    return (
        ngettext(
            "%(downloads)s within %(minutes)s minute, more than the shop's %(per_hour)s an hour: "
            "possibly a link scanner or a shared link",
            "%(downloads)s within %(minutes)s minutes, more than the shop's %(per_hour)s an hour: "
            "possibly a link scanner or a shared link",
            minutes,
        )
        % values
    )


# Suspect.reason as written (English, numbers grouped by commas), for reading it back.
_REASON = re.compile(
    r"Possible link scanner: (?P<downloads>[\d,]+) downloads? within (?P<minutes>[\d,]+) minutes?"
    r"(?: of the e-mail|, more than the shop's (?P<per_hour>[\d,]+) an hour)"
)


def reason_read(reason: str) -> str | None:
    """A give-back's reason (Suspect.reason, kept in English) in the active language, for the audit log
    and the order's history (audit.registry's `reason_read`); None for any other reason."""
    found = _REASON.fullmatch(reason)
    if found is None:
        return None

    def number(name: str) -> int:
        return int((found[name] or "0").replace(",", ""))

    rule = "hour" if found["per_hour"] else "email"
    what = _sentence(rule, number("downloads"), number("minutes"), number("per_hour")).partition(":")[0]
    return _("Possible link scanner: %(what)s") % {"what": what.rstrip()}


@dataclass(frozen=True)
class Suspect:
    download_id: str
    order_number: int
    file_name: str
    rule: Literal["email", "hour"]
    downloads: int  # the downloads of the burst (what the fix gives back)
    evidence: tuple[Evidence, ...]  # the sightings that make it up, oldest first
    since: datetime  # the e-mail (rule "email"), or the sighting before the burst's first (rule "hour")
    minutes: int  # from `since` to the last sighting of the burst, rounded up
    per_hour: int = 0  # the shop's threshold the rule "hour" went over
    order_id: str = ""  # the order's Fileflare ID, for links, where the caller knows it

    @property
    def first_seen(self) -> datetime:
        return self.evidence[0].seen_at

    @property
    def last_seen(self) -> datetime:
        return self.evidence[-1].seen_at

    @property
    def sentence(self) -> str:
        """In the active language: "3 downloads within 4 minutes of the e-mail: possibly a link scanner"."""
        return _sentence(self.rule, self.downloads, self.minutes, self.per_hour)

    @property
    def reason(self) -> str:
        """The audit trail's reason of the fix that gives these downloads back: in English whoever gives
        them back (the order page finds the fix already made by this reason); `reason_read` says it in
        the reader's language."""
        with translation.override("en"):
            return f"Possible link scanner: {self.sentence.partition(':')[0]}"

    def given_back(self, current: int) -> int:
        """The count the fix sets, from the record's `current` count: the burst's downloads taken off."""
        return count_lowered(current, by=self.downloads)


def email_times(latest: Iterable[datetime | None], resent: Iterable[datetime]) -> list[datetime]:
    """An order's e-mail times as the rule reads them (the one statement; the order page and the Reports
    page each pass in what they know): its latest e-mail as Fileflare says it (`latest`: the order's own
    read, or the order index's), and each resend the audit trail holds that succeeded, oldest first."""
    return sorted({moment for moment in latest if moment is not None} | set(resent))


def _minutes(since: datetime, until: datetime) -> int:
    return max(1, math.ceil((until - since).total_seconds() / 60))


def _downloads(changes: Sequence[SeenCount]) -> list[SeenCount]:
    """The changes that are downloads: a rise seen, never the dashboard's own write (an undone fix)."""
    return [c for c in changes if is_download(c.delta, c.source)]


def _evidence(changes: Iterable[SeenCount]) -> tuple[Evidence, ...]:
    return tuple(Evidence(seen_at=c.seen_at, count=c.count, delta=c.delta or 0) for c in changes)


def _after_email(
    downloads: Sequence[SeenCount], emails: Iterable[datetime], limits: Thresholds
) -> list[Suspect]:
    found = []
    last_end: datetime | None = None
    for sent in sorted(emails):
        burst = [c for c in downloads if sent < c.seen_at <= sent + limits.window]
        if last_end is not None:  # two e-mails close together: a sighting belongs to the first one only
            burst = [c for c in burst if c.seen_at > last_end]
        total = sum(c.delta or 0 for c in burst)
        if burst and total >= limits.burst:
            first = burst[0]
            found.append(
                Suspect(
                    download_id=first.download_id,
                    order_number=first.order_number,
                    file_name=first.file_name,
                    rule="email",
                    downloads=total,
                    evidence=_evidence(burst),
                    since=sent,
                    minutes=_minutes(sent, burst[-1].seen_at),
                )
            )
            last_end = burst[-1].seen_at
    return found


def clock_hour(moment: datetime) -> datetime:
    """The clock hour (UTC) a sighting falls in: downloads.models.CountChange.hour, which SQL groups by."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _in_an_hour(
    changes: Sequence[SeenCount], downloads: Sequence[SeenCount], taken: set[datetime], limits: Thresholds
) -> list[Suspect]:
    """Each clock hour whose downloads add up to more than `per_hour` (the hour they were seen in, as a
    report groups them). Sightings an e-mail's suspect already holds are left to it."""
    hours: dict[datetime, list[SeenCount]] = {}
    for change in downloads:
        if change.seen_at not in taken:
            hours.setdefault(clock_hour(change.seen_at), []).append(change)
    found: list[Suspect] = []
    for run in hours.values():
        total = sum(c.delta or 0 for c in run)
        if total <= limits.per_hour:
            continue
        before = [c.seen_at for c in changes if c.seen_at < run[0].seen_at]
        since = before[-1] if before and run[0].seen_at - before[-1] <= HOUR else run[0].seen_at
        found.append(
            Suspect(
                download_id=run[0].download_id,
                order_number=run[0].order_number,
                file_name=run[0].file_name,
                rule="hour",
                downloads=total,
                evidence=_evidence(run),
                since=since,
                minutes=_minutes(since, run[-1].seen_at),
                per_hour=limits.per_hour,
            )
        )
    return found


def record_suspects(
    changes: Iterable[SeenCount], *, emails: Iterable[datetime], limits: Thresholds | None = None
) -> list[Suspect]:
    """The suspects of one record, from every change seen in its count and its order's e-mail times
    (the first send and each resend), newest first."""
    limits = limits or Thresholds.from_settings()
    ordered = sorted(changes, key=lambda change: change.seen_at)
    downloads = _downloads(ordered)
    found = _after_email(downloads, emails, limits)
    taken = {evidence.seen_at for suspect in found for evidence in suspect.evidence}
    found += _in_an_hour(ordered, downloads, taken, limits)
    return sorted(found, key=lambda suspect: suspect.last_seen, reverse=True)


def suspects_of(
    changes: Iterable[SeenCount],
    *,
    emails: Mapping[int, Sequence[datetime]],
    limits: Thresholds | None = None,
) -> list[Suspect]:
    """The suspects among many records' changes; `emails` gives each order number's e-mail times.
    Newest first."""
    limits = limits or Thresholds.from_settings()
    by_record: dict[str, list[SeenCount]] = {}
    for change in changes:
        by_record.setdefault(change.download_id, []).append(change)
    found = [
        suspect
        for rows in by_record.values()
        for suspect in record_suspects(rows, emails=emails.get(rows[0].order_number, ()), limits=limits)
    ]
    return sorted(found, key=lambda suspect: (suspect.last_seen, suspect.download_id), reverse=True)
