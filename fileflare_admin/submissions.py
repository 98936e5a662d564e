"""One-time form tokens: a form whose POST must never take effect twice (a create, a resend).

The form carries a token made when it is shown (`new_submission_token()`, in a hidden field). The first
POST claims it in the shared cache, so every worker and machine sees the claim; a second POST of the
same form (a double click, Back and resend, a retry after a slow answer) within its lifetime is refused
with AlreadySubmitted, whose sentence says when the form was first sent, and nothing is sent again.

    claim = submission_claim(token, purpose="download_record_create")   # AlreadySubmitted if seen
    try:
        ...send it...
    except NothingWasSent:
        submission_release(claim)   # safe to send the same form again
        raise

Give the token back only when nothing reached the upstream (a refusal, a form error, a verified
failure); keep it when the outcome is unknown. An empty token claims nothing (a hand-made POST).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from fileflare_admin import clock
from fileflare_admin.sentences import UserFacingError

SUBMISSION_SECONDS = 24 * 60 * 60
_KEY = "ffa:submission:{purpose}:{token}"


class AlreadySubmitted(UserFacingError):
    """This form was sent before; `sent_at` says when. Nothing was sent this time."""

    def __init__(self, sent_at: datetime | None, user_message: str | None = None) -> None:
        self.sent_at = sent_at
        super().__init__(user_message or self.sentence(sent_at))

    @staticmethod
    def sentence(sent_at: datetime | None) -> str:
        if sent_at is None:
            return _("This form was already sent once, so it was not sent again.")
        local = timezone.localtime(sent_at)
        today = timezone.localtime(timezone.now()).date()
        when = clock.clock(local) if local.date() == today else clock.date_time(local, seconds=True)
        return _("This form was already sent at %(when)s, so it was not sent again.") % {"when": when}


@dataclass(frozen=True)
class Submission:
    token: str
    purpose: str
    claimed_at: datetime

    @property
    def key(self) -> str:
        return _KEY.format(purpose=self.purpose, token=self.token)


def new_submission_token() -> str:
    return secrets.token_urlsafe(16)


def submission_claim(token: str, *, purpose: str, seconds: int = SUBMISSION_SECONDS) -> Submission | None:
    """Claim this form's token for `purpose`; None for an empty token. AlreadySubmitted if claimed."""
    token = (token or "").strip()[:100]
    if not token:
        return None
    claim = Submission(token=token, purpose=purpose, claimed_at=timezone.now())
    if cache.add(claim.key, claim.claimed_at.timestamp(), timeout=seconds):
        return claim
    first = cache.get(claim.key)
    sent_at = (
        datetime.fromtimestamp(first, tz=timezone.get_current_timezone())
        if isinstance(first, int | float)
        else None
    )
    raise AlreadySubmitted(sent_at)


def submission_release(claim: Submission | None) -> None:
    """Give the token back: nothing reached the upstream, so the same form may be sent again."""
    if claim is not None:
        cache.delete(claim.key)
