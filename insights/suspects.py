"""The link-scanner suspects of a period, for the Reports page and the daily digest: the rule of
downloads.suspects over the counts' history (downloads.history), with each order's e-mail times from the
order index (its latest e-mail) and the audit trail (the dashboard's own resends). A handful of queries,
none upstream: the records that may hold a suspect are found in SQL, and only their history is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditEntry
from downloads.history import DOWNLOADED
from downloads.models import CountChange
from downloads.suspects import Evidence, Suspect, Thresholds, clock_hour, email_times, suspects_of
from fileflare_admin.numbers import grouped
from insights.figures import Cell, Figure, Span, downloads_as_of
from insights.models import SuspectBurst, SuspectScan
from orders.resend import EMAIL_RESEND
from orders.suspects import given_back, suspect_key
from orders_index.services import order_index_rows

HOUR = timedelta(hours=1)
SCAN = 1  # the one SuspectScan row


@dataclass(frozen=True)
class Emails:
    """Each order's e-mail times, and its Fileflare ID where the index knows it (for links)."""

    times: Mapping[int, Sequence[datetime]]
    order_ids: dict[int, str]


def orders_emails(order_numbers: Iterable[int]) -> Emails:
    """Each order's e-mail times (downloads.suspects.email_times: the index's latest e-mail, and every
    resend the dashboard made), and its Fileflare ID. Two queries."""
    numbers = sorted(set(order_numbers))
    latest: dict[int, list[datetime | None]] = {number: [] for number in numbers}
    resent: dict[int, list[datetime]] = {number: [] for number in numbers}
    order_ids: dict[int, str] = {}
    indexed = order_index_rows().filter(order_number__in=numbers)
    for number, order_id, sent in indexed.values_list("order_number", "order_id", "email_sent_at"):
        order_ids[number] = order_id if number not in order_ids else ""  # one number, two orders: no link
        latest[number].append(sent)
    resends = AuditEntry.objects.filter(
        action=EMAIL_RESEND, outcome=AuditEntry.Outcome.SUCCESS, order_number__in=numbers
    ).values_list("order_number", "created_at")
    for resent_of, created_at in resends:
        if resent_of is not None:
            resent[resent_of].append(created_at)
    return Emails(
        times={number: email_times(latest[number], resent[number]) for number in numbers},
        order_ids={number: order_id for number, order_id in order_ids.items() if order_id},
    )


@dataclass(frozen=True, slots=True)
class Seen:
    """A CountChange row as the rule reads it (downloads.suspects.SeenCount), read without a model."""

    download_id: str
    order_number: int
    file_name: str
    count: int
    delta: int | None
    seen_at: datetime
    source: str


SEEN_FIELDS = ("download_id", "order_number", "file_name", "count", "delta", "seen_at", "source")


