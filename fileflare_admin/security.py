"""Security plumbing the settings name: the CSP nonce for templates, the client address behind a proxy,
the sign-in guard backend (django-axes) and the CSRF failure page. The lockout rules, the warning and the
lockout page are in fileflare_admin.signin; the rule that an account without a role sees no page is
staff.middleware's.

Nothing here imports models at module level: settings and middleware import this module early.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from typing import Any

from axes.backends import AxesStandaloneBackend
from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


# --- Content-Security-Policy ------------------------------------------------------------------------


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """`csp_nonce` in every template: base.html puts it on app.js, django-htmx's {% htmx_script %} on htmx.

    django-csp only adds the nonce to the header once someone reads it, so it is read here, before the
    response is built: every page gets one nonce shared by its header and its script tags.
    """
    nonce = getattr(request, "csp_nonce", None)
    return {"csp_nonce": str(nonce) if nonce is not None else ""}


# django-csp's own attributes on a response whose view asked for another policy, or none (its decorators).
_OWN_POLICY = frozenset(
    f"_csp_{kind}{suffix}" for kind in ("config", "update", "replace", "exempt") for suffix in ("", "_ro")
)
_NONCE_MARK = "\x00nonce\x00"  # never in a policy; a nonce is base64


class PolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, which builds the policy's text from the settings afresh for every response:
    the dashboard's policy is the settings' own, so its text is built once per process (with a mark where
    each response's nonce goes). Anything else (DEBUG's error pages, a report-only policy, excluded
    prefixes, a view's own policy through django-csp's decorators) is django-csp's as before."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        own = settings.CONTENT_SECURITY_POLICY
        if (
            settings.DEBUG
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or not own
            or own.get("EXCLUDE_URL_PREFIXES")
            or HEADER in response
            or not _OWN_POLICY.isdisjoint(vars(response))
        ):
            return super().process_response(request, response)
        nonce = getattr(request, "_csp_nonce", None)
        if nonce is None:
            response[HEADER] = _policy(with_nonce=False)
            # as django-csp: a nonce asked for after the header is written would be in no header
            setattr(request, "csp_nonce", CheckableLazyObject(self._csp_nonce_post_response))  # noqa: B010
        else:
            response[HEADER] = _policy(with_nonce=True).replace(_NONCE_MARK, nonce)
        return response


@functools.cache
def _policy(*, with_nonce: bool) -> str:
    return build_policy(nonce=_NONCE_MARK if with_nonce else None)


@receiver(setting_changed)
def _forget_policy(setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policy.cache_clear()


# --- Client address -------------------------------------------------------------------------------


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _trusted_proxy(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str | None:
    """The address sign-in failures are counted against.

    X-Forwarded-For is believed only for a request that came from a trusted proxy (REMOTE_ADDR is in
    TRUSTED_PROXIES), and only through as many hops as TRUSTED_PROXY_COUNT: from the right, each entry
    was appended by the proxy after it, so the client is the first address that is not one of our proxies
    (or the TRUSTED_PROXY_COUNT-th). Entries further left are the client's own claims, never trusted. A
    request that reached the app directly, or without the header, counts against its socket's address.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    # None when there is no usable address (a request made on the server itself): axes stores addresses
    # in an IP column, which PostgreSQL checks, so a placeholder word would fail the sign-in.
    if remote is None or settings.TRUSTED_PROXY_COUNT <= 0 or not _trusted_proxy(remote):
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    address = remote
    for hop in list(reversed(chain))[: settings.TRUSTED_PROXY_COUNT]:
        candidate = _valid_ip(hop)
        if candidate is None:
            return address  # unreadable: the last address a proxy of ours vouched for
        address = candidate
        if not _trusted_proxy(address):
            break
    return address


# --- Sign-in lockout (django-axes) ------------------------------------------------------------------


class SignInGuardBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first in AUTHENTICATION_BACKENDS.

    Every sign-in over the web passes its request (the sign-in page and the admin's both do), and that is
    what is counted and locked. A check without a request comes from code running on the server itself
    (a shell, a management command, the test client's `login()`): there is no client to lock out, so it
    is left to the next backend instead of failing with axes' ValueError.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


# --- CSRF ----------------------------------------------------------------------------------------


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused POST without a valid CSRF token: our 403 page (Django's own has an inline style)."""
    logger.warning("CSRF check refused %s %s: %s", request.method, request.path, reason)
    sentence = _(
        "This form could not be sent: it expired or came from another site. "
        "Go back, reload the page and send it again."
    )
    return render(request, "403.html", {"exception": sentence}, status=403)

