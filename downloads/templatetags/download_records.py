"""Template helpers for download-record rows and the sortable list."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from django import template
from django.http import QueryDict
from django.template.defaulttags import querystring
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from downloads import derived
from downloads.limits import limits_for_records
from downloads.products import product_names_known
from fileflare_admin import fragments
from fileflare_admin.templatetags.display import shorten
from staff.roles import Permissions

register = template.Library()

_DOWNLOAD_ID = re.compile(r"[0-9A-Za-z]{1,64}")


@register.simple_tag
def record_urls(record: Any) -> dict[str, str] | None:
    """The record's edit, delete and count URLs; None when its id is not one the API accepts
    (a row from a misbehaving upstream then shows no actions rather than breaking the page)."""
    download_id = getattr(record, "download_id", None)
    if not isinstance(download_id, str) or not _DOWNLOAD_ID.fullmatch(download_id):
        return None
    return {name: reverse(f"downloads:{name}", args=[download_id]) for name in ("edit", "delete", "count")}


@register.filter
def short_id(value: object, length: int = 14) -> SafeString:
    """A download ID cut as display's `shorten` cuts it, its ellipsis written `&hellip;`: a row whose
    names are plain ASCII stays so, and Python keeps a 100-row table at one byte a character (a single
    "…" makes it two: twice the copying, and encoding the page costs 50 times as much)."""
    text = shorten(value, length)
    if text.endswith("…"):
        return format_html("{}&hellip;", text[:-1])
    return conditional_escape(text)


@register.simple_tag
def order_link(number: object) -> SafeString:
    """"#1050" linking to the order's page (the orders search), for a sentence that names the order."""
    return format_html(
        '<a href="{}?q={}" title="{}">#{}</a>',
        reverse("orders:list"),
        number,
        _("Open order #%(number)s") % {"number": number},
        number,
    )


@register.simple_tag
def product_names(records: Any) -> dict[int, str]:
    """The product names known for a table's records, asked of the cache once (downloads.products)."""
    return product_names_known(derived.of_records("product-ids", records or (), _product_ids))


def _product_ids(records: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(getattr(record, "product_id", None) for record in records))


@register.simple_tag
def product_name(record: Any, names: object = None) -> str:
    """The record's product name when known; a row alone (after a save) asks the cache for its own."""
    product_id = getattr(record, "product_id", None)
    known = names if isinstance(names, dict) else product_names_known([product_id])
    return known.get(product_id, "") if isinstance(product_id, int) else ""


@register.simple_tag
def count_limits(record: Any, may: Permissions | None) -> dict[str, Any]:
    """min/max for the in-place count input, and whether "Reset to 0" is within this person's range."""
    count = getattr(record, "download_count", 0)
    count = count if isinstance(count, int) and count >= 0 else 0
    span = may.count_range(count) if may is not None else (0, 0)
    if span is None:
        return {"min": 0, "max": None, "can_reset": True, "step": None}
    low, high = span
    return {"min": low, "max": high, "can_reset": low == 0, "step": may.max_count_step if may else 0}


ROW = "downloads/_record_row.html"


@register.simple_tag(takes_context=True)
def record_rows(context: template.Context, records: Any) -> SafeString:
    """The table's rows: ROW for each record, as `{% include %}` would, each cached by everything it
    shows (fileflare_admin.fragments): the record with every field the API sent, its product name and
    known limit (every field, and how long ago it was seen as its line says it: "3 days ago"), the columns
    shown and the page its links return to; the fragments module adds the person's permissions, time
    zone and language. The limit's sentences ("5 of 10", where it comes from) follow from those and are
    written only for a row rendered afresh. A row with a message (after a save) is never cached."""
    records = list(records or ())
    names = product_names(records)
    known_limits = context.get("record_limits")
    if known_limits is None:  # one query for the table, not one a row
        known_limits = limits_for_records([row for row in records if hasattr(row, "download_file_name")])
    request = context.get("request")
    back = context.get("row_next") or (request.get_full_path() if request is not None else "")
    shown = (bool(context.get("show_order")), back, bool(context.get("row_message")))
    now = timezone.now()  # one moment for the table: its rows' keys and their lines say the same "ago"
    values = {"product_names": names, "record_limits": known_limits, "limits_now": now}

    def items() -> list[tuple[Any, dict[str, Any]]]:
        rows = []
        for record in records:
            data = fragments.data_version(record)
            version = None
            if data is not None and not shown[2]:
                known = known_limits.get(str(getattr(record, "download_id", "")))
                limit = (fragments.data_version(known), known.age(now)) if known is not None else None
                version = (data, product_name(record, names), limit, shown)
            rows.append((version, {"record": record, **values}))
        return rows

    return fragments.render_many(context, ROW, items, whole=_whole(records, names, known_limits, now, shown))