def _bursts_after(
    emails: QuerySet[Any], sent: str, window: timedelta, burst: int
) -> QuerySet[Any]:
    """The order numbers among `emails` (rows with `order_number` and the e-mail time in field `sent`) whose
    records' downloads seen within `window` after it add up to `burst` or more: from the e-mails' side,
    one indexed look-up of the order's rows each (a year holds far fewer e-mails than downloads)."""
    seen = (
        CountChange.objects.filter(
            DOWNLOADED,
            order_number=OuterRef("order_number"),
            seen_at__gt=OuterRef(sent),
            seen_at__lte=OuterRef("until"),
        )
        .order_by()
        .values("order_number")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    return (
        emails.annotate(until=ExpressionWrapper(F(sent) + window, output_field=DateTimeField()))
        .annotate(burst=Subquery(seen))
        .filter(burst__gte=burst)
        .values_list("order_number", flat=True)
    )


def _candidates(start: datetime, end: datetime, limits: Thresholds) -> tuple[set[int], set[str]]:
    """The orders and records that may hold a suspect, found in SQL so that a year's history is never read
    whole: orders whose downloads seen after an e-mail (the index's, or a resend) add up to the burst, and
    records with more than the hourly threshold in one clock hour (CountChange.hour). Three queries."""
    since = start - limits.window
    indexed = order_index_rows().filter(email_sent_at__gt=since, email_sent_at__lte=end)
    resent = AuditEntry.objects.filter(
        action=EMAIL_RESEND,
        outcome=AuditEntry.Outcome.SUCCESS,
        order_number__isnull=False,
        created_at__gt=since,
        created_at__lte=end,
    )
    orders = set(_bursts_after(indexed, "email_sent_at", limits.window, limits.burst))
    orders |= set(_bursts_after(resent, "created_at", limits.window, limits.burst))
    records = set(
        CountChange.objects.filter(DOWNLOADED, seen_at__gte=clock_hour(start), seen_at__lte=end)
        .values("download_id", "hour")
        .annotate(total=Sum("delta"))
        .filter(total__gt=limits.per_hour)
        .values_list("download_id", flat=True)
    )
    return orders, records


def suspects_found(start: datetime, end: datetime) -> list[Suspect]:
    """The suspects whose burst was last seen from `start` to `end`, found in the counts' history now,
    newest first, each with its order's Fileflare ID where the index knows it. Six queries; only the
    candidates' history is read (a year of a large shop still takes a second: the scan runs it on new
    changes only, and pages read what it stored)."""
    limits = Thresholds.from_settings()
    orders, records = _candidates(start, end, limits)
    if not orders and not records:
        return []
    reach = max(limits.window, HOUR) + HOUR  # a burst seen at `start`, and the sighting before it
    rows = CountChange.objects.filter(
        Q(order_number__in=orders) | Q(download_id__in=records), seen_at__gt=start - reach, seen_at__lte=end
    )
    changes = [Seen(*row) for row in rows.order_by("seen_at", "pk").values_list(*SEEN_FIELDS)]
    emails = orders_emails(change.order_number for change in changes)
    found = suspects_of(changes, emails=emails.times, limits=limits)
    return [
        replace(suspect, order_id=emails.order_ids.get(suspect.order_number, ""))
        for suspect in found
        if start <= suspect.last_seen <= end
    ]


def _stored(suspect: Suspect) -> SuspectBurst:
    return SuspectBurst(
        download_id=suspect.download_id,
        order_number=suspect.order_number,
        order_id=suspect.order_id,
        file_name=suspect.file_name[:500],
        rule=suspect.rule,
        since=suspect.since,
        last_seen=suspect.last_seen,
        downloads=suspect.downloads,
        minutes=suspect.minutes,
        per_hour=suspect.per_hour,
        evidence=[[seen.seen_at.isoformat(), seen.count, seen.delta] for seen in suspect.evidence],
    )


def _suspect(row: SuspectBurst) -> Suspect:
    return Suspect(
        download_id=row.download_id,
        order_number=row.order_number,
        file_name=row.file_name,
        rule="email" if row.rule == "email" else "hour",
        downloads=row.downloads,
        evidence=tuple(
            Evidence(seen_at=datetime.fromisoformat(at), count=count, delta=delta)
            for at, count, delta in row.evidence
        ),
        since=row.since,
        minutes=row.minutes,
        per_hour=row.per_hour,
        order_id=row.order_id,
    )


def suspects_refresh(*, now: datetime | None = None) -> int:
    """Scan the changes noted since the last scan (and the hour or so before them, where a burst they
    end began) for suspects, and store them: new ones added, a burst that grew updated. Safe from every
    worker at once (the same answer is stored twice). Returns how many suspects it stored."""
    now = now or timezone.now()
    scan = SuspectScan.objects.filter(pk=SCAN).first()
    done = scan.last_change if scan else 0
    newest = CountChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    new = CountChange.objects.filter(pk__gt=done).order_by("seen_at").values_list("seen_at", flat=True)
    oldest, latest = new.first(), new.last()
    stored = 0
    if oldest is not None and latest is not None:
        limits = Thresholds.from_settings()
        found = suspects_found(oldest - max(limits.window, HOUR), max(now, latest))
        rows = [_stored(suspect) for suspect in found]
        SuspectBurst.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["download_id", "rule", "since"],
            update_fields=["order_id", "last_seen", "downloads", "minutes", "per_hour", "evidence"],
        )
        stored = len(rows)
    if scan is None:
        try:
            with transaction.atomic():
                SuspectScan.objects.create(pk=SCAN, last_change=newest, finished_at=now)
        except IntegrityError:  # another worker's first scan, at the same moment
            pass
    else:
        moved = SuspectScan.objects.filter(pk=SCAN, last_change__lte=newest)
        moved.update(last_change=newest, finished_at=now)
    return stored


