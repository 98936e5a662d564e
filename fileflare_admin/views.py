from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_GET


def status(request: HttpRequest) -> HttpResponse:
    """Whether each upstream answers, how fast, its recent errors, and how much of the budget is in use."""
    from django.conf import settings

    from fileflare_admin.status import all_upstreams

    return render(
        request,
        "status.html",
        {
            "upstreams": all_upstreams(),
            "email_budget": settings.FILEFLARE_EMAIL_BUDGET_PER_MINUTE,
            "cache_ttl": settings.UPSTREAM_CACHE_TTL,
        },
    )


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the process is up. Says nothing about the upstreams (see /status/)."""
    return HttpResponse("ok", content_type="text/plain")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"reason": "That page does not exist."}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request context: whatever broke may be in it.
    return HttpResponse(loader.get_template("500.html").render(), status=500)
