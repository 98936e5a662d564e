"""Times as a person reads them: in their time zone (staff.middleware activates it), always with the
zone's name, never as ISO-8601. Plain text, for sentences in views and services; templates use the
`when` and `hms` filters (fileflare_admin.templatetags.display), which call these."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format


def as_datetime(value: object) -> datetime | None:
    """A datetime from a datetime or an ISO-8601 text (as the audit trail stores them), else None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and len(value) >= 16 and value[:4].isdigit() and value[4:5] == "-":
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            return None
        if parsed is None:
            return None
        moment = parsed
    else:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return timezone.localtime(moment)


def clock(value: datetime) -> str:
    """"10:42:07 CET": a time of day today, for "as of" notes and "try again at"."""
    moment = timezone.localtime(value)
    return f"{moment:%H:%M:%S} {zone_name(moment)}"


def date_time(value: datetime, *, seconds: bool = False) -> str:
    """"8 Jan 2023, 21:50 CET" (with seconds where order matters: the audit trail), the date in the
    page's language: "7 déc. 2026, 10:42", "7 dic 2026, 10:42" (DATE_FORMAT, fileflare_admin/formats)."""
    moment = timezone.localtime(value)
    time_of_day = f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}"
    return f"{date_format(moment)}, {time_of_day} {zone_name(moment)}"


def zone_name(moment: datetime) -> str:
    """The zone's short name at that moment ("CET", "CEST", "UTC"; "+03" where it has none)."""
    return moment.tzname() or timezone.get_current_timezone_name()
