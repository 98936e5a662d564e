from django.conf import settings
from django.http import HttpRequest


def dashboard(request: HttpRequest) -> dict[str, object]:
    """What the page frame needs on every page: the search query and whether we run on the sandbox."""
    return {
        "search_query": request.GET.get("q", "") if request.resolver_match else "",
        "demo_mode": settings.DEMO_MODE,
    }