def _whole(
    records: list[Any],
    names: dict[int, str],
    known_limits: dict[str, Any],
    now: datetime,
    shown: tuple[Any, ...],
) -> tuple[Any, ...] | None:
    """The version of a table's rows together (fragments.render_many's `whole`), naming all that each
    row's version as record_rows names it does: the records by one hash of theirs (worked out once per
    records answer: downloads.derived), the product names (a row's is its product's), each known limit
    once however many rows share it and which row has which. None for a single row (the table is its row)
    and for rows that are not cached."""
    if len(records) < 2 or shown[2]:
        return None
    rows = derived.of_records("rows-digest", records, _rows_digest)
    if rows is None:
        return None
    digest, ids = rows
    found = list(map(known_limits.get, ids))  # each row's limit: many rows share one
    distinct = list({id(known): known for known in found if known is not None}.values())
    versions = tuple((fragments.data_version(known), known.age(now)) for known in distinct)
    place = {id(known): index for index, known in enumerate(distinct)}
    placed = tuple(map(place.get, map(id, found)))  # which of them each row has (None: no limit)
    return (digest, tuple(sorted(names.items())), versions, placed, shown)


def _rows_digest(records: tuple[Any, ...]) -> tuple[str, tuple[str, ...]] | None:
    """One hash of every record's (fragments.data_digest: every field, in order) and each one's download
    ID as the limits name it; None when a record has no digest."""
    digests = [digest for digest in map(fragments.data_digest, records) if digest is not None]
    if len(digests) < len(records):
        return None
    ids = tuple(str(getattr(record, "download_id", "")) for record in records)
    return hashlib.sha256("|".join(digests).encode()).hexdigest(), ids


@register.simple_tag(takes_context=True)
def record_limit(context: template.Context, record: Any) -> dict[str, Any] | None:
    """The limit known for the record's file on its order (downloads.limits): "5 of 10", where it comes
    from, whether the count is at or over it. The page's `record_limits` (one query for all its rows),
    else looked up for this row alone (a row saved in place)."""
    known_limits = context.get("record_limits")
    if known_limits is None:
        known_limits = limits_for_records([record]) if hasattr(record, "download_file_name") else {}
    return _limit_line(known_limits, record, context.get("limits_now") or timezone.now())


def _limit_line(known_limits: dict[str, Any], record: Any, now: datetime) -> dict[str, Any] | None:
    known = known_limits.get(str(getattr(record, "download_id", "")))
    if known is None:
        return None
    count = getattr(record, "download_count", 0)
    count = count if isinstance(count, int) else 0
    return {
        "known": known,
        "used": known.used(count),
        "source": known.source_text(now),
        "reached": known.reached(count),
        "over": known.limit is not None and count > known.limit,
    }


HEAD = "downloads/_records_head.html"
PAGER = "downloads/_records_pager.html"
SEARCH = "downloads/_records_search.html"


def _kept(context: template.Context, template_name: str, *shown: object) -> SafeString:
    """A part of the list rendered once for everything it `shown` besides the viewer, the code and the URL
    prefix; then kept in this process (fileflare_admin.fragments.render_kept)."""
    return fragments.render_kept(context, template_name, shown)


def _kept_query(context: template.Context) -> str:
    """The list's kept query (its links keep the search, the sort and the page size), as one text."""
    query = context.get("query")
    return query.urlencode() if isinstance(query, QueryDict) else repr(query)


@register.simple_tag(takes_context=True)
def records_head(context: template.Context) -> SafeString:
    """The table's header row (HEAD): seven sort links a load, rendered once for each kept query (they keep
    it and say the current sort), the columns this person may sort by and whether the Order column shows."""
    sortable = tuple(sorted(context.get("sortable") or ()))
    return _kept(context, HEAD, _kept_query(context), sortable, bool(context.get("show_order")))


@register.simple_tag(takes_context=True)
def records_pager(context: template.Context) -> SafeString:
    """The list's pager (PAGER): up to six links a load, rendered once for each kept query, page (its
    number, size, last page, whether there is a next) and choice of page sizes."""
    page = context.get("page")
    shown = (page.page, page.per_page, page.last_page, page.has_next) if page is not None else None
    return _kept(context, PAGER, _kept_query(context), shown, tuple(context.get("per_page_choices") or ()))


@register.simple_tag(takes_context=True)
def records_search(context: template.Context) -> SafeString:
    """The list's search box (SEARCH), rendered once for each search it holds."""
    params = context.get("params") or {}
    return _kept(context, SEARCH, params.get("q", ""))


ARROWS = {"ascending": " ▲", "descending": " ▼"}


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, field: str, label: str, css: str = "") -> SafeString:
    """A column header: a sort link (with htmx, keeping the other parameters) when the list offers
    sorting by this field, with the column's current direction for screen readers; else the plain
    header. Written here rather than in a template: a records list has up to fourteen a load."""
    sortable = context.get("sortable") or frozenset()
    query = context.get("query")
    css_attribute = format_html(' class="{}"', css) if css else ""
    if field not in sortable or query is None:
        return format_html('<th scope="col"{}>{}</th>', css_attribute, label)
    state = {field: "ascending", f"-{field}": "descending"}.get(query.get("sort", ""))
    target = f"-{field}" if state == "ascending" else field
    href = reverse("downloads:list") + querystring(context, query, sort=target, page=None)
    return format_html(
        '<th scope="col"{}{}><a href="{}" hx-get="{}" hx-target="#record-results" hx-swap="outerHTML" '
        'hx-push-url="true">{}{}</a></th>',
        css_attribute,
        format_html(' aria-sort="{}"', state) if state else "",
        href,
        href,
        label,
        ARROWS.get(state or "", ""),
    )
