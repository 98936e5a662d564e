"""The Reports page's figures: store-wide numbers read from the dashboard's own database, never upstream.

Each query takes a `Span` (whole days in the person's time zone, from a day to a year) and returns a
`Figure`: its title, a sentence a screen reader reads in place of the chart, its table (columns and rows,
which are also its CSV), and when its data was last brought up to date ("as of"), one rule per source:
- figures of the counts (downloads, customers at their limit): `downloads_as_of`, the last snapshot pass;
- link-scanner suspects: the last scan of the counts, or the counts' "as of" if older
  (insights.suspects.suspects_figure);
- figures of the order index: the index's own (orders_index.services.order_index_as_of);
- figures of the audit trail (resends, staff activity): the moment the page is made (it is written as
  things happen).

- Downloads come from the changes the dashboard saw in the records' counts (downloads.history): the
  positive deltas a snapshot or a page's read saw, never a staff write. A change is placed in the hour
  it was seen (CountChange.hour, one indexed column a year groups by), and that hour in the person's day.
- Orders never e-mailed come from the order index (ordered that day, no e-mail sent as the index last saw).
- Resends and staff activity come from the audit trail (successful entries only, bulk fixes included).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from django.db.models import CharField, Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_stubs_ext import StrOrPromise

from audit.models import AuditEntry
from downloads.edits import COUNT, UPDATE
from downloads.history import DOWNLOADED
from downloads.models import CountChange
from downloads.products import product_names_known
from downloads.services import CREATE, DELETE
from fileflare_admin.clock import date_time
from fileflare_admin.days import day_text
from fileflare_admin.numbers import grouped
from fileflare_admin.sentences import capitalized
from insights.snapshots import as_of as snapshots_as_of
from orders.attachments import ATTACH, DETACH
from orders.resend import EMAIL_RESEND
from orders_index.services import order_index_as_of, order_index_rows

Period = Literal["day", "week"]
By = Literal["product", "file"]
Cell = str | int | date | None  # a day (a date) or a moment (a datetime) is written when shown (cell_text)

MAX_DAYS = 366  # a year, leap day included
NO_COUNTS_YET = gettext_lazy("No download counts seen yet.")

# What "staff activity" counts, by audit action: a fix changes a record, an attach changes an order's
# files (attach or detach), an undo is any entry that sets back another (its undo_of), whatever its action.
FIXES = (COUNT, UPDATE, CREATE, DELETE)
ATTACHES = (ATTACH, DETACH)


@dataclass(frozen=True)
class Span:
    """Whole days, first to last (both included), in a time zone."""

    first: date
    last: date
    zone: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        """The midnight after the last day (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range((self.last - self.first).days + 1)]

    def text(self) -> str:
        """The days in the page's language: "1 Mar 2026 to 31 Mar 2026", or "1 Mar 2026"."""
        if self.first == self.last:
            return day_text(self.first)
        return _("%(first)s to %(last)s") % {"first": day_text(self.first), "last": day_text(self.last)}

    def during(self) -> str:
        """The days as a sentence says them: "from 1 Mar 2026 to 31 Mar 2026", "from 1 Mar 2026" (one
        phrase, which each language words its own way: « du … au … », « le … »)."""
        if self.first == self.last:
            return _("from %(day)s") % {"day": day_text(self.first)}
        return _("from %(first)s to %(last)s") % {"first": day_text(self.first), "last": day_text(self.last)}


@dataclass(frozen=True)
class Figure:
    """One figure of the page: its chart's data is its table; `summary` says it in one sentence."""

    title: str
    summary: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    as_of: datetime | None
    csv_name: str
    # For the chart: the label of each row and its value(s) by series, in `series` order.
    series: tuple[str, ...] = ()
    not_yet: StrOrPromise = NO_COUNTS_YET  # instead of "as of" while nothing was seen
    extra: dict[str, object] = field(default_factory=dict)

    def csv_rows(self) -> Iterable[Sequence[Cell]]:
        """The header in the page's language; cells as a spreadsheet reads them (ISO days and times,
        plain numbers), in every language."""
        yield self.columns
        for row in self.rows:
            yield tuple(value.isoformat() if isinstance(value, date) else value for value in row)

    def shown_rows(self) -> list[tuple[Cell, ...]]:
        """The rows with their days and times written as the page's language writes them (cell_text)."""
        return [
            tuple(cell_text(cell) if isinstance(cell, date) else cell for cell in row) for row in self.rows
        ]


