from datetime import time
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from staff.models import StaffPreferences, common_time_zones, time_zone_names

DATALIST_ID = "time-zone-choices"
DEFAULT_DIGEST_AT = time(8, 0)


class TimeZoneForm(forms.ModelForm):
    """A searchable field (typed text, suggestions from a datalist of the common current zones, grouped
    by region in their names): empty is the shop's zone; any zone this machine knows is taken."""

    class Meta:
        model = StaffPreferences
        fields = ["time_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shop = settings.SHOP_TIME_ZONE
        self.fields["time_zone"] = forms.CharField(
            label=_("Your time zone"),
            required=False,
            max_length=64,
            help_text=_(
                "Type a city or region (Tokyo, New York, Europe) and pick it from the suggestions; leave it "
                "empty for the shop's time zone (%(shop)s). Every date and time in the dashboard is shown "
                "in this zone, with its name beside it."
            )
            % {"shop": shop},
            widget=forms.TextInput(
                attrs={
                    "list": DATALIST_ID,
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "placeholder": _("The shop's time zone (%(shop)s)") % {"shop": shop},
                }
            ),
        )

    @property
    def zone_choices(self) -> list[tuple[str, str]]:
        """(name, how it reads): "America/New_York", "New York (America)"."""
        return [(name, _readable(name)) for name in common_time_zones()]

    def clean_time_zone(self) -> str:
        typed = " ".join(str(self.cleaned_data.get("time_zone") or "").split())
        if not typed:
            return ""
        by_key = {name.casefold(): name for name in time_zone_names()}
        name = by_key.get(typed.replace(" ", "_").casefold())
        if name is None:
            raise forms.ValidationError(
                _("“%(typed)s” is not a time zone this dashboard knows. Pick a time zone from the list.")
                % {"typed": typed}
            )
        return name


class LanguageForm(forms.ModelForm):
    """The person's language: one of settings.LANGUAGES (each named in its own language), or empty for
    the browser's."""

    class Meta:
        model = StaffPreferences
        fields = ["language"]

    def __init__(self, *args: Any, browser_language: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        browser = names.get(browser_language, names.get(settings.LANGUAGE_CODE, browser_language))
        self.fields["language"] = forms.ChoiceField(
            label=_("Your language"),
            required=False,
            choices=[
                ("", _("Your browser's language (%(name)s now)") % {"name": browser}),
                *settings.LANGUAGES,
            ],
            widget=forms.RadioSelect,
        )


class DigestForm(forms.ModelForm):
    """The daily digest: on (with the time of day it comes, in the person's zone) or off."""

    class Meta:
        model = StaffPreferences
        fields = ["digest_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wanted"] = forms.BooleanField(
            label=_("Send me the daily digest"), required=False, initial=self.instance.digest_at is not None
        )
        self.fields["digest_at"] = forms.TimeField(
            label=pgettext_lazy("digest time", "At"),
            required=False,
            input_formats=["%H:%M", "%H.%M", "%H:%M:%S"],
            help_text=_("A time of day as 08:00 (24-hour clock), in your time zone."),
            widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
            error_messages={"invalid": _("Write the time as hours and minutes, such as 08:00.")},
        )
        self.initial["digest_at"] = self.instance.digest_at or DEFAULT_DIGEST_AT
        self.order_fields(["wanted", "digest_at"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("wanted"):
            cleaned["digest_at"] = None
        elif cleaned.get("digest_at") is None and "digest_at" not in self.errors:
            self.add_error("digest_at", _("Say at what time the digest should come, such as 08:00."))
        return cleaned


def _readable(name: str) -> str:
    area, _, place = name.partition("/")
    return f"{place.replace('_', ' ').replace('/', ', ')} ({area})" if place else name
