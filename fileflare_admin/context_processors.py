from django.conf import settings
from django.http import HttpRequest

from staff.roles import role_label


def dashboard(request: HttpRequest) -> dict[str, object]:
    """What the page frame needs on every page: the search query and whether we run on the sandbox."""
    return {
        "search_query": request.GET.get("q", "") if request.resolver_match else "",
        "demo_mode": settings.DEMO_MODE,
        # Lazy: only pages that show the header pay for the group lookup.
        "user_role": lambda: role_label(request.user) if request.user.is_authenticated else "",
    }
