"""Sign-in lockout (django-axes), counted two ways:

- per username and client address: AXES_FAILURE_LIMIT (5) failures lock that pair out;
- per username across every address: AXES_USERNAME_FAILURE_LIMIT (15) failures lock the account out
  wherever the next try comes from (guessing from many addresses does not get more tries).

Both last AXES_COOLOFF_MINUTES after the failures that caused them; tries during a lockout are refused
without being counted, so the end time a person is told holds. An administrator unlocks an account at
once with `python manage.py axes_reset_username NAME`. The attempt before a lockout warns; the lockout
page says who can unlock it and when it ends.

axes' own failure count is per username + address (AXES_LOCKOUT_PARAMETERS); `SignInAttempts` (the
AXES_HANDLER) adds the per-username rule on top, because axes takes one limit for every combination.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fileflare_admin.clock import clock
from fileflare_admin.htmx import safe_next
from fileflare_admin.security import client_ip


@dataclass(frozen=True)
class Failures:
    """Recent failed sign-ins for one username: from this address, and from everywhere."""

    here: list[tuple[datetime, int]]
    everywhere: list[tuple[datetime, int]]

    @staticmethod
    def count(rows: list[tuple[datetime, int]]) -> int:
        return sum(failures for _, failures in rows)

    @property
    def left(self) -> int:
        """Failures still allowed before a lockout (0: locked out)."""
        return max(
            min(
                settings.AXES_FAILURE_LIMIT - self.count(self.here),
                settings.AXES_USERNAME_FAILURE_LIMIT - self.count(self.everywhere),
            ),
            0,
        )

    def lockout_ends(self) -> datetime | None:
        """When the lockout lifts by itself: each failure counts for the cool-off after it."""
        ends = [
            _below(self.here, settings.AXES_FAILURE_LIMIT),
            _below(self.everywhere, settings.AXES_USERNAME_FAILURE_LIMIT),
        ]
        return max((end for end in ends if end is not None), default=None)


def _below(rows: list[tuple[datetime, int]], limit: int) -> datetime | None:
    """The moment enough of `rows` have expired to be under `limit` (None: under it already)."""
    total = Failures.count(rows)
    end = None
    for attempt_time, failures in sorted(rows):
        if total < limit:
            break
        total -= failures
        end = attempt_time + settings.AXES_COOLOFF_TIME
    return end


def recent_failures(request: HttpRequest, username: str) -> Failures:
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).values_list(
        "attempt_time", "failures_since_start", "ip_address"
    )
    address = client_ip(request)
    everywhere = [(moment, failures) for moment, failures, _ in rows]
    here = [(moment, failures) for moment, failures, ip in rows if ip == address]
    return Failures(here=here, everywhere=everywhere)


class SignInAttempts(AxesDatabaseHandler):
    """axes' database handler, plus the lockout per username across addresses."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        per_address = super().get_failures(request, credentials)
        username = get_client_username(request, credentials)
        if username and Failures.count(recent_failures(request, username).everywhere) >= (
            settings.AXES_USERNAME_FAILURE_LIMIT
        ):
            return max(per_address, get_failure_limit(request, credentials))
        return per_address


def warning_sentence() -> str:
    minutes = settings.AXES_COOLOFF_MINUTES
    return ngettext(
        "One more failed sign-in will lock this account for %(minutes)s minute. Check the username and "
        "password before trying again.",
        "One more failed sign-in will lock this account for %(minutes)s minutes. Check the username and "
        "password before trying again.",
        minutes,
    ) % {"minutes": minutes}


def lockout_sentence(ends: datetime | None) -> str:
    if ends:
        return _(
            "Too many failed sign-ins for this account: it is locked and unlocks by itself at %(time)s."
        ) % {"time": clock(ends)}
    minutes = settings.AXES_COOLOFF_MINUTES
    return ngettext(
        "Too many failed sign-ins for this account: it is locked and unlocks by itself in "
        "%(minutes)s minute.",
        "Too many failed sign-ins for this account: it is locked and unlocks by itself in "
        "%(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


def unlock_command(username: str) -> str:
    """What an administrator runs to unlock the account at once."""
    return f"python manage.py axes_reset_username {username or 'USERNAME'}"


class SignInView(LoginView):
    """Django's sign-in page; the attempt before a lockout says so."""

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        username = str(form.data.get("username", "")).strip()
        locked = getattr(self.request, "axes_locked_out", False)
        # A TemplateResponse until rendered (the stubs type form_invalid as a plain HttpResponse).
        warn = username and not locked and recent_failures(self.request, username).left == 1
        if warn and isinstance(response, TemplateResponse) and response.context_data is not None:
            response.context_data["lockout_warning"] = warning_sentence()
        return response


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The sign-in page again (429), with the username kept, when the lock ends and who can lift it."""
    username = str((credentials or {}).get("username") or request.POST.get("username", "")).strip()
    form = AuthenticationForm(request, initial={"username": username})
    ends = recent_failures(request, username).lockout_ends() if username else None
    context = {
        "form": form,
        "locked_out": True,
        "lockout_message": lockout_sentence(ends),
        "unlock_command": unlock_command(username),
        "next": safe_next(request, request.POST.get("next", request.GET.get("next", "")), ""),
    }
    return render(request, "registration/login.html", context, status=429)
