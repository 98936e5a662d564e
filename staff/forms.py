from typing import Any

from django import forms
from django.conf import settings

from staff.models import StaffPreferences, time_zone_names


class TimeZoneForm(forms.ModelForm):
    class Meta:
        model = StaffPreferences
        fields = ["time_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shop = settings.SHOP_TIME_ZONE
        self.fields["time_zone"] = forms.ChoiceField(
            label="Your time zone",
            required=False,
            choices=[("", f"The shop's time zone ({shop})"), *((name, name) for name in time_zone_names())],
            help_text="Every date and time in the dashboard is shown in this zone, with its name beside it.",
            error_messages={"invalid_choice": "Pick a time zone from the list."},
        )
