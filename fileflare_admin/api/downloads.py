"""The downloads API (WP EasyCart's Downloads resource): records staff list, create, edit and delete."""

from typing import Any

from fileflare_admin.api import cache, validators
from fileflare_admin.api._reads import get
from fileflare_admin.api.errors import BadResponse
from fileflare_admin.api.http import DOWNLOADS, send
from fileflare_admin.api.types import DownloadRecord, Fetched, Page


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
) -> Fetched[Page[DownloadRecord]]:
    params: dict[str, Any] = {"page": max(int(page), 1), "perpage": max(int(per_page), 1)}
    if sortby:
        params["sortby"] = sortby
        params["sortdir"] = "DESC" if str(sortdir).upper() == "DESC" else "ASC"
    if search:
        params["search"] = search
    fetched = get(DOWNLOADS, "/downloads", params, with_headers=True)
    rows = fetched.value["json"]
    if isinstance(rows, dict) and isinstance(rows.get("data"), list):
        rows = rows["data"]
    if not isinstance(rows, list):
        raise BadResponse("The downloads API sent a list of records in a shape we do not know.")
    headers = fetched.value["headers"]
    page_obj = Page(
        items=tuple(DownloadRecord.from_json(row) for row in rows),
        page=params["page"],
        per_page=params["perpage"],
        total=_header_int(headers, "X-WP-Total"),
        last_page=_header_int(headers, "X-WP-TotalPages"),
    )
    return Fetched(page_obj, fetched.fetched_at, fetched.stale)


def record_get(*, download_id: str, fresh: bool = False) -> Fetched[DownloadRecord]:
    download_id = validators.download_id(download_id)
    fetched = get(DOWNLOADS, f"/downloads/{download_id}", fresh=fresh)
    return Fetched(DownloadRecord.from_json(fetched.value), fetched.fetched_at, fetched.stale)


def _write(method: str, path: str, body: Any = None) -> Any:
    try:
        return send(DOWNLOADS, method, path, body=body).payload
    finally:
        cache.invalidate("downloads")


def record_create(*, fields: dict[str, Any]) -> DownloadRecord:
    """POST: never repeated. A timeout raises OutcomeUnknown: the record may or may not exist."""
    return DownloadRecord.from_json(_write("POST", "/downloads", fields))


def record_update(*, download_id: str, fields: dict[str, Any]) -> DownloadRecord:
    download_id = validators.download_id(download_id)
    return DownloadRecord.from_json(_write("PATCH", f"/downloads/{download_id}", fields))


def record_delete(*, download_id: str) -> DownloadRecord | None:
    download_id = validators.download_id(download_id)
    payload = _write("DELETE", f"/downloads/{download_id}")
    return (
        DownloadRecord.from_json(payload)
        if isinstance(payload, dict) and payload.get("download_id")
        else None
    )
