"""The one place a sentence for a person lives on an exception: `user_message`.

Every exception a view turns into words on a page (an upstream failure, a refusal by role, a conflict,
"cannot undo") derives from `UserFacingError`, so a view never guesses between `str()`, `.sentence` or
`.message`. A sentence starts with a capital letter, says what happened and what to do.

Sentences are written in the language active when they are made (the person's page, or the shop's
LANGUAGE_CODE in a command): a class's `default_message` is marked with `gettext_lazy` and translated when
the exception is made. Words kept and shown later to someone else (the status page's checks, shared by the
team) are made with `later`, translated each time they are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


def _translated(message: str, values: Mapping[str, Any] | None = None) -> str:
    text = gettext(message)
    return text % dict(values) if values else text


# later(gettext_noop("It answered in %(ms)s ms."), {"ms": 12}): a sentence translated into the language
# active when it is shown, not when it is made; kept in a cache it is pickled as (message, values).
later = lazy(_translated, str)


def capitalized(message: StrOrPromise) -> str:
    """The sentence with its first letter a capital ("the downloads API …" at a sentence's start)."""
    text = str(message)
    return text[:1].upper() + text[1:]


class UserFacingError(Exception):
    """An exception whose `user_message` is shown to a person as it is."""

    default_message: StrOrPromise = _("Something went wrong. Try again in a moment.")

    def __init__(self, user_message: StrOrPromise | None = None) -> None:
        message = user_message or self.default_message
        # A sentence may begin with a name written lower-case mid-sentence ("the downloads API …").
        self.user_message = capitalized(message)
        super().__init__(self.user_message)

    def __str__(self) -> str:
        return self.user_message
