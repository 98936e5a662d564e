"""The downloads API (WP EasyCart's Downloads resource): records staff list, create, edit and delete.

It is served by a WordPress plugin, and answers in one of two dialects (both accepted): the document's
(numbers, booleans, `is_amazon`) or WordPress's database rows (every value a string, the S3 flag as the
table's `is_amazon_download`). Its dates carry no time zone: they are in DOWNLOADS_API_TIMEZONE.
"""

import re
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils.translation import gettext as _

from fileflare_admin.api import cache, validators
from fileflare_admin.api._reads import get, parsed_once
from fileflare_admin.api.errors import BadResponse, NotConfigured, ValidationFailed
from fileflare_admin.api.http import DOWNLOADS, send
from fileflare_admin.api.types import DownloadRecord, Fetched, Page

# What the list can be sorted by: our field → the `sortby` the API takes. `sortby` names a column of the
# plugin's ec_download table (a name the table lacks is a database error on a real server), and the S3
# flag's column is `is_amazon_download`, whatever the rows call it.
SORT_COLUMNS: dict[str, str] = {
    "download_id": "download_id",
    "date_created": "date_created",
    "product_id": "product_id",
    "order_id": "order_id",
    "download_count": "download_count",
    "download_file_name": "download_file_name",
    "is_amazon": "is_amazon_download",
    "amazon_key": "amazon_key",
}
SORTABLE_COLUMNS: frozenset[str] = frozenset(SORT_COLUMNS)


def api_timezone() -> tzinfo:
    """DOWNLOADS_API_TIMEZONE: the zone the API writes `date_created` in (its database connection's).
    "UTC", a name such as "America/New_York", or an offset such as "-05:00"."""
    name = str(getattr(settings, "DOWNLOADS_API_TIMEZONE", "") or "UTC").strip()
    offset = re.fullmatch(r"([+-])(\d{1,2}):(\d\d)", name)
    if offset and int(offset.group(2)) <= 14 and int(offset.group(3)) < 60:
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    if name.upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise NotConfigured(
            _(
                "DOWNLOADS_API_TIMEZONE is “%(name)s”, which is not a time zone: use a name such as "
                "America/New_York or an offset such as -05:00."
            )
            % {"name": name[:60]},
            api=DOWNLOADS.name,
        ) from None


def _record(data: Any) -> DownloadRecord:
    return DownloadRecord.from_json(data, zone=api_timezone())


def _header_int(headers: dict[str, str], name: str) -> int | None:
    for key, value in headers.items():
        if key.lower() == name.lower() and str(value).isdigit():
            return int(value)
    return None


def record_list(
    *,
    page: int = 1,
    per_page: int = 25,
    sortby: str | None = None,
    sortdir: str = "ASC",
    search: str | None = None,
    fresh: bool = False,
) -> Fetched[Page[DownloadRecord]]:
    """A page of records. `fresh`: past the read cache (the counts' snapshots, insights.snapshots)."""
    params: dict[str, Any] = {"page": max(int(page), 1), "perpage": max(int(per_page), 1)}
    if sortby:
        if sortby not in SORT_COLUMNS:
            raise ValidationFailed(
                _("The downloads API cannot sort by “%(column)s”: choose another column.")
                % {"column": str(sortby)[:40]},
                status=None,
                api=DOWNLOADS.name,
            )
        params["sortby"] = SORT_COLUMNS[sortby]
        params["sortdir"] = "DESC" if str(sortdir).upper() == "DESC" else "ASC"
    if search:
        params["search"] = search
    fetched = get(DOWNLOADS, "/downloads", params, with_headers=True, fresh=fresh)
    zone = api_timezone()
    answer = (DOWNLOADS.identity(), "/downloads", tuple(sorted(params.items())), fetched.fetched_at, zone)

    def parse() -> Page[DownloadRecord]:
        rows = fetched.value["json"]
        if isinstance(rows, dict) and isinstance(rows.get("data"), list):
            rows = rows["data"]
        if not isinstance(rows, list):
            raise BadResponse(_("The downloads API sent a list of records in a shape we do not know."))
        headers = fetched.value["headers"]
        return Page(
            items=tuple(DownloadRecord.from_json(row, zone=zone) for row in rows),
            page=params["page"],
            per_page=params["perpage"],
            total=_header_int(headers, "X-WP-Total"),
            last_page=_header_int(headers, "X-WP-TotalPages"),
        )

    return Fetched(parsed_once(answer, parse), fetched.fetched_at, fetched.stale)


def record_get(*, download_id: str, fresh: bool = False) -> Fetched[DownloadRecord]:
    download_id = validators.download_id(download_id)
    fetched = get(DOWNLOADS, f"/downloads/{download_id}", fresh=fresh)
    return Fetched(_record(fetched.value), fetched.fetched_at, fetched.stale)


def _write(method: str, path: str, body: Any = None) -> Any:
    try:
        return send(DOWNLOADS, method, path, body=body).payload
    finally:
        cache.invalidate(DOWNLOADS.name)  # the records, and every read that shows them (the customer's page)


def record_create(*, fields: dict[str, Any]) -> DownloadRecord:
    """POST: never repeated. A timeout raises OutcomeUnknown: the record may or may not exist."""
    return _record(_write("POST", "/downloads", fields))


def record_update(*, download_id: str, fields: dict[str, Any]) -> DownloadRecord:
    download_id = validators.download_id(download_id)
    return _record(_write("PATCH", f"/downloads/{download_id}", fields))


def record_delete(*, download_id: str) -> DownloadRecord | None:
    download_id = validators.download_id(download_id)
    payload = _write("DELETE", f"/downloads/{download_id}")
    return (
        _record(payload)
        if isinstance(payload, dict) and payload.get("download_id")
        else None
    )
