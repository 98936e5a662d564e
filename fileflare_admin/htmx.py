"""One way for each web concern every app's views share.

- `HtmxHttpRequest`: a request that went through django-htmx's middleware (`request.htmx`).
- `StaffRequest`: the same, signed in (LoginRequiredMiddleware guarantees it on every dashboard page).
- `safe_next()`: a `next` URL from the request, only when it stays on this site.
- `page_or_partial()`: the whole page, or only its partial for an htmx request; always `Vary: HX-Request`
  so no cache hands a partial to a full page load (or the reverse).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class StaffRequest(HtmxHttpRequest):
    """A signed-in person's request: every dashboard view but sign-in and /healthz gets one."""

    user: User  # narrowed: LoginRequiredMiddleware runs before every view


def safe_next(request: HttpRequest, candidate: str | None, fallback: str) -> str:
    """`candidate` when it is a path on this site (never another host, never a scheme change), else
    `fallback`. Every "back to where you were" link and redirect goes through here."""
    if (
        candidate
        and candidate.startswith("/")
        and not candidate.startswith("//")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return fallback


def wants_partial(request: HtmxHttpRequest) -> bool:
    """An htmx swap into the page, not a history restore or a boosted navigation (those need the page)."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def page_or_partial(
    request: HtmxHttpRequest,
    *,
    page: str,
    partial: str,
    context: Mapping[str, Any],
    status: int = 200,
) -> HttpResponse:
    """Render `page`, or `partial` for an htmx swap; both vary on HX-Request."""
    template = partial if wants_partial(request) else page
    return varied(render(request, template, dict(context), status=status))


def varied(response: HttpResponse) -> HttpResponse:
    """A response whose content depends on whether htmx asked (a page or a part of it): it varies on
    HX-Request, so no cache hands one for the other."""
    patch_vary_headers(response, ("HX-Request",))
    return response
