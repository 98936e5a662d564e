from django.conf import settings
from django.http import HttpRequest


def dashboard(request: HttpRequest) -> dict[str, object]:
    """What the page frame needs on every page: the search query and whether we run on the sandbox.

    The header's box searches orders, so it shows only an orders search (never the records page's `q`)."""
    match = request.resolver_match
    return {
        "search_query": request.GET.get("q", "") if match and match.view_name == "orders:list" else "",
        "demo_mode": settings.DEMO_MODE,
    }
