import logging
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.http import require_GET, require_http_methods

from fileflare_admin.status import (
    all_upstreams,
    shared_cache_status,
    status_checks_last,
    status_checks_run,
    status_sections,
)

logger = logging.getLogger("fileflare_admin")
# What a person typed is echoed back on the database page, except what must never be shown again.
NEVER_ECHOED = ("password", "csrfmiddlewaretoken")
# A database that is locked, gone or unreachable (not a bug such as a broken constraint: that stays a 500).
UNREACHABLE_DATABASE = (OperationalError, InterfaceError)


@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    """Whether each upstream answers, how fast, its recent errors, how much of the budget is in use,
    whether the shared cache answers, and what the apps registered (the order index's sync). The upstream
    checks (about ten real requests) run only on "Run the checks" (a POST, with its CSRF token), at most
    once every STATUS_CHECK_MIN_SECONDS for the whole team; a GET (?check=1 too) shows the last run."""
    return render(
        request,
        "status.html",
        {
            "upstreams": all_upstreams(),
            "shared_cache": shared_cache_status(),
            "sections": status_sections(),
            "checks": status_checks_run() if request.method == "POST" else status_checks_last(),
            "checks_gap": settings.STATUS_CHECK_MIN_SECONDS,
            "email_budget": settings.FILEFLARE_EMAIL_BUDGET_PER_MINUTE,
            "cache_ttl": settings.UPSTREAM_CACHE_TTL,
        },
    )


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the process is up. Says nothing about the upstreams, the shared cache or the
    database (see /status/): a worker without them still answers every page it can."""
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (Django's admin): ours, not a 404."""
    return redirect(static("favicon.svg"), permanent=True)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)  # the template says "That page does not exist."


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if isinstance(error, UNREACHABLE_DATABASE):  # before the view (session, sign-in); see the middleware
        return database_unavailable(request, error)
    # Rendered without the request context: whatever broke may be in it.
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def _typed(request: HttpRequest) -> list[tuple[str, str, bool]]:
    """(field, value, long) for every value a form sent, except passwords and the CSRF token."""
    if request.method != "POST":
        return []
    return [
        (name, value, "\n" in value or len(value) > 80)
        for name, values in request.POST.lists()
        if not any(word in name.lower() for word in NEVER_ECHOED)
        for value in values
    ]


def database_unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    """503 with a sentence, and for a form what the person typed, ready to send again.

    Rendered without the request context (its context processors read the database). htmx does not swap
    an error status, so an htmx request gets the sentence with 200 into the page's main region.
    """
    logger.error("Database unavailable for %s %s: %s", request.method, request.path, type(error).__name__)
    context = {
        "typed": _typed(request),
        "action": request.path,
        "again": request.get_full_path() if request.method == "GET" else request.path,
        "csrf_value": request.POST.get("csrfmiddlewaretoken", "") if request.method == "POST" else "",
    }
    page = loader.get_template("503.html").render(context)
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(page)
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "innerHTML"
    else:
        response = HttpResponse(page, status=503)
        response["Retry-After"] = "60"
    response["X-Dashboard-Degraded"] = "database unavailable"
    return response