def cell_text(value: Cell) -> str:
    """A cell as a person reads it in the table or on a chart: "1,536" / "1 536", "1 Mar 2026",
    "1 Mar 2026, 10:42 CET" in the page's language and zone; "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return date_time(value)
    if isinstance(value, date):
        return day_text(value)
    return grouped(value) if isinstance(value, int) else value


def period_start(day: date, period: Period) -> date:
    """The first day of the day's period: itself, or the Monday of its week (ISO weeks)."""
    return day if period == "day" else day - timedelta(days=day.weekday())


def period_column(period: Period) -> str:
    """The column a period's rows are under: their days, or the Monday each week starts on."""
    return _("Day") if period == "day" else _("Week starting")


def _periods(span: Span, period: Period) -> list[date]:
    return list(dict.fromkeys(period_start(day, period) for day in span.days))


def _local_day(hour: str, zone: tzinfo) -> date:
    """The day in `zone` of an hour as the database writes it in UTC ("2026-03-01 10:00:00", with "+00"
    on PostgreSQL): read as text, since a year is 8,760 of them and Django's conversion of each is
    most of the figure's time."""
    moment = datetime.fromisoformat(hour)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).date()


def _downloads(count: int) -> str:
    return ngettext("%(count)s download", "%(count)s downloads", count) % {"count": grouped(count)}


def _busiest(totals: dict[date, int], period: Period) -> str:
    """The sentence after a summary, " The busiest day was 3 Mar 2026 (12).", or "" when none was."""
    if not totals or not any(totals.values()):
        return ""
    best = max(totals, key=lambda start: (totals[start], start))
    values = {"day": day_text(best), "count": grouped(totals[best])}
    if period == "day":
        return " " + _("The busiest day was %(day)s (%(count)s).") % values
    return " " + _("The busiest week was the week of %(day)s (%(count)s).") % values


# --- Downloads ------------------------------------------------------------------------------------


def downloads_as_of() -> datetime | None:
    """"As of" of every figure made of the counts (downloads, customers at their limit): when the last
    snapshot pass finished (insights.snapshots.as_of), since every record's count was read by then, even
    on a quiet shop where none changed. A change a page's read noted later is no "as of" of the whole:
    it speaks of one record. Before the first pass (or with the snapshots turned off), the newest change
    noted, the only moment anything is known of."""
    finished = snapshots_as_of()
    if finished is not None:
        return finished
    return CountChange.objects.aggregate(newest=Max("seen_at"))["newest"]


def _downloads_by_hour(span: Span, by: By | None) -> list[dict[str, Any]]:
    key = {"product": ["product_id"], "file": ["file_name"]}.get(by or "", [])
    rows = (
        CountChange.objects.filter(DOWNLOADED, hour__gte=span.start, hour__lt=span.end)
        .annotate(hour_text=Cast("hour", CharField()))
        .values("hour_text", *key)
        .annotate(downloads=Sum("delta"))
        .order_by()
    )
    return list(rows)


