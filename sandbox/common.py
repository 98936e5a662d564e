"""What every imitated upstream shares: JSON answers, request bodies, small HTML pages."""

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


def answer(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_body(request: HttpRequest) -> tuple[Any, str | None]:
    """The decoded JSON body (an empty body is {}), or None and why it could not be read."""
    try:
        return json.loads(request.body or b"{}"), None
    except (ValueError, UnicodeDecodeError) as error:
        return None, str(error)


def epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def html_page(title: str, body: str, *, status: int = 200) -> HttpResponse:
    """A plain page for people playing the customer or exploring the sandbox (`body` is already escaped)."""
    return HttpResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}td,th{padding:.25rem .75rem .25rem 0;text-align:left}"
        "pre{white-space:pre-wrap}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>",
        status=status,
    )
