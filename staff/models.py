"""What a staff member chose for themselves. Roles are Django groups (staff.roles); this is the rest."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted (the choices of the "your time zone" page)."""
    return tuple(sorted(zoneinfo.available_timezones()))


# Current zones are named Area/City (or Area/Region/City); "US/Eastern", "Etc/GMT+5", "Japan" are old aliases.
_AREA_CITY = re.compile(
    r"(Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Z][\w/+-]*"
)


def _zone_tab() -> str:
    """tzdb's zone.tab (one zone a country: the names people look for), from the tzdata package or the
    system's zone files; "" when neither has it."""
    try:
        return (resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        pass
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


@lru_cache(maxsize=1)
def common_time_zones() -> tuple[str, ...]:
    """The zones the time-zone page offers: each country's current Area/City zones (tzdb's zone.tab) and
    UTC, without the old aliases; every zone in time_zone_names() is still accepted when typed."""
    known = set(time_zone_names())
    listed = {
        line.split("\t")[2].strip()
        for line in _zone_tab().splitlines()
        if line and not line.startswith("#") and line.count("\t") >= 2
    }
    if not listed:
        listed = {name for name in known if _AREA_CITY.fullmatch(name)}
    return (*sorted(name for name in listed if name in known), "UTC")


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
    # The daily digest (insights.digest), opt-in: the time of day it is sent, in the person's time zone
    # (the one above, or the shop's); null: no digest.
    digest_at = models.TimeField(null=True, blank=True)
    # Empty: the browser's language (Accept-Language), else the shop's (settings.LANGUAGE_CODE).
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = "staff preferences"
        verbose_name_plural = "staff preferences"

    def __str__(self) -> str:
        return f"{self.user} · {self.time_zone or 'shop time zone'}"