def downloads_per_period(
    span: Span, *, period: Period = "day", by: By | None = None, as_of: datetime | None = None
) -> Figure:
    """Downloads per day (or week) over the span; `by` product or file: one row per period and key that
    had downloads (the CSV behind the "by product" and "by file" figures)."""
    as_of = as_of if as_of is not None else downloads_as_of()
    periods = _periods(span, period)
    unit = period_column(period)
    if by is None:
        totals = dict.fromkeys(periods, 0)
        for row in _downloads_by_hour(span, None):
            start = period_start(_local_day(row["hour_text"], span.zone), period)
            totals[start] = totals.get(start, 0) + int(row["downloads"])
        total = sum(totals.values())
        values = {"downloads": _downloads(total), "days": span.during()}
        if period == "day":
            summary = ngettext(
                "%(downloads)s %(days)s, %(count)s day.",
                "%(downloads)s %(days)s, %(count)s days.",
                len(periods),
            )
        else:
            summary = ngettext(
                "%(downloads)s %(days)s, %(count)s week.",
                "%(downloads)s %(days)s, %(count)s weeks.",
                len(periods),
            )
        return Figure(
            title=_("Downloads per day") if period == "day" else _("Downloads per week"),
            summary=summary % {**values, "count": grouped(len(periods))} + _busiest(totals, period),
            columns=(unit, _("Downloads")),
            rows=[(start, totals[start]) for start in periods],
            as_of=as_of,
            csv_name=f"downloads-per-{period}",
            series=(_("Downloads"),),
            extra={"starts": periods},
        )
    name = "product_id" if by == "product" else "file_name"
    cells: dict[tuple[date, object], int] = defaultdict(int)
    for row in _downloads_by_hour(span, by):
        start = period_start(_local_day(row["hour_text"], span.zone), period)
        cells[(start, row[name])] += int(row["downloads"])
    names = product_names_known({key for _, key in cells}) if by == "product" else {}

    def label(key: object) -> str:
        return _product_label(key, names) if by == "product" else str(key)

    ordered = sorted(cells, key=lambda cell: (cell[0], -cells[cell], str(cell[1])))
    titles = {
        ("day", "product"): (
            _("Downloads per day, by product"),
            _("%(downloads)s %(days)s, per day and product."),
        ),
        ("day", "file"): (
            _("Downloads per day, by file"),
            _("%(downloads)s %(days)s, per day and file."),
        ),
        ("week", "product"): (
            _("Downloads per week, by product"),
            _("%(downloads)s %(days)s, per week and product."),
        ),
        ("week", "file"): (
            _("Downloads per week, by file"),
            _("%(downloads)s %(days)s, per week and file."),
        ),
    }
    title, summary = titles[(period, by)]
    return Figure(
        title=title,
        summary=summary % {"downloads": _downloads(sum(cells.values())), "days": span.during()},
        columns=(unit, _("Product") if by == "product" else _("File"), _("Downloads")),
        rows=[(start, label(key), cells[(start, key)]) for start, key in ordered],
        as_of=as_of,
        csv_name=f"downloads-per-{period}-by-{by}",
    )


def _product_label(product_id: object, names: dict[int, str] | None = None) -> str:
    name = (names or {}).get(product_id) if isinstance(product_id, int) else None
    return f"{name} (#{product_id})" if name else _("Product #%(id)s") % {"id": product_id}


def _totals(span: Span) -> list[tuple[int, str, int]]:
    """(product, file, downloads) over the span: one scan serves both "by product" and "by file"."""
    rows = (
        CountChange.objects.filter(DOWNLOADED, hour__gte=span.start, hour__lt=span.end)
        .values_list("product_id", "file_name")
        .annotate(downloads=Sum("delta"))
        .order_by()
    )
    return [(product_id, file_name, int(downloads)) for product_id, file_name, downloads in rows]


