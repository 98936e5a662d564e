"""The Reports page as a service: which figures a person may see, each by the name its CSV and chart URLs
carry, built from the dashboard's own database only (0 upstream calls)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from downloads.limits import ago
from downloads.suspects import Suspect
from fileflare_admin.numbers import grouped
from insights import figures
from insights.figures import Figure, Period, Span
from insights.limits import AtLimit, at_limit_now
from insights.suspects import suspects_between, suspects_figure
from staff import roles
from staff.roles import Action, AnyUser

Chart = Literal["bars", "ranking", ""]
AT_LIMIT_SHOWN = 100  # the newest on the page (and in its bulk fix); the CSV has them all


@dataclass(frozen=True)
class Kind:
    """One figure of the page: how it is built, who may see it, how it is drawn."""

    build: Callable[[Span, Period], Figure]
    action: Action
    chart: Chart


AT_LIMIT_TITLE = gettext_lazy("Customers at or near their download limit now")


def at_limit_summary(items: list[AtLimit]) -> str:
    reached = sum(1 for item in items if item.reached)
    near = len(items) - reached
    return ngettext(
        "%(reached)s at the limit and %(near)s within one download of it, by the counts last seen.",
        "%(reached)s at the limit and %(near)s within one download of it, by the counts last seen.",
        near,
    ) % {
        "reached": ngettext("%(count)s record", "%(count)s records", reached) % {"count": grouped(reached)},
        "near": grouped(near),
    }


def at_limit_figure(items: list[AtLimit]) -> Figure:
    """Customers at or near their limit, as a table (the CSV): newest sighting first."""
    return Figure(
        title=str(AT_LIMIT_TITLE),
        summary=at_limit_summary(items),
        columns=(
            _("Count seen"),
            _("Order"),
            _("File"),
            _("Downloads"),
            _("Limit"),
            _("Left"),
            _("Limit's source"),
            _("Download ID"),
        ),
        rows=[
            (
                item.seen_at,
                item.order_number,
                item.file_name,
                item.count,
                item.limit.limit,
                item.left,
                item.limit_source,
                item.download_id,
            )
            for item in items
        ],
        as_of=figures.downloads_as_of(),
        csv_name="customers-at-their-limit",
    )


KINDS: dict[str, Kind] = {
    "downloads": Kind(
        lambda span, period: figures.downloads_per_period(span, period=period), "view_reports", "bars"
    ),
    "downloads-by-product": Kind(
        lambda span, period: figures.downloads_by(span, by="product"), "view_reports", "ranking"
    ),
    "downloads-by-file": Kind(
        lambda span, period: figures.downloads_by(span, by="file"), "view_reports", "ranking"
    ),
    "downloads-per-period-by-product": Kind(
        lambda span, period: figures.downloads_per_period(span, period=period, by="product"),
        "view_reports",
        "",
    ),
    "downloads-per-period-by-file": Kind(
        lambda span, period: figures.downloads_per_period(span, period=period, by="file"), "view_reports", ""
    ),
    "at-limit": Kind(lambda span, period: at_limit_figure(at_limit_now()), "view_reports", ""),
    "suspects": Kind(
        lambda span, period: suspects_figure(span, suspects_between(span.start, span.end)), "view_reports", ""
    ),
    "never-emailed": Kind(lambda span, period: figures.never_emailed_per_day(span), "view_reports", "bars"),
    "resends": Kind(lambda span, period: figures.resends_per_day(span), "view_staff_activity", "bars"),
    "staff-activity": Kind(lambda span, period: figures.staff_activity(span), "view_staff_activity", ""),
    "staff-per-person": Kind(
        lambda span, period: figures.staff_per_person(span), "view_staff_activity", "ranking"
    ),
}


def figure_get(*, actor: AnyUser, name: str, span: Span, period: Period) -> Figure:
    """One figure by name. Raises KeyError for no such figure, NotAllowed for a person who may not see it."""
    kind = KINDS[name]
    roles.require(actor, kind.action)
    return kind.build(span, period)


@dataclass(frozen=True)
class ReportPage:
    span: Span
    period: Period
    downloads: Figure
    by_product: Figure
    by_file: Figure
    at_limit: list[AtLimit]  # the newest AT_LIMIT_SHOWN
    at_limit_total: int
    at_limit_summary: str
    never_emailed: Figure
    suspects: list[Suspect]  # link-scanner suspects (insights.suspects) and their figure
    suspects_figure: Figure
    resends: Figure | None  # None: this person may not see staff activity
    staff_activity: Figure | None
    counts_seen: str  # "counts last seen 3 minutes ago", or a sentence saying none were yet


def report_page(*, actor: AnyUser, span: Span, period: Period) -> ReportPage:
    """Every figure this person may see. Raises NotAllowed for a person who may see no report."""
    roles.require(actor, "view_reports")
    staff = roles.allows(actor, "view_staff_activity")
    now = timezone.now()
    items = at_limit_now(now=now, linked_first=AT_LIMIT_SHOWN)
    downloads = figures.downloads_per_period(span, period=period)
    seen = downloads.as_of
    by_product, by_file = figures.downloads_by_product_and_file(span, as_of=seen)
    suspects = suspects_between(span.start, span.end)
    return ReportPage(
        span=span,
        period=period,
        downloads=downloads,
        by_product=by_product,
        by_file=by_file,
        at_limit=items[:AT_LIMIT_SHOWN],
        at_limit_total=len(items),
        at_limit_summary=at_limit_summary(items),
        never_emailed=figures.never_emailed_per_day(span),
        suspects=suspects,
        suspects_figure=suspects_figure(span, suspects),
        resends=figures.resends_per_day(span, now=now) if staff else None,
        staff_activity=figures.staff_per_person(span, now=now) if staff else None,
        counts_seen=(
            _("Download counts last seen %(ago)s.") % {"ago": ago(seen, now)}
            if seen is not None
            else _("No download counts have been seen yet: the figures fill in as the snapshots run.")
        ),
    )
