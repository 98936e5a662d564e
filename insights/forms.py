"""The Reports page's range: a preset or any first and last day (a day to a year), in the person's zone."""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from fileflare_admin.days import DayField, day_text
from fileflare_admin.numbers import grouped
from insights.figures import MAX_DAYS, Span

PRESETS = [
    ("today", gettext_lazy("Today")),
    ("7d", gettext_lazy("Last 7 days")),
    ("30d", gettext_lazy("Last 30 days")),
    ("month", gettext_lazy("This month")),
    ("year", gettext_lazy("Last 12 months")),
]
DEFAULT_PRESET = "30d"
PERIODS = [("day", gettext_lazy("Per day")), ("week", gettext_lazy("Per week"))]


def preset_days(preset: str, today: date) -> tuple[date, date]:
    """The first and last day of a preset, ending today."""
    if preset == "today":
        return today, today
    if preset == "7d":
        return today - timedelta(days=6), today
    if preset == "month":
        return today.replace(day=1), today
    if preset == "year":
        return today - timedelta(days=MAX_DAYS - 1), today
    return today - timedelta(days=29), today


class RangeForm(forms.Form):
    """A GET form: a preset link, or "from … to …" typed (which wins over the preset when given)."""

    range = forms.ChoiceField(label=gettext_lazy("Range"), choices=PRESETS, required=False)
    start = DayField(label=pgettext_lazy("the first day of a range", "From"))
    end = DayField(label=pgettext_lazy("the last day of a range", "To"))
    period = forms.ChoiceField(label=gettext_lazy("Downloads"), choices=PERIODS, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None) and not self.has_error("start") and not self.has_error("end"):
            self.add_error(
                "end" if end is None else "start", _("Give both days, or choose a range above.")
            )
        elif start is not None and end is not None:
            if end < start:
                self.add_error(
                    "end",
                    _("The “%(to)s” day is before the “%(from)s” day.")
                    % {"to": self.fields["end"].label, "from": self.fields["start"].label},
                )
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error(
                    "end",
                    _(
                        "A report covers at most a year (%(most)s days); from %(first)s to %(last)s is "
                        "%(days)s days. Choose a shorter range."
                    )
                    % {
                        "most": grouped(MAX_DAYS),
                        "first": day_text(start),
                        "last": day_text(end),
                        "days": grouped((end - start).days + 1),
                    },
                )
        return data

    def span(self, zone: tzinfo | None = None) -> Span:
        """The days asked for; the default range when the form is empty or wrong (its errors shown)."""
        zone = zone or timezone.get_current_timezone()
        today = timezone.localtime(timezone.now(), zone).date()
        valid = self.is_valid()
        data = self.cleaned_data if valid else {}
        if data.get("start") and data.get("end"):
            return Span(data["start"], data["end"], zone)
        first, last = preset_days(data.get("range") or DEFAULT_PRESET, today)
        return Span(first, last, zone)

    def preset(self) -> str:
        """The preset in use ("" when days were typed)."""
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("start") and data.get("end"):
            return ""
        return data.get("range") or DEFAULT_PRESET

    def unit(self) -> str:
        """Downloads per "day" or per "week"."""
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("period") or "day"
