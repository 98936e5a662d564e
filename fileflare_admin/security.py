"""Security plumbing the settings name: the CSP nonce for templates, the client address behind a proxy,
sign-in lockout (django-axes) and the CSRF failure page. The rule that an account without a role sees
no page is staff.middleware's.

Nothing here imports models at module level: settings and middleware import this module early.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger(__name__)


# --- Content-Security-Policy ------------------------------------------------------------------------


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """`csp_nonce` in every template: base.html puts it on app.js, django-htmx's {% htmx_script %} on htmx.

    django-csp only adds the nonce to the header once someone reads it, so it is read here, before the
    response is built: every page gets one nonce shared by its header and its script tags.
    """
    nonce = getattr(request, "csp_nonce", None)
    return {"csp_nonce": str(nonce) if nonce is not None else ""}


# --- Client address -------------------------------------------------------------------------------


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address sign-in failures are counted against.

    Without a trusted proxy (TRUSTED_PROXY_COUNT=0) that is the socket's peer, REMOTE_ADDR: a client can
    write anything into X-Forwarded-For, so the header is ignored. Behind N proxies that each append the
    address they saw, the client is the N-th entry from the right; entries further left are the
    client's own claims and never trusted.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        chain = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(chain) >= proxies:
            address = _valid_ip(chain[-proxies])
            if address:
                return address
    # None when there is no usable address (a request made on the server itself): axes stores addresses
    # in an IP column, which PostgreSQL checks, so a placeholder word would fail the sign-in.
    return _valid_ip(remote)


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


def lockout_sentence() -> str:
    minutes = settings.AXES_COOLOFF_MINUTES
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"Too many failed sign-ins for this account. Try again in {wait} or ask a merchant to unlock it."


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The sign-in page again, with the lockout sentence and the username kept (429 Too Many Requests)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    next_url = request.POST.get("next", request.GET.get("next", ""))
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    context = {
        "form": form,
        "locked_out": True,
        "lockout_message": lockout_sentence(),
        "next": next_url,
    }
    return render(request, "registration/login.html", context, status=429)


# --- CSRF ----------------------------------------------------------------------------------------


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused POST without a valid CSRF token: our 403 page (Django's own has an inline style)."""
    logger.warning("CSRF check refused %s %s: %s", request.method, request.path, reason)
    sentence = (
        "This form could not be sent: it expired or came from another site. "
        "Go back, reload the page and send it again."
    )
    return render(request, "403.html", {"exception": sentence}, status=403)

