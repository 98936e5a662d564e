"""The rule that a signed-in account without a role (neither Support nor Merchant, not a superuser)
sees no page. Runs after LoginRequiredMiddleware, so a signed-out visitor has already been sent to
sign in."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation

from staff.models import StaffPreferences
from staff.roles import NotAllowed, remember_role_groups, require, role_groups


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
        recall_role_groups(request, user)
        try:
            require(user, "use_dashboard")
        except NotAllowed as refusal:
            return render(request, "403.html", {"exception": refusal.user_message}, status=403)
        return None


# The person's role groups, remembered in their session so a page costs no group query. Read afresh (and
# remembered again) by every request that writes: the services' own checks never rest on the session.
# When anyone's groups change (staff.signals), the sessions of those it concerns forget them, so the next
# page reads them again. Only the database's sessions can be reached that way: with any other SESSION_ENGINE
# nothing is remembered.
ROLE_SESSION_KEY = "staff_role_groups"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DATABASE_SESSIONS = frozenset({"django.contrib.sessions.backends.db", "fileflare_admin.sessions"})


def recall_role_groups(request: HttpRequest, user: AbstractUser) -> None:
    """Give `user` the role groups its session remembers (staff.roles.role_groups then asks no query), or
    read them and remember them. Superusers are never asked (staff.roles.role_of)."""
    if user.is_superuser or settings.SESSION_ENGINE not in _DATABASE_SESSIONS:
        return
    kept = request.session.get(ROLE_SESSION_KEY)
    remembered = kept[1] if isinstance(kept, list) and len(kept) == 2 and kept[0] == user.pk else None
    if remembered is not None and request.method in SAFE_METHODS:
        remember_role_groups(user, frozenset(remembered))
        return
    names = sorted(role_groups(user))
    if remembered != names:
        request.session[ROLE_SESSION_KEY] = [user.pk, names]


def forget_role_groups(user_ids: set[int] | None) -> None:
    """The sessions of these accounts (None: of everyone) forget their role groups: the next page reads
    them again. A dashboard's staff have tens of sessions; a change of groups is rare."""
    if settings.SESSION_ENGINE not in _DATABASE_SESSIONS:
        return
    for session in Session.objects.filter(expire_date__gt=timezone.now()):
        data = session.get_decoded()
        kept = data.get(ROLE_SESSION_KEY)
        if kept is None or (user_ids is not None and not (isinstance(kept, list) and kept[0] in user_ids)):
            continue
        del data[ROLE_SESSION_KEY]
        Session.objects.save(session.session_key, data, session.expire_date)


# The person's chosen zone and language, remembered in their session ("" = the shop's zone, the browser's
# language) so a page costs no query: both are read from the database together, once a session.
TIME_ZONE_SESSION_KEY = "staff_time_zone"
LANGUAGE_SESSION_KEY = "staff_language"


def _chosen(request: HttpRequest, key: str) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    value = request.session.get(key)
    if not isinstance(value, str):
        found = StaffPreferences.objects.filter(user_id=user.pk).values_list("time_zone", "language").first()
        zone, language = found or ("", "")
        request.session[TIME_ZONE_SESSION_KEY] = zone
        request.session[LANGUAGE_SESSION_KEY] = language
        value = zone if key == TIME_ZONE_SESSION_KEY else language
    return value


def chosen_time_zone(request: HttpRequest) -> str:
    """The zone this person chose, or "" for the shop's (settings.SHOP_TIME_ZONE)."""
    return _chosen(request, TIME_ZONE_SESSION_KEY)


def chosen_language(request: HttpRequest) -> str:
    """The language this person chose, or "" for their browser's (LocaleMiddleware's choice)."""
    return _chosen(request, LANGUAGE_SESSION_KEY)


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


class LanguageMiddleware:
    """The signed-in person's chosen language over the one LocaleMiddleware took from Accept-Language
    (or LANGUAGE_CODE): it runs after authentication, which LocaleMiddleware comes before. A signed-out
    page (sign-in) keeps the browser's language. Costs a dictionary lookup in the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = chosen_language(request)
        if language and language != getattr(request, "LANGUAGE_CODE", None) and language in _LANGUAGES:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


_LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)
