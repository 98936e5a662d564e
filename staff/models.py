"""What a staff member chose for themselves. Roles are Django groups (staff.roles); this is the rest."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted (the choices of the "your time zone" page)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(value: str) -> None:
    if value and value not in time_zone_names():
        raise ValidationError(f"“{value}” is not a time zone this dashboard knows. Pick one from the list.")


class StaffPreferences(models.Model):
    """One row per person who changed something here; no row means every default applies."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="staff_preferences"
    )
    # Empty: the shop's time zone (settings.SHOP_TIME_ZONE), which follows the shop if it changes.
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])

    class Meta:
        verbose_name = "staff preferences"
        verbose_name_plural = "staff preferences"

    def __str__(self) -> str:
        return f"{self.user} · {self.time_zone or 'shop time zone'}"
