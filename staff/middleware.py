"""The rule that a signed-in account without a role (neither Support nor Merchant, not a superuser)
sees no page. Runs after LoginRequiredMiddleware, so a signed-out visitor has already been sent to
sign in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from staff.roles import NotAllowed, require_staff


class RoleRequiredMiddleware:
    """Open views (`login_not_required`), signing out, and Django's own admin (which checks is_staff and
    model permissions itself) are left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not getattr(view_func, "login_required", True):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and ("admin" in match.namespaces or match.url_name == "logout"):
            return None
        try:
            require_staff(user)
        except NotAllowed as refusal:
            return render(request, "403.html", {"exception": refusal.user_message}, status=403)
        return None
