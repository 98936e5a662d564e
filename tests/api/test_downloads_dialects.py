"""The downloads API client against the sandbox in both dialects a WordPress plugin may answer in
(issue 18): the document's (numbers, booleans, `is_amazon`) and WordPress's database rows (every value
a string, `is_amazon_download`); its dates in DOWNLOADS_API_TIMEZONE; its WordPress error envelopes."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from fileflare_admin.api import downloads, errors, http, types
from tests.conftest import Sandbox

INT_MAX = 2_147_483_647


@pytest.fixture(params=["documented", "wpdb"])
def dialect(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[str]:
    """The sandbox switched to one dialect for the test, and back to its own afterwards."""
    sandbox.config(downloads_rows=request.param)
    yield request.param
    sandbox.config(reset=True)


def test_a_record_round_trip_reads_the_same_in_both_dialects(sandbox: Sandbox, dialect: str) -> None:
    made = downloads.record_create(
        fields={
            "product_id": INT_MAX,
            "order_id": 4601,
            "download_count": 3,
            "download_file_name": "guide.pdf",
            "is_amazon": True,
            "amazon_key": "bucket/guide.pdf",
        }
    )
    assert (made.product_id, made.order_id, made.download_count, made.is_amazon) == (INT_MAX, 4601, 3, True)
    assert made.amazon_key == "bucket/guide.pdf" and made.download_file_name == "guide.pdf"
    assert made.date_created is not None and abs(made.date_created - datetime.now(UTC)) < timedelta(minutes=2)
    changed = downloads.record_update(
        download_id=made.download_id, fields={"is_amazon": False, "download_count": 0}
    )
    assert (changed.is_amazon, changed.download_count) == (False, 0)
    fetched = downloads.record_get(download_id=made.download_id, fresh=True).value
    assert fetched == changed
    listed = downloads.record_list(search="4601", per_page=10).value
    assert made.download_id in [record.download_id for record in listed.items]
    assert all(isinstance(record.order_id, int) for record in listed.items)
    deleted = downloads.record_delete(download_id=made.download_id)
    assert deleted is not None and deleted.download_id == made.download_id
    with pytest.raises(errors.NotFound):
        downloads.record_get(download_id=made.download_id, fresh=True)


@pytest.mark.parametrize("column", sorted(downloads.SORTABLE_COLUMNS))
def test_every_column_offered_for_sorting_sorts(sandbox: Sandbox, dialect: str, column: str) -> None:
    for count, on_s3 in ((1, False), (2, True), (3, False)):
        key = "k" if on_s3 else ""
        downloads.record_create(
            fields={"order_id": 4602, "download_count": count, "is_amazon": on_s3, "amazon_key": key}
        )
    rows = downloads.record_list(search="4602", sortby=column, sortdir="DESC", per_page=100).value.items
    values = [getattr(record, column) for record in rows]
    assert values == sorted(values, reverse=True)


def test_a_column_the_api_cannot_sort_is_refused_before_sending(sandbox: Sandbox) -> None:
    before = sandbox.stats()["downloads"]
    with pytest.raises(errors.ValidationFailed, match="The downloads API cannot sort by “is_amazon_key”"):
        downloads.record_list(sortby="is_amazon_key")
    assert sandbox.stats()["downloads"] == before


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"product_id": INT_MAX + 1}, "product_id", "between 1 (inclusive) and 2147483647 (inclusive)"),
        ({"order_id": "seven"}, "order_id", "order_id is not of type integer."),
        ({"is_amazon_download": "maybe"}, "is_amazon", "is not of type boolean."),
        ({"is_amazon": True, "order_id": 5}, "amazon_key", "amazon_key is required"),
    ],
)
def test_wordpress_field_errors_land_on_our_field_names(
    sandbox: Sandbox, dialect: str, fields: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(errors.ValidationFailed) as refused:
        downloads.record_create(fields=fields)
    assert list(refused.value.field_errors) == [field]
    assert words in refused.value.field_errors[field][0]
    assert refused.value.user_message.startswith("The downloads API refused these values: ")
    assert refused.value.status == 400


def test_a_wordpress_error_without_fields_keeps_its_message(sandbox: Sandbox) -> None:
    with pytest.raises(errors.ValidationFailed) as refused:
        downloads.record_create(fields={})
    assert refused.value.field_errors == {}
    assert refused.value.user_message == (
        "The downloads API refused the request: Submit at least one field of the download."
    )


def test_laravel_field_errors_are_still_read(sandbox: Sandbox) -> None:
    with pytest.raises(errors.ValidationFailed) as refused:
        http.send(http.FILEFLARE, "GET", "/v1/orders", params={"limit": 0, "page": "x"})
    assert set(refused.value.field_errors) == {"limit", "page"}
    assert refused.value.user_message.startswith("Fileflare refused these values: The limit field")


@pytest.mark.parametrize("zone, hours", [("UTC", 0), ("-05:00", -5), ("America/New_York", None)])
def test_dates_are_read_in_the_apis_time_zone(
    sandbox: Sandbox, settings: object, dialect: str, zone: str, hours: float | None
) -> None:
    sandbox.config(downloads_timezone=zone)
    settings.DOWNLOADS_API_TIMEZONE = zone  # type: ignore[attr-defined]
    made = downloads.record_create(fields={"order_id": 4603})
    assert made.date_created is not None and abs(made.date_created - datetime.now(UTC)) < timedelta(minutes=2)
    assert made.date_created.tzinfo is UTC
    if hours is not None:  # read as UTC instead, the same row is off by the zone's offset
        settings.DOWNLOADS_API_TIMEZONE = "UTC"  # type: ignore[attr-defined]
        misread = downloads.record_get(download_id=made.download_id, fresh=True).value.date_created
        assert misread is not None and misread - made.date_created == timedelta(hours=hours)


def test_a_time_zone_setting_that_is_no_zone_says_so(settings: object) -> None:
    settings.DOWNLOADS_API_TIMEZONE = "Eastern"  # type: ignore[attr-defined]
    with pytest.raises(errors.NotConfigured, match="DOWNLOADS_API_TIMEZONE is “Eastern”, which is not a"):
        downloads.record_list()


def test_a_wrong_address_says_so_on_a_list_a_read_and_a_create(sandbox: Sandbox, settings: object) -> None:
    host = sandbox.url.removeprefix("http://")
    settings.DOWNLOADS_API_URL = f"http://staff:pa55word@{host}/easycart/v2?token=abc123#frag"  # type: ignore[attr-defined]
    expected = (
        f"The downloads API address looks wrong: http://{host}/easycart/v2 has no /downloads route. "
        "Check DOWNLOADS_API_URL."
    )
    for call in (
        downloads.record_list,
        lambda: downloads.record_get(download_id="abc123"),
        lambda: downloads.record_create(fields={"order_id": 1}),
    ):
        with pytest.raises(errors.NotConfigured) as wrong:
            call()
        assert wrong.value.user_message == expected and wrong.value.status == 404


def test_a_refused_token_says_to_check_it(sandbox: Sandbox, settings: object) -> None:
    settings.DOWNLOADS_API_TOKEN = "expired"  # type: ignore[attr-defined]
    with pytest.raises(errors.NotConfigured) as refused:
        downloads.record_list()
    assert refused.value.status == 400
    assert refused.value.user_message == (
        "The downloads API refused the dashboard's token. Check DOWNLOADS_API_TOKEN."
    )


class _WordPressForbidden(BaseHTTPRequestHandler):
    """Real WordPress's answer when a route's permission callback refuses: 401 rest_forbidden. The
    sandbox keeps the document's 400 instead, so this one answer is faked at the wire."""

    def do_GET(self) -> None:
        body = json.dumps(
            {
                "code": "rest_forbidden",
                "message": "Sorry, you are not allowed to do that.",
                "data": {"status": 401},
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_wordpress_401_rest_forbidden_says_to_check_the_token(settings: object) -> None:
    server = HTTPServer(("127.0.0.1", 0), _WordPressForbidden)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.DOWNLOADS_API_URL = f"http://127.0.0.1:{server.server_port}/wp-json/easycart/v1"  # type: ignore[attr-defined]
        with pytest.raises(errors.NotConfigured, match="Check DOWNLOADS_API_TOKEN") as refused:
            downloads.record_list()
        assert refused.value.status == 401
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"download_id": 17, "product_id": "5", "order_id": None, "is_amazon_download": "1"}, (5, 0, True)),
        ({"download_id": "a1", "product_id": 5, "order_id": "9", "is_amazon": 0}, (5, 9, False)),
        ({"download_id": "a1", "download_count": " 4 ", "is_amazon": "false"}, (0, 0, False)),
    ],
)
def test_a_record_reads_from_strings_numbers_and_nulls(
    row: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    record = types.DownloadRecord.from_json({"date_created": "0000-00-00 00:00:00", **row})
    assert (record.product_id, record.order_id, record.is_amazon) == expected
    assert record.date_created is None and isinstance(record.download_id, str)


def test_a_record_whose_s3_flag_or_date_is_unreadable_is_refused() -> None:
    with pytest.raises(errors.BadResponse, match="S3 flag is neither true nor false"):
        types.DownloadRecord.from_json({"download_id": "a1", "is_amazon_download": "maybe"})
    with pytest.raises(errors.BadResponse, match="a date we could not read"):
        types.DownloadRecord.from_json({"download_id": "a1", "date_created": "2025-13-45 00:00:00"})
