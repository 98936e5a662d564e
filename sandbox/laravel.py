"""How Fileflare (a Laravel application) answers: validation errors, 404s and the paginator."""

import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from sandbox.common import TRUE_VALUES, answer, json_body

M = TypeVar("M", bound=Model)


def invalid(errors: dict[str, list[str]]) -> HttpResponse:
    """Laravel's 422: the first message, "(and N more errors)", and every message by field."""
    messages = [message for field_messages in errors.values() for message in field_messages]
    summary = messages[0] + (
        f" (and {len(messages) - 1} more error{'s' if len(messages) > 2 else ''})"
        if len(messages) > 1
        else ""
    )
    return answer({"message": summary, "errors": errors}, status=422)


def not_found() -> HttpResponse:
    return answer({"message": "Not found."}, status=404)


def route_not_found(request: HttpRequest) -> HttpResponse:
    """Laravel's answer (as JSON) for a path no route matches."""
    return answer({"message": f"The route {request.path.lstrip('/')} could not be found."}, status=404)


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    return answer({"message": f"The {request.method} method is not supported for this route."}, status=405)


def read_json(request: HttpRequest) -> tuple[dict[str, Any] | None, HttpResponse | None]:
    body, problem = json_body(request)
    if problem is not None:
        return None, invalid({"body": ["The request body must be valid JSON."]})
    if not isinstance(body, dict):
        return None, invalid({"body": ["The request body must be a JSON object."]})
    return body, None


class Params:
    """Query parameters checked the way Laravel's validator would, collecting every error."""

    def __init__(self, request: HttpRequest) -> None:
        self.query = request.GET
        self.errors: dict[str, list[str]] = {}

    def integer(self, name: str, default: int | None, minimum: int = 1) -> int | None:
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        if not re.fullmatch(r"-?\d{1,18}", raw):
            self.errors.setdefault(name, []).append(f"The {name} field must be an integer.")
            return default
        value = int(raw)
        if value < minimum:
            self.errors.setdefault(name, []).append(f"The {name} field must be at least {minimum}.")
            return default
        return value

    def flag(self, name: str) -> bool:
        return str(self.query.get(name, "")).lower() in TRUE_VALUES

    def limit_and_page(self) -> tuple[int, int]:
        """`limit` (default 25, at most 1000 returned: a larger one is capped, not refused) and `page`."""
        limit = self.integer("limit", 25)
        page = self.integer("page", 1)
        return min(limit or 25, 1000), page or 1


def _page_url(path: str, page: int) -> str:
    return f"{path}?page={page}"


def _meta_links(path: str, current: int, last: int) -> list[dict[str, Any]]:
    """Laravel's UrlWindow with onEachSide = 3: all pages when few, else a slider with "..." gaps."""
    on_each_side, window = 3, 7
    if last < on_each_side * 2 + 8:
        parts: list[list[int] | None] = [list(range(1, last + 1)), None, None]
    elif current <= window:
        parts = [list(range(1, window + on_each_side + 1)), None, [last - 1, last]]
    elif current > last - window:
        parts = [[1, 2], None, list(range(last - (window + on_each_side - 1), last + 1))]
    else:
        parts = [[1, 2], list(range(current - on_each_side, current + on_each_side + 1)), [last - 1, last]]
    links = [
        {"url": _page_url(path, current - 1) if current > 1 else None, "label": "« Previous", "active": False}
    ]
    for index, pages in enumerate(parts):
        if pages is None:
            continue
        if index > 0:
            links.append({"url": None, "label": "...", "active": False})
        links += [
            {"url": _page_url(path, page), "label": str(page), "active": page == current} for page in pages
        ]
    links.append(
        {"url": _page_url(path, current + 1) if current < last else None, "label": "Next »", "active": False}
    )
    return links


def paginate(
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    per_page: int,
    page: int,
    serialize: Callable[[M], dict[str, Any]],
) -> dict[str, Any]:
    """Laravel's LengthAwarePaginator as JSON: `data`, `links`, `meta` (links carry only `page`)."""
    total = queryset.count()
    last = max(1, math.ceil(total / per_page))
    rows = [serialize(row) for row in queryset[(page - 1) * per_page : page * per_page]]
    first_index = (page - 1) * per_page + 1 if rows else None
    path = request.build_absolute_uri(request.path)
    return {
        "data": rows,
        "links": {
            "first": _page_url(path, 1),
            "last": _page_url(path, last),
            "prev": _page_url(path, page - 1) if page > 1 else None,
            "next": _page_url(path, page + 1) if page < last else None,
        },
        "meta": {
            "current_page": page,
            "from": first_index,
            "last_page": last,
            "links": _meta_links(path, page, last),
            "path": path,
            "per_page": per_page,
            "to": first_index + len(rows) - 1 if first_index else None,
            "total": total,
        },
    }
