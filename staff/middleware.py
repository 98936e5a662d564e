"""The rule that a signed-in account without a role (neither Support nor Merchant, not a superuser)
sees no page. Runs after LoginRequiredMiddleware, so a signed-out visitor has already been sent to
sign in."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from staff.models import StaffPreferences
from staff.roles import NotAllowed, require


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
            require(user, "use_dashboard")
        except NotAllowed as refusal:
            return render(request, "403.html", {"exception": refusal.user_message}, status=403)
        return None


# The person's chosen zone, remembered in their session ("" = the shop's) so a page costs no query.
TIME_ZONE_SESSION_KEY = "staff_time_zone"


def chosen_time_zone(request: HttpRequest) -> str:
    """The zone this person chose, or "" for the shop's (settings.SHOP_TIME_ZONE)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    name = request.session.get(TIME_ZONE_SESSION_KEY)
    if not isinstance(name, str):
        found = StaffPreferences.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
        name = found or ""
        request.session[TIME_ZONE_SESSION_KEY] = name
    return name


class TimeZoneMiddleware:
    """Shows every time in the signed-in person's time zone, or the shop's when they chose none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = chosen_time_zone(request) or settings.SHOP_TIME_ZONE
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.SHOP_TIME_ZONE))  # a zone this machine lost
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
