"""The Reports page's tables: a figure's rows written in one pass (a year of days, or a year of staff
activity, is thousands of cells: the template language's loops would take most of the page's time)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from audit.models import AuditEntry
from downloads.suspects import Suspect
from fileflare_admin.templatetags.display import printable
from insights.figures import Cell, Figure, cell_text
from orders.suspects import suspect_key

register = template.Library()


def _cell(value: Cell) -> str:
    """In the page's language and zone: numbers grouped, days and times written out (the CSV keeps
    them as a spreadsheet reads them)."""
    return printable(value) if isinstance(value, str) else cell_text(value)


@register.simple_tag
def figure_rows(figure: Figure) -> SafeString:
    """Each row as `<tr>`, each cell with its column's name as data-label (a phone stacks them)."""
    labels = [escape(column) for column in figure.columns]
    return mark_safe(  # noqa: S308  # every piece is escaped above and below
        "\n".join(
            "<tr>"
            + "".join(
                f'<td data-label="{label}">{escape(_cell(value))}</td>'
                for label, value in zip(labels, row, strict=True)
            )
            + "</tr>"
            for row in figure.rows
        )
    )


@register.filter
def given_back_in(suspect: Suspect, figure: Figure) -> AuditEntry | None:
    """The fix that already gave this suspect's downloads back (orders.suspects.given_back), if any."""
    backs = figure.extra.get("given_back")
    return backs.get(suspect_key(suspect)) if isinstance(backs, dict) else None