def _ranked(span: Span, by: By, totals: list[tuple[int, str, int]], as_of: datetime | None) -> Figure:
    summed: dict[object, int] = defaultdict(int)
    for product_id, file_name, downloads in totals:
        summed[product_id if by == "product" else file_name] += downloads
    names = product_names_known(summed) if by == "product" else {}
    labelled = sorted(
        (
            (_product_label(key, names) if by == "product" else str(key), count)
            for key, count in summed.items()
        ),
        key=lambda pair: (-pair[1], pair[0]),
    )
    values = {"count": grouped(len(labelled)), "days": span.during()}
    if labelled:
        values["top"] = ", ".join(f"{label} ({grouped(count)})" for label, count in labelled[:3])
        if by == "product":
            summary = ngettext(
                "%(count)s product downloaded %(days)s; most: %(top)s.",
                "%(count)s products downloaded %(days)s; most: %(top)s.",
                len(labelled),
            )
        else:
            summary = ngettext(
                "%(count)s file downloaded %(days)s; most: %(top)s.",
                "%(count)s files downloaded %(days)s; most: %(top)s.",
                len(labelled),
            )
    else:
        summary = (
            _("No product was downloaded %(days)s.")
            if by == "product"
            else _("No file was downloaded %(days)s.")
        )
    return Figure(
        title=_("Downloads by product") if by == "product" else _("Downloads by file"),
        summary=summary % values,
        columns=(_("Product") if by == "product" else _("File"), _("Downloads")),
        rows=list(labelled),
        as_of=as_of,
        csv_name=f"downloads-by-{by}",
        series=(_("Downloads"),),
    )


def downloads_by(span: Span, *, by: By, as_of: datetime | None = None) -> Figure:
    """Downloads over the whole span per product (or file), most downloaded first."""
    return _ranked(span, by, _totals(span), as_of if as_of is not None else downloads_as_of())


def downloads_by_product_and_file(span: Span, *, as_of: datetime | None) -> tuple[Figure, Figure]:
    """downloads_by product and by file, from one scan (the Reports page shows both)."""
    totals = _totals(span)
    return _ranked(span, "product", totals, as_of), _ranked(span, "file", totals, as_of)


# --- The order index and the audit trail ----------------------------------------------------------


def _per_day(span: Span, counted: Iterable[Mapping[str, Any]]) -> dict[date, int]:
    totals = dict.fromkeys(span.days, 0)
    for row in counted:
        day = row["day"]
        if isinstance(day, date) and day in totals:
            totals[day] += int(row["n"])
    return totals


def _counted_by_day(rows: QuerySet[Any], moment: str, span: Span) -> QuerySet[Any]:
    """How many of `rows` fall on each day of the span's zone, by their field `moment` (one GROUP BY)."""
    by_day = rows.annotate(day=TruncDate(moment, tzinfo=span.zone)).values("day")
    return by_day.annotate(n=Count("pk")).order_by()


def never_emailed_per_day(span: Span) -> Figure:
    """Orders placed each day whose download e-mail was never sent (as the order index last saw them)."""
    unsent = order_index_rows().filter(
        ordered_at__gte=span.start, ordered_at__lt=span.end, email_sent_at__isnull=True
    )
    totals = _per_day(span, _counted_by_day(unsent, "ordered_at", span))
    total = sum(totals.values())
    summary = ngettext(
        "%(count)s order placed %(days)s never had the download e-mail.",
        "%(count)s orders placed %(days)s never had the download e-mail.",
        total,
    ) % {"count": grouped(total), "days": span.during()}
    return Figure(
        title=_("Orders never e-mailed, per day"),
        summary=summary + _busiest(totals, "day"),
        columns=(_("Day ordered"), _("Orders never e-mailed")),
        rows=[(day, totals[day]) for day in span.days],
        as_of=order_index_as_of(),
        csv_name="orders-never-emailed",
        not_yet=_("The order index has not read any orders yet."),
        series=(_("Orders never e-mailed"),),
    )


def _succeeded(span: Span) -> Q:
    return Q(outcome=AuditEntry.Outcome.SUCCESS, created_at__gte=span.start, created_at__lt=span.end)


def resends_per_day(span: Span, *, now: datetime | None = None) -> Figure:
    """Download e-mails resent each day (by staff or a bulk fix), from the audit trail."""
    resent = AuditEntry.objects.filter(_succeeded(span), action=EMAIL_RESEND)
    totals = _per_day(span, _counted_by_day(resent, "created_at", span))
    total = sum(totals.values())
    summary = ngettext(
        "%(count)s download e-mail resent %(days)s.",
        "%(count)s download e-mails resent %(days)s.",
        total,
    ) % {"count": grouped(total), "days": span.during()}
    return Figure(
        title=_("Resends per day"),
        summary=summary + _busiest(totals, "day"),
        columns=(_("Day"), _("Resends")),
        rows=[(day, totals[day]) for day in span.days],
        as_of=now or timezone.now(),
        csv_name="resends-per-day",
        series=(_("Resends"),),
    )


