"""Every way an upstream call can fail, each carrying the sentence staff read. No message ever holds
a key, a token or credentials: they are built from fixed text, statuses and field names only."""

from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise

from fileflare_admin.sentences import UserFacingError


class ApiError(UserFacingError):
    """Base class. `user_message` is the sentence for the page; str() gives the same."""

    default_message: StrOrPromise = _("The upstream service could not answer. Try again in a moment.")

    def __init__(self, user_message: str | None = None, *, status: int | None = None, api: str = "") -> None:
        self.status = status
        self.api = api
        super().__init__(user_message)


class NotConfigured(ApiError):
    """401 from Fileflare, the downloads API's 400 "Unauthorized", or a missing URL or key."""

    default_message: StrOrPromise = _(
        "The dashboard is not allowed into the upstream API. Check its key in the settings."
    )


class PlanLimit(ApiError):
    default_message: StrOrPromise = _(
        "Fileflare refused: the shop's plan limit is reached. Upgrade the plan in the Fileflare app."
    )


class NotFound(ApiError):
    default_message: StrOrPromise = _("Nothing with that ID exists in this shop.")


class InvalidIdentifier(NotFound):
    """Refused before any request was sent: the value cannot be an ID of that kind."""

    default_message: StrOrPromise = _("That is not a valid ID.")


class ValidationFailed(ApiError):
    """422: the upstream refused the values; `field_errors` maps field names to messages."""

    default_message: StrOrPromise = _("The upstream refused these values.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        field_errors: dict[str, list[str]] | None = None,
        status: int | None = 422,
        api: str = "",
    ) -> None:
        super().__init__(user_message, status=status, api=api)
        self.field_errors = field_errors or {}


class RateLimited(ApiError):
    """429 from the upstream, or our own share of its limit spent. Says when to try again."""

    def __init__(
        self,
        user_message: str | None = None,
        *,
        retry_after: int = 60,
        status: int | None = 429,
        api: str = "",
    ) -> None:
        self.retry_after = max(int(retry_after), 1)
        self.retry_at = datetime.now(UTC) + timedelta(seconds=self.retry_after)
        super().__init__(user_message or self.sentence(self.retry_after), status=status, api=api)

    @staticmethod
    def sentence(seconds: int) -> str:
        return ngettext(
            "Fileflare allows only so many requests a minute and this shop has used them; "
            "try again in %(seconds)s second.",
            "Fileflare allows only so many requests a minute and this shop has used them; "
            "try again in %(seconds)s seconds.",
            seconds,
        ) % {"seconds": seconds}


class Unavailable(ApiError):
    """Timeout, refused connection, or a 5xx."""

    default_message: StrOrPromise = _(
        "The upstream service is not answering right now. Try again in a moment."
    )


class OutcomeUnknown(Unavailable):
    """A write that may not be repeated timed out: it may or may not have happened."""

    default_message: StrOrPromise = _(
        "The upstream did not answer in time, so we cannot tell whether the change was made. "
        "Check before trying again."
    )


class BadResponse(ApiError):
    """Not JSON, or not the documented shape."""

    default_message: StrOrPromise = _(
        "The upstream answered with something we could not read. Try again in a moment."
    )
