"""The Reports page, each figure's CSV and each chart's SVG: thin views over insights.report."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fileflare_admin.days import day_text
from fileflare_admin.htmx import StaffRequest
from fileflare_admin.spreadsheet import csv_lines
from insights import charts, report
from insights.figures import Figure, Period
from insights.forms import PRESETS, RangeForm
from staff import roles


def _figure(request: StaffRequest, name: str) -> tuple[Figure, report.Kind]:
    form = RangeForm(request.GET)
    kind = report.KINDS.get(name)
    if kind is None:
        raise Http404("No report figure by that name.")
    figure = report.figure_get(
        actor=request.user, name=name, span=form.span(), period=cast(Period, form.unit())
    )
    return figure, kind


@require_GET
def report_page(request: StaffRequest) -> HttpResponse:
    roles.require(request.user, "view_reports")
    form = RangeForm(request.GET)
    span = form.span()
    page = report.report_page(actor=request.user, span=span, period=cast(Period, form.unit()))
    # The chart and CSV links ask for the same days, typed or preset, whatever the form said; in the
    # page's language, which the address carries too: a browser keeps a chart a minute (figure_svg), so
    # one drawn in another language before a change of language is not shown again.
    query = "?" + urlencode(
        {
            "start": span.first.isoformat(),
            "end": span.last.isoformat(),
            "period": page.period,
            "lang": translation.get_language(),
        }
    )
    preset = form.preset()
    if form.is_valid() and preset:  # the date boxes show the preset's days, ready to change
        form = RangeForm(
            {**request.GET.dict(), "start": span.first.isoformat(), "end": span.last.isoformat()}
        )
    context = {
        "form": form,
        "page": page,
        "presets": PRESETS,
        "preset": preset,
        "query": query,
        # The reason the at-limit bulk fix is prefilled with, as its person would write it.
        "at_limit_reason": _("Customers at or near their download limit (Reports, %(day)s)")
        % {"day": day_text(timezone.localdate())},
        "download_csvs": [
            (
                "downloads-per-period-by-product",
                _("CSV per day and product") if page.period == "day" else _("CSV per week and product"),
            ),
            (
                "downloads-per-period-by-file",
                _("CSV per day and file") if page.period == "day" else _("CSV per week and file"),
            ),
        ],
        "staff_csvs": [("staff-activity", _("CSV per day and person"))],
    }
    return render(request, "insights/report_page.html", context)


@require_GET
def figure_csv(request: StaffRequest, name: str) -> StreamingHttpResponse:
    figure, _kind = _figure(request, name)
    response = StreamingHttpResponse(csv_lines(figure.csv_rows()), content_type="text/csv; charset=utf-8")
    span = RangeForm(request.GET).span()
    days = "" if name == "at-limit" else f"-{span.first.isoformat()}-to-{span.last.isoformat()}"
    response["Content-Disposition"] = f'attachment; filename="{figure.csv_name}{days}.csv"'
    return response


@require_GET
def figure_svg(request: StaffRequest, name: str) -> HttpResponse:
    figure, kind = _figure(request, name)
    if not kind.chart:
        raise Http404("That figure has no chart: its table is on the Reports page.")
    svg = charts.ranking_chart(figure) if kind.chart == "ranking" else charts.figure_chart(figure)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Security-Policy"] = charts.SVG_POLICY  # the picture may style itself, never run
    response["Cache-Control"] = "private, max-age=60"
    return response
