"""The Reports page's charts: pygal draws each figure as SVG on the server, served from its own URL and
shown as `<img>` with the figure's summary as its alt text (the table and CSV beside it carry the numbers).

Why pygal (README, "Reports"): the SVG is made here, so the page ships no chart script, loads nothing
from a CDN and keeps its Content-Security-Policy as it is; the library is maintained (3.x, 2026) and
renders a year of days in tens of milliseconds. pygal writes a `<script>` of tooltip settings into every
chart even with `js=[]`: it is taken out of the tree before the SVG is written, and the SVG's own
response forbids scripts (svg_policy), so the chart runs nothing even when opened by itself. Its `<style>`
lives inside the SVG, where an `<img>` keeps it to the picture.

Its words are the page's language (the request's, as for the page: the chart's address carries it, so
a browser's copy of a chart in another language is not reused): the axes' days and numbers as the page
writes them (insights.figures.cell_text), the series' name, "Nothing in this range".

Colour is never the only signal: each chart draws one series in one colour; what differs between bars
is their place and their label, and the numbers are in the table under the chart.
"""

from __future__ import annotations

from xml.etree import ElementTree

import pygal
from django.utils import formats
from django.utils.translation import gettext as _
from pygal.style import Style

from insights.figures import Cell, Figure, cell_text

# The dashboard's colours (static/css/app.css) and a font the page already uses.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2330",
    foreground_strong="#1d2330",
    foreground_subtle="#dde1e8",
    opacity="1",
    opacity_hover="1",
    colors=("#2456d6",),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    tooltip_font_size=12,
)
MOST_BARS_LABELLED = 12  # a label on every n-th bar, so a year of days stays readable
MOST_KEYS = 15  # the longest "by product" chart (the table lists every product)
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _numbers(rows: list[tuple[Cell, ...]], column: int) -> list[int]:
    return [value if isinstance(value, int) else 0 for value in (row[column] for row in rows)]


def _number(value: object) -> str:
    """A value or an axis' step as the page's language writes numbers ("1,536", "1 536", "2.5", "2,5")."""
    if not isinstance(value, int | float):
        return ""
    if float(value).is_integer():
        return cell_text(int(value))
    return formats.number_format(value, decimal_pos=1, force_grouping=True)


def _svg(chart: pygal.graph.graph.Graph) -> bytes:
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return b"<?xml version='1.0' encoding='utf-8'?>\n" + ElementTree.tostring(tree, encoding="utf-8")


def _config(**options: object) -> dict[str, object]:
    return {
        "style": STYLE,
        "js": [],
        "show_legend": False,
        "width": 800,
        "height": 280,
        "margin": 8,
        "truncate_label": 28,
        "print_zeroes": False,
        "no_data_text": _("Nothing in this range"),
        "value_formatter": _number,
        **options,
    }


def figure_chart(figure: Figure, *, column: int = -1) -> bytes:
    """A bar per row of the figure, labelled by its first column; the value is `column` (the last)."""
    rows = figure.rows
    labels = [cell_text(row[0]) for row in rows]
    every = max(1, -(-len(labels) // MOST_BARS_LABELLED))
    chart = pygal.Bar(
        **_config(
            x_labels_major_every=every,
            show_minor_x_labels=False,
            x_label_rotation=0 if every == 1 and len(labels) <= 8 else 20,
            print_values=len(labels) <= 31,
        )
    )
    chart.x_labels = labels
    chart.add(figure.columns[column], _numbers(rows, column if column >= 0 else len(figure.columns) - 1))
    return _svg(chart)


def ranking_chart(figure: Figure) -> bytes:
    """The figure's first MOST_KEYS rows as horizontal bars, the biggest on top, each with its number."""
    rows = figure.rows[:MOST_KEYS]
    chart = pygal.HorizontalBar(
        **_config(height=max(120, 34 * len(rows) + 40), print_values=True, truncate_label=40)
    )
    chart.x_labels = [cell_text(row[0]) for row in reversed(rows)]
    chart.add(figure.columns[-1], list(reversed(_numbers(rows, len(figure.columns) - 1))))
    return _svg(chart)
