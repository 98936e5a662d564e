"""A bulk job's sentences the task worker writes (how an item went, why the job waits or stopped), kept as
what to say and said when shown, in the reader's language and time zone: the worker has neither
(house style, Translations: a background task's sentences are made when shown, not stored translated).

    said = notes.note("set", count=3)          # kept on the row (BulkJobItem.said, BulkJob.error_said)
    notes.say(said)                            # "Set to 3." / « Fixé à 3. » / "Impostato a 3."
    notes.english(said)                        # the same in English: BulkJobItem.note, for logs and the CSV

A value is an int (a count, grouped as the language writes it), a str shown as it is (an ID, a file
name, an order number), or a moment, `notes.moment(datetime)`, shown in the reader's zone. A sentence
the worker got from elsewhere (an upstream's refusal, the undo of an audit entry) has no code here:
`notes.text(sentence)` keeps it as it was made (and one of our msgids made in English, such as an
upstream's plain refusal, is still said in the reader's language).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, gettext_lazy
from django_stubs_ext import StrOrPromise

from fileflare_admin import clock
from fileflare_admin.numbers import grouped

SENTENCES: dict[str, StrOrPromise] = {
    # An item of a count fix.
    "already": gettext_lazy("Already %(count)s: nothing to change."),
    "changed_since_dry_run": gettext_lazy(
        "Changed since the dry run: the count is now %(count)s, so it was left alone."
    ),
    "set": gettext_lazy("Set to %(count)s."),
    "set_checked": gettext_lazy("Set to %(count)s (checked at the API)."),
    "set_verified": gettext_lazy("Set to %(count)s (checked at the API after the worker stopped)."),
    "record_gone": gettext_lazy("This record no longer exists at the downloads API."),
    "changed_meanwhile": gettext_lazy(
        "Changed by someone else meanwhile: the count is now %(count)s; left alone."
    ),
    # An item of a resend.
    "no_such_order": gettext_lazy("Fileflare has no order #%(number)s."),
    "sent_elsewhere": gettext_lazy(
        "Sent again by someone else since the dry run (%(when)s); not sent twice."
    ),
    "changed_not_sent": gettext_lazy("Changed since the dry run; not sent."),
    "sent": gettext_lazy("Sent at %(when)s."),
    "sent_checked": gettext_lazy("Sent at %(when)s (checked at Fileflare)."),
    "sent_verified": gettext_lazy("Sent (checked at Fileflare after the worker stopped)."),
    # Any item.
    "not_run": gettext_lazy("Not run: the job was cancelled."),
    "not_sent_cancelled": gettext_lazy(
        "Not sent: the job was cancelled (checked: the earlier try had not gone out)."
    ),
    # The job, while it waits or when it stopped.
    "unclear": gettext_lazy("The upstream did not answer clearly."),
    "waiting_to_check": gettext_lazy("Waiting to read the order again, to see if its e-mail went out."),
    "step_failed": gettext_lazy("The job stopped on an unexpected error; it tries again in a few minutes."),
    "no_longer_allowed": gettext_lazy(
        "Stopped: the person who started this job may no longer run bulk fixes."
    ),
}
TEXT = "text"  # a sentence made elsewhere, kept as it was


def note(code: str, **values: Any) -> dict[str, Any]:
    """What to say: one of SENTENCES with its values (JSON), for a row to keep."""
    if code not in SENTENCES:
        raise ValueError(f"No job sentence {code!r}.")
    return {"code": code, "values": values}


def text(sentence: str) -> dict[str, Any]:
    """A sentence made elsewhere (already in words), kept as it is."""
    return {"code": TEXT, "values": {"text": sentence}}


def moment(value: datetime, *, seconds: bool = False) -> dict[str, Any]:
    """A time for a sentence: shown in the reader's zone and language ("10:42:07 CET", with `seconds`
    the date too)."""
    return {"at": value.isoformat(), "date": seconds}


def _shown(value: Any) -> Any:
    if isinstance(value, dict) and "at" in value:
        at = clock.as_datetime(value["at"])
        if at is None:
            return ""
        return clock.date_time(at, seconds=True) if value.get("date") else clock.clock(at)
    if isinstance(value, int) and not isinstance(value, bool):
        return grouped(value)
    return value


def say(said: dict[str, Any] | None) -> str:
    """The sentence in the active language; "" for nothing said."""
    if not said:
        return ""
    values = said.get("values") or {}
    if said.get("code") == TEXT:
        # Made in the worker's language; one of our sentences without values, kept in English (a
        # worker in LANGUAGE_CODE en), is still a msgid: said in the reader's language.
        made = str(values.get("text", ""))
        return gettext(made) if made else ""
    sentence = SENTENCES.get(str(said.get("code")))
    if sentence is None:
        return ""
    return str(sentence) % {name: _shown(value) for name, value in values.items()}


def english(said: dict[str, Any] | None) -> str:
    """The sentence in English (the row's plain `note` / `last_error`: logs, the admin)."""
    with translation.override("en"):
        return say(said)
