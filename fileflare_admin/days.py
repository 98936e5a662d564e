"""The one reader of a typed day: a date box's year-month-day, within the days a filter takes.

Every "from … to …" filter (the orders list, the audit log, the bulk fix form) reads its days here, so
a typo in the year ("0226", "9999") is a sentence beside the box, which keeps what was typed, and never
a date past the calendar's end that a later "+ 1 day" would overflow.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
SHOWN_TYPED = 40  # characters of a bad date shown back in its sentence


def day_text(day: date) -> str:
    """A day as a person reads it, in the page's language: 1 Mar 2026, 1 mars 2026 (DATE_FORMAT)."""
    # A year typed short ("0226") is shown as Python writes it ("226"), not padded to four digits.
    return date_format(day).replace(f"{day.year:04d}", str(day.year))


def day_parsed(typed: str | None, label: str) -> date | None:
    """A day as the date box sends it (year-month-day), within FIRST_DAY..LAST_DAY; None when empty.
    Raises forms.ValidationError with the sentence naming the box (`label`) and what was typed."""
    if not typed:
        return None
    try:
        day = datetime.strptime(typed, "%Y-%m-%d").date()
    except ValueError:
        shown = typed if len(typed) <= SHOWN_TYPED else typed[:SHOWN_TYPED] + "…"
        raise forms.ValidationError(
            _(
                "“%(typed)s” in the “%(box)s” box is not a date. Pick a day from the calendar, or type it as "
                "year-month-day, for example 2026-03-31."
            )
            % {"typed": shown, "box": label},
            code="invalid",
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise forms.ValidationError(
            _("The “%(box)s” day is %(day)s: choose a day between %(first)s and %(last)s (check the year).")
            % {"box": label, "day": day_text(day), "first": day_text(FIRST_DAY), "last": day_text(LAST_DAY)},
            code="out_of_range",
        )
    return day


class DayField(forms.CharField):
    """A date box (the browser's calendar where it has one) whose cleaned value is a `date` or None,
    read by `day_parsed`; `attrs` are added to the box's own (type, min, max)."""

    def __init__(self, *, label: Any, attrs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        widget = forms.DateInput(
            attrs={"type": "date", "min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat(), **(attrs or {})}
        )
        super().__init__(label=label, required=False, strip=True, widget=widget, **kwargs)

    def clean(self, value: Any) -> date | None:  # a day, not the text typed
        return day_parsed(super().clean(value), str(self.label))
