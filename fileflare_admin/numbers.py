"""Numbers as a person of the page's language writes them, and reads them back from a form.

Shown: `grouped(15608)` is "15,608" in English, "15 608" in French and Italian (the active language's
THOUSAND_SEPARATOR: Django's formats, ours in fileflare_admin/formats/). Use it (or the `thousands`
filter) for a count a person reads, in a page or a sentence (`%(count)s` in a gettext string).
Never for an ID, a number inside a URL or a form's value, or a CSV cell meant for a spreadsheet: those
stay as the API writes them ("1050", "15608"), whatever the language.

Typed: `LocalizedIntegerField` takes a whole number as a person of the active language types it:
"1536", "1 536" (any space), and the language's grouping marks ("1,536" in English; "1.536" in French
and Italian), only in groups of three, so "1.5" or "1,5" is refused rather than read as 15.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import formats, translation

# Marks a person may group thousands with, per language, besides spaces (always taken).
GROUPING_MARKS = {"en": ",", "fr": ".", "it": "."}
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")


def grouped(value: int) -> str:
    """A whole number with the active language's thousands separator: "15,608", "15 608"."""
    return formats.number_format(value, force_grouping=True)


def parse_grouped(text: str, language: str | None = None) -> int | None:
    """The whole number a person typed with or without grouping, or None when it is not one."""
    raw = text.strip()
    mark = GROUPING_MARKS.get((language or translation.get_language() or "en").split("-")[0], ",")
    sign = ""
    if raw[:1] in "+-":
        sign, raw = raw[0].replace("+", ""), raw[1:].strip()
    if raw.isascii() and raw.isdigit():
        return int(sign + raw)
    pattern = rf"\d{{1,3}}(?:(?:{_SPACES.pattern}|{re.escape(mark)})\d{{3}})+"
    if not re.fullmatch(pattern, raw):
        return None
    return int(sign + re.sub(r"\D", "", raw))


class LocalizedIntegerField(forms.IntegerField):
    """An IntegerField reading "1 536" / "1.536" / "1,536" as the active language groups it.

    A text box with the numeric keyboard (a number box would refuse a space or a grouping mark before
    the form sees it). min_value and max_value are checked by the form, as an IntegerField's."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        number = parse_grouped(str(value))
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number
