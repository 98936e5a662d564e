"""Template helpers for download-record rows and the sortable list."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

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


@register.simple_tag
def count_limits(record: Any, perms: dict[str, Any] | None) -> dict[str, Any]:
    """min/max for the in-place count input, and whether "Reset to 0" is within this person's step."""
    count = getattr(record, "download_count", 0)
    count = count if isinstance(count, int) and count >= 0 else 0
    step = (perms or {}).get("max_count_step")
    if step is None:
        return {"min": 0, "max": None, "can_reset": True, "step": None}
    return {"min": max(count - step, 0), "max": count + step, "can_reset": count <= step, "step": step}


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, field: str, label: str, css: str = "") -> str:
    """A column header; a sort link (with htmx) when the page offers sorting by this field."""
    links = context.get("sort_links") or {}
    link = links.get(field)
    css_attr = format_html(' class="{}"', css) if css else ""
    if not link:
        return format_html('<th scope="col"{}>{}</th>', css_attr, label)
    state = link["state"]
    arrow = {"ascending": " ▲", "descending": " ▼"}.get(state or "", "")
    aria = format_html(' aria-sort="{}"', state) if state else ""
    return format_html(
        '<th scope="col"{}{}><a href="{}" hx-get="{}" hx-target="#record-results" hx-swap="outerHTML" '
        'hx-push-url="true">{}{}</a></th>',
        css_attr,
        aria,
        link["url"],
        link["url"],
        label,
        arrow,
    )