def suspects_waiting() -> bool:
    """Whether changes were noted since the last scan (the keeper then queues one)."""
    scan = SuspectScan.objects.filter(pk=SCAN).first()
    return CountChange.objects.filter(pk__gt=scan.last_change if scan else 0).exists()


def suspects_scanned_at() -> datetime | None:
    """When the last scan finished (None: none yet)."""
    return SuspectScan.objects.filter(pk=SCAN).values_list("finished_at", flat=True).first()


def suspects_as_of() -> datetime | None:
    """"As of" of the stored suspects: when the last scan finished, or the counts' own "as of" when that
    is older (a scan finds what the counts it read say: insights.figures.downloads_as_of). None: no scan
    yet."""
    scanned = suspects_scanned_at()
    counts = downloads_as_of()
    return min(scanned, counts) if scanned is not None and counts is not None else scanned


def suspects_between(start: datetime, end: datetime) -> list[Suspect]:
    """The suspects whose burst was last seen from `start` to `end`, newest first, as the last scan stored
    them (the contract with the Reports page: its section and CSV; and the digest). One query."""
    rows = SuspectBurst.objects.filter(last_seen__gte=start, last_seen__lte=end).order_by("-last_seen", "-pk")
    return [_suspect(row) for row in rows]


def suspects_figure(span: Span, suspects: list[Suspect]) -> Figure:
    """The suspects of `span` (suspects_between(span.start, span.end)) as the Reports page's figure: its
    sentence, its table (the CSV) and as of when the counts were last seen. Whether each burst's downloads
    were already given back is the order page's rule (orders.suspects.given_back): in the CSV's last
    column, and for the page in `extra["given_back"]` (by orders.suspects.suspect_key)."""
    count = len(suspects)
    records = len({suspect.download_id for suspect in suspects})
    summary = (
        ngettext(
            "%(bursts)s of downloads on %(count)s record looked like a link scanner's %(days)s.",
            "%(bursts)s of downloads on %(count)s records looked like a link scanner's %(days)s.",
            records,
        )
        % {
            "bursts": ngettext("%(count)s burst", "%(count)s bursts", count) % {"count": grouped(count)},
            "count": grouped(records),
            "days": span.during(),
        }
        if count
        else _("No download looked like a link scanner's %(days)s.") % {"days": span.during()}
    )
    backs = given_back(suspects)
    rows: list[tuple[Cell, ...]] = []
    for suspect in suspects:
        back = backs.get(suspect_key(suspect))
        rows.append(
            (
                suspect.last_seen,
                suspect.order_number,
                suspect.file_name,
                suspect.download_id,
                suspect.downloads,
                suspect.sentence,
                # Each sighting as a spreadsheet reads it, in every language: "2026-03-01T10:02:00+00:00 4".
                "; ".join(f"{seen.seen_at.isoformat()} {seen.count}" for seen in suspect.evidence),
                _("by %(name)s at %(time)s") % {"name": back.actor_name, "time": back.created_at.isoformat()}
                if back
                else "",
            )
        )
    return Figure(
        title=_("Possible link scanners"),
        summary=summary,
        columns=(
            _("Last seen"),
            _("Order"),
            _("File"),
            _("Record"),
            _("Downloads"),
            _("What was seen"),
            _("Counts seen"),
            _("Given back"),
        ),
        rows=rows,
        as_of=suspects_as_of(),
        csv_name="link-scanner-suspects",
        extra={"given_back": backs},
    )