_KINDS = ("fixes", "resends", "attaches", "undos")


def _activity(span: Span, *, per_day: bool) -> list[dict[str, Any]]:
    """Successful audit entries counted by kind, per person (and per day in the span's zone)."""
    entries = AuditEntry.objects.filter(_succeeded(span))
    if per_day:
        entries = entries.annotate(day=TruncDate("created_at", tzinfo=span.zone))
    counted = (
        entries.values(*(["day"] if per_day else []), "actor_name")
        .annotate(
            fixes=Count("pk", filter=Q(action__in=FIXES, undo_of__isnull=True)),
            resends=Count("pk", filter=Q(action=EMAIL_RESEND, undo_of__isnull=True)),
            attaches=Count("pk", filter=Q(action__in=ATTACHES, undo_of__isnull=True)),
            undos=Count("pk", filter=Q(undo_of__isnull=False)),
        )
        .order_by()
    )
    return [row for row in counted if _sum(row)]


def _activity_summary(span: Span, rows: list[dict[str, Any]]) -> str:
    totals = [sum(int(row[kind]) for row in rows) for kind in _KINDS]
    people = {row["actor_name"] for row in rows}
    if not people:
        return _("Nobody made a fix, a resend, an attach or an undo %(days)s.") % {"days": span.during()}
    fixes, resends, attaches, undos = totals
    return ngettext(
        "%(days)s, %(count)s person made %(fixes)s, %(resends)s, %(attaches)s and %(undos)s.",
        "%(days)s, %(count)s people made %(fixes)s, %(resends)s, %(attaches)s and %(undos)s.",
        len(people),
    ) % {
        "days": capitalized(span.during()),
        "count": grouped(len(people)),
        "fixes": ngettext("%(count)s fix", "%(count)s fixes", fixes) % {"count": grouped(fixes)},
        "resends": ngettext("%(count)s resend", "%(count)s resends", resends) % {"count": grouped(resends)},
        "attaches": ngettext("%(count)s attach", "%(count)s attaches", attaches)
        % {"count": grouped(attaches)},
        "undos": ngettext("%(count)s undo", "%(count)s undos", undos) % {"count": grouped(undos)},
    }


def staff_activity(span: Span, *, now: datetime | None = None) -> Figure:
    """Per person and day: record fixes, resends, attaches (and detaches), undos; busiest first within
    a day. Only successful entries count (bulk fixes' items included)."""
    found = sorted(_activity(span, per_day=True), key=lambda row: (row["day"], -_sum(row), row["actor_name"]))
    return Figure(
        title=_("Staff activity per day"),
        summary=_activity_summary(span, found),
        columns=(_("Day"), _("Person"), _("Fixes"), _("Resends"), _("Attaches"), _("Undos")),
        rows=[(row["day"], str(row["actor_name"]), *(int(row[kind]) for kind in _KINDS)) for row in found],
        as_of=now or timezone.now(),
        csv_name="staff-activity",
    )


def staff_per_person(span: Span, *, now: datetime | None = None) -> Figure:
    """Per person over the whole span: the same counts as staff_activity, and all of them together (the
    chart's bars), busiest first."""
    found = sorted(_activity(span, per_day=False), key=lambda row: (-_sum(row), row["actor_name"]))
    return Figure(
        title=_("Staff activity"),
        summary=_activity_summary(span, found),
        columns=(_("Person"), _("Fixes"), _("Resends"), _("Attaches"), _("Undos"), _("All")),
        rows=[(str(row["actor_name"]), *(int(row[kind]) for kind in _KINDS), _sum(row)) for row in found],
        as_of=now or timezone.now(),
        csv_name="staff-activity-per-person",
    )


def _sum(row: Mapping[str, Any]) -> int:
    return sum(int(row[kind]) for kind in _KINDS)
