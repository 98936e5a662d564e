"""The downloads API answers as WP EasyCart's REST routes on WordPress 6.1 do (issue 18): WordPress's
error envelopes, MySQL int(11) ranges, rows as $wpdb returns them when switched, date_created in the
database connection's time zone."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape as html_unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from django.test import Client
from django.urls import reverse

from sandbox.seed import build
from sandbox.wordpress import INT_MAX
from tests.conftest import Sandbox


def dl(sandbox: Sandbox, method: str, path: str = "", **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {sandbox.token}", **kwargs.pop("headers", {})}
    return requests.request(
        method, f"{sandbox.downloads_url}/downloads{path}", headers=headers, timeout=10, **kwargs
    )


def refused_params(answer: requests.Response) -> dict[str, str]:
    body = answer.json()
    assert answer.status_code == 400 and body["code"] == "rest_invalid_param", body
    assert body["data"]["status"] == 400 and set(body["data"]["details"]) == set(body["data"]["params"])
    assert body["message"] == f"Invalid parameter(s): {', '.join(body['data']['params'])}"
    return body["data"]["params"]


@pytest.fixture
def wpdb_rows(sandbox: Sandbox) -> Iterator[None]:
    sandbox.config(downloads_rows="wpdb")
    yield
    sandbox.config(reset=True)


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/easycart/nothing"), ("GET", "/easycart/downloads/abc/extra"), ("PUT", "/easycart/downloads")],
)
def test_unknown_routes_and_methods_are_rest_no_route(sandbox: Sandbox, method: str, path: str) -> None:
    answer = requests.request(method, f"{sandbox.url}{path}", timeout=10)
    assert answer.status_code == 404
    assert answer.json() == {
        "code": "rest_no_route",
        "message": "No route was found matching the URL and request method.",
        "data": {"status": 404},
    }


def test_ids_and_counts_are_mysql_int11(sandbox: Sandbox) -> None:
    largest = dl(
        sandbox, "POST", json={"product_id": INT_MAX, "order_id": INT_MAX, "download_count": INT_MAX}
    )
    assert largest.status_code == 200 and largest.json()["product_id"] == INT_MAX
    params = refused_params(dl(sandbox, "POST", json={"product_id": INT_MAX + 1, "order_id": 7}))
    assert params == {"product_id": "product_id must be between 1 (inclusive) and 2147483647 (inclusive)"}
    made = largest.json()["download_id"]
    assert set(refused_params(dl(sandbox, "PATCH", f"/{made}", json={"download_count": 2**31}))) == {
        "download_count"
    }
    assert dl(sandbox, "GET", f"/{made}").json()["download_count"] == INT_MAX  # nothing was written


def test_numbers_in_strings_are_taken_as_wordpress_takes_them(sandbox: Sandbox) -> None:
    made = dl(sandbox, "POST", json={"product_id": "7", "order_id": "8.0", "is_amazon": "false"}).json()
    assert (made["product_id"], made["order_id"], made["is_amazon"]) == (7, 8, False)
    params = refused_params(dl(sandbox, "POST", json={"product_id": "7.5", "is_amazon": "maybe"}))
    assert params == {
        "product_id": "product_id is not of type integer.",
        "is_amazon": "is_amazon is not of type boolean.",
    }


def test_other_refusals_in_wordpress_envelopes(sandbox: Sandbox) -> None:
    bad_json = dl(sandbox, "POST", data=b"{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["code"] == "rest_invalid_json"
    empty = dl(sandbox, "POST", json={})
    assert empty.status_code == 400 and empty.json()["data"] == {"status": 400}
    missing = dl(sandbox, "GET", "/0123456789abcdef")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "rest_download_invalid_id",
        "message": "Invalid download ID.",
        "data": {"status": 404},
    }
    # WordPress checks the arguments before the permission: a bad argument is reported even without a token.
    no_token = requests.get(f"{sandbox.downloads_url}/downloads", params={"page": "x"}, timeout=10)
    assert refused_params(no_token) == {"page": "page is not of type integer."}


def test_sortby_names_a_column_of_the_table(sandbox: Sandbox) -> None:
    assert set(refused_params(dl(sandbox, "GET", params={"sortby": "is_amazon"}))) == {"sortby"}
    rows = dl(sandbox, "GET", params={"sortby": "is_amazon_download", "sortdir": "DESC", "perpage": 3}).json()
    assert all(row["is_amazon"] for row in rows)


def test_seeded_records_fit_the_table(sandbox: Sandbox) -> None:
    for column in ("product_id", "order_id", "download_count"):
        (top,) = dl(sandbox, "GET", params={"sortby": column, "sortdir": "DESC", "perpage": 1}).json()
        assert top[column] <= INT_MAX, column
    shop = build(orders=400, seed=3)
    assert all(1 <= record.product_id <= INT_MAX for record in shop.records)
    example = [record for record in build(orders=60).records if record.order_id == 1050]
    assert [record.product_id for record in example] == [123456]  # the documented product_id


def test_wpdb_rows_are_strings_with_the_tables_s3_column(sandbox: Sandbox, wpdb_rows: None) -> None:
    made = dl(
        sandbox,
        "POST",
        json={"product_id": 31, "order_id": 4410, "download_count": 2, "is_amazon": 1, "amazon_key": "k/a"},
    ).json()
    assert made == {
        "download_id": made["download_id"],
        "date_created": made["date_created"],
        "product_id": "31",
        "order_id": "4410",
        "download_count": "2",
        "download_file_name": "",
        "is_amazon_download": "1",
        "amazon_key": "k/a",
    }
    changed = dl(sandbox, "PATCH", f"/{made['download_id']}", json={"is_amazon_download": "0"}).json()
    assert changed["is_amazon_download"] == "0"
    listed = dl(sandbox, "GET", params={"search": "4410"}).json()
    assert all(isinstance(value, str) for row in listed for value in row.values())


def test_date_created_is_in_the_connections_time_zone(sandbox: Sandbox) -> None:
    made = dl(sandbox, "POST", json={"order_id": 4411}).json()
    in_utc = datetime.strptime(made["date_created"], "%Y-%m-%d %H:%M:%S")
    assert abs(in_utc.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=2)
    for zone, hours in (("-05:00", -5), ("+05:30", 5.5)):
        sandbox.config(downloads_timezone=zone)
        shown = dl(sandbox, "GET", f"/{made['download_id']}").json()["date_created"]
        assert datetime.strptime(shown, "%Y-%m-%d %H:%M:%S") - in_utc == timedelta(hours=hours)
    sandbox.config(downloads_timezone="America/New_York")
    new_york = in_utc.replace(tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    shown = dl(sandbox, "GET", f"/{made['download_id']}").json()["date_created"]
    assert shown == f"{new_york:%Y-%m-%d %H:%M:%S}"
    refused = requests.post(
        f"{sandbox.url}/_sandbox/config", json={"downloads_timezone": "Mars/Base"}, timeout=10
    )
    assert refused.status_code == 422 and "downloads_timezone" in refused.json()["errors"]
    sandbox.config(reset=True)
    assert sandbox.config()["downloads_timezone"] == "UTC"


def _form_inputs(html: str) -> dict[str, str]:
    """The named inputs of the page's POST form, as a browser would send them."""
    form = re.search(r'<form[^>]*method="post" action="/downloads/[^>]*>(.*?)</form>', html, re.S)
    assert form, "no POST form on the page"
    values: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form.group(1)):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if not name or " disabled" in tag or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        text = html_unescape(value.group(1)) if value else ""
        values[name.group(1)] = "on" if 'type="checkbox"' in tag else text
    return values


@pytest.mark.django_db
def test_a_seeded_record_can_be_edited_and_saved_in_the_dashboard(
    sandbox: Sandbox, merchant_client: Client
) -> None:
    """Issue 18's "done when": a seeded record (its product id within int(11)) saves through the edit form."""
    (seeded,) = dl(sandbox, "GET", params={"search": "16400", "perpage": 1}).json()
    assert 1 <= seeded["product_id"] <= INT_MAX
    url = reverse("downloads:edit", args=[seeded["download_id"]])
    form = _form_inputs(merchant_client.get(url).content.decode())
    assert form["product_id"] == str(seeded["product_id"])
    saved = merchant_client.post(url, {**form, "download_count": str(seeded["download_count"] + 1)})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    now = dl(sandbox, "GET", f"/{seeded['download_id']}").json()
    assert now["download_count"] == seeded["download_count"] + 1
    dl(sandbox, "PATCH", f"/{seeded['download_id']}", json={"download_count": seeded["download_count"]})
