"""The one place a sentence for a person lives on an exception: `user_message`.

Every exception a view turns into words on a page (an upstream failure, a refusal by role, a conflict,
"cannot undo") derives from `UserFacingError`, so a view never guesses between `str()`, `.sentence` or
`.message`. A sentence starts with a capital letter, says what happened and what to do.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An exception whose `user_message` is shown to a person as it is."""

    default_message = "Something went wrong. Try again in a moment."

    def __init__(self, user_message: str | None = None) -> None:
        message = user_message or self.default_message
        # A sentence may begin with a name written lower-case mid-sentence ("the downloads API …").
        self.user_message = message[:1].upper() + message[1:]
        super().__init__(self.user_message)

    def __str__(self) -> str:
        return self.user_message
