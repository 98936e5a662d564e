"""The sandbox behaves as the vendors document (../shared/api-reference/) and as its README decides,
in this process and over a real socket (tests/sandbox/conftest.py)."""

import base64
import re
import time
from typing import Any

import pytest
import requests

from tests.conftest import Sandbox

EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
EXAMPLE_TOKEN = "0c732eb6fd9802a0821a9d29888baee8"


def ff(sandbox: Sandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {
        "Authorization": f"Bearer {sandbox.key}",
        "Accept": "application/json",
        **kwargs.pop("headers", {}),
    }
    return requests.request(method, f"{sandbox.fileflare_url}{path}", headers=headers, timeout=10, **kwargs)


def dl(
    sandbox: Sandbox, method: str, path: str = "", auth: str | None = None, **kwargs: Any
) -> requests.Response:
    headers = {"Authorization": auth or f"Bearer {sandbox.token}"}
    return requests.request(
        method, f"{sandbox.downloads_url}/downloads{path}", headers=headers, timeout=10, **kwargs
    )


def test_order_1050_with_assets_has_the_documented_shape(sandbox: Sandbox) -> None:
    body = ff(sandbox, "GET", "/v1/orders", params={"order_number": 1050, "with_assets": "true"}).json()
    assert set(body) == {"data", "links", "meta"}
    (order,) = body["data"]
    assert order == {
        "id": EXAMPLE_ID,
        "order_number": 1050,
        "email_sent_at": order["email_sent_at"],
        "ordered_at": 1673214646,
        "assets": [
            {
                "id": order["assets"][0]["id"],
                "filename": "My new book - part 2",
                "size": "20MB",
                "is_file": False,
                "is_link": True,
                "url": "https://www.my-website.com/download/my-book-part-2.pdf",
            }
        ],
    }
    assert set(body["links"]) == {"first", "last", "prev", "next"}
    assert set(body["meta"]) == {
        "current_page",
        "from",
        "last_page",
        "links",
        "path",
        "per_page",
        "to",
        "total",
    }


def test_the_orders_list_paginates_like_laravel_with_the_gap(sandbox: Sandbox) -> None:
    body = ff(sandbox, "GET", "/v1/orders").json()
    meta = body["meta"]
    total = meta["total"]  # the seeded 15,608, plus any order another test made through /_sandbox/orders
    last_page = -(-total // 25)
    assert total >= 15608 and (meta["last_page"], meta["per_page"], meta["from"], meta["to"]) == (
        last_page,
        25,
        1,
        25,
    )
    labels = [link["label"] for link in meta["links"]]
    assert labels == [
        "« Previous",
        *map(str, range(1, 11)),
        "...",
        str(last_page - 1),
        str(last_page),
        "Next »",
    ]
    assert body["links"]["prev"] is None and body["links"]["next"].endswith("?page=2")
    assert "assets" not in body["data"][0]
    last = ff(sandbox, "GET", "/v1/orders", params={"page": last_page}).json()
    assert len(last["data"]) == total - (last_page - 1) * 25 and last["links"]["next"] is None
    assert last["meta"]["to"] == total
    past = ff(sandbox, "GET", "/v1/orders", params={"page": last_page + 50}).json()
    assert (
        past["data"] == [] and past["meta"]["from"] is None and past["meta"]["current_page"] == last_page + 50
    )
    capped = ff(sandbox, "GET", "/v1/orders", params={"limit": 5000}).json()
    assert len(capped["data"]) == 1000 and capped["meta"]["per_page"] == 1000


def test_single_order_answers_the_documented_list_of_one(sandbox: Sandbox) -> None:
    body = ff(sandbox, "GET", f"/v1/orders/{EXAMPLE_ID}", params={"with_assets": 1}).json()
    assert isinstance(body["data"], list) and body["data"][0]["order_number"] == 1050


def test_customer_view_of_1050_is_the_documented_example(sandbox: Sandbox) -> None:
    body = requests.get(
        f"{sandbox.fileflare_url}/v2/customer-account-orders", params={"id": EXAMPLE_TOKEN}, timeout=10
    ).json()
    assert body["text"] == {"title": "Download files for your orders", "text": None}
    paper, hard = body["order"]["lines"]
    assert {k: v for k, v in paper["product"].items() if k != "id"} == {
        "name": "My new Book",
        "variant_name": "Paper back",
        "sku": "my-sku",
        "product_id": 123456,
        "variant_id": 1234567,
        "vendor": "my-store",
        "tags": ["books", "paper-books"],
    }
    assert paper["assets"][0]["limits"] == {"downloaded": 5, "limit": 10}
    assert paper["assets"][0]["data"]["url"] == "https://www.my-website.com/download/my-book.pdf"
    assert hard["assets"] == [] and hard["product"]["variant_name"] == "Hard back"
    assert body["order"]["assets"][0]["limits"] == {"downloaded": 0, "limit": 10}
    assert (
        requests.get(
            f"{sandbox.fileflare_url}/v2/customer-account-orders", params={"id": "nothex"}, timeout=10
        ).status_code
        == 404
    )


def test_resending_the_email_stamps_the_order_and_fills_the_outbox(sandbox: Sandbox) -> None:
    order = sandbox.customer(4100)
    answer = ff(sandbox, "PUT", f"/v1/orders/{order['id']}", json={})
    assert answer.status_code == 200 and abs(answer.json()["data"]["email_sent_at"] - time.time()) < 60
    mail = sandbox.outbox()[0]
    assert mail["order_number"] == 4100 and order["order_status_url"] in mail["body"]


def test_products_list_one_row_per_variant(sandbox: Sandbox) -> None:
    rows = ff(sandbox, "GET", "/v1/products", params={"sku": "my-sku"}).json()["data"]
    assert {row["variant_name"] for row in rows} == {"Paper back", "Hard back"}
    assert set(rows[0]) == {"id", "name", "variant_name", "sku", "product_id", "variant_id", "vendor", "tags"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_a_missing_or_wrong_key_is_a_401_with_json(sandbox: Sandbox, headers: dict[str, str]) -> None:
    answer = requests.get(f"{sandbox.fileflare_url}/v1/orders", headers=headers, timeout=10)
    assert answer.status_code == 401 and answer.json() == {"message": "Unauthenticated."}


@pytest.mark.parametrize(
    "params, field",
    [({"limit": 0}, "limit"), ({"page": "x"}, "page"), ({"order_number": "-3"}, "order_number")],
)
def test_bad_parameters_are_a_laravel_422(sandbox: Sandbox, params: dict[str, Any], field: str) -> None:
    answer = ff(sandbox, "GET", "/v1/orders", params=params)
    assert answer.status_code == 422 and field in answer.json()["errors"] and answer.json()["message"]


def test_unknown_order_is_a_404(sandbox: Sandbox) -> None:
    assert ff(sandbox, "GET", "/v1/orders/00000000-0000-4000-8000-000000000000").status_code == 404


def test_downloads_round_trip_with_documented_formats(sandbox: Sandbox) -> None:
    made = dl(
        sandbox,
        "POST",
        json={
            "product_id": 5,
            "order_id": 4102,
            "download_count": 1,
            "download_file_name": "a.pdf",
            "is_amazon": False,
            "amazon_key": "",
        },
    ).json()
    assert re.fullmatch(r"[0-9a-f]{45}", made["download_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", made["date_created"])
    assert (
        dl(sandbox, "PATCH", f"/{made['download_id']}", json={"download_count": 4}).json()["download_count"]
        == 4
    )
    assert dl(sandbox, "GET", f"/{made['download_id']}").json()["download_count"] == 4
    assert dl(sandbox, "DELETE", f"/{made['download_id']}").json()["download_id"] == made["download_id"]
    assert dl(sandbox, "GET", f"/{made['download_id']}").status_code == 404


def test_downloads_list_is_an_array_with_totals_sorted_and_searched(sandbox: Sandbox) -> None:
    answer = dl(
        sandbox,
        "GET",
        params={"search": "1050", "sortby": "download_count", "sortdir": "ASC", "perpage": 5, "page": 1},
    )
    rows = answer.json()
    assert isinstance(rows, list) and len(rows) == 5
    assert int(answer.headers["X-WP-Total"]) >= 1 and int(answer.headers["X-WP-TotalPages"]) >= 1
    assert [row["download_count"] for row in rows] == sorted(row["download_count"] for row in rows)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"download_count": -1}, "download_count"),
        ({"order_id": 0}, "order_id"),
        ({"product_id": "seven"}, "product_id"),
        ({"is_amazon": True, "order_id": 3}, "amazon_key"),
    ],
)
def test_bad_record_bodies_are_wordpress_400s_on_the_field(
    sandbox: Sandbox, body: dict[str, Any], field: str
) -> None:
    answer = dl(sandbox, "POST", json=body)
    assert answer.status_code == 400 and answer.json()["code"] == "rest_invalid_param"
    assert field in answer.json()["data"]["params"]


def test_bad_list_parameters_are_400s_and_bad_ids_have_no_route(sandbox: Sandbox) -> None:
    assert "sortby" in dl(sandbox, "GET", params={"sortby": "evil"}).json()["data"]["params"]
    assert "sortdir" in dl(sandbox, "GET", params={"sortdir": "UP"}).json()["data"]["params"]
    no_route = dl(sandbox, "GET", "/abc-def")  # the route's pattern is ^[0-9a-zA-Z]+$
    assert no_route.status_code == 404 and no_route.json()["code"] == "rest_no_route"


def test_downloads_auth_reads_take_basic_writes_need_bearer(sandbox: Sandbox) -> None:
    basic = "Basic " + base64.b64encode(f"{sandbox.token}:{sandbox.secret}".encode()).decode()
    assert dl(sandbox, "GET", auth=basic, params={"perpage": 1}).status_code == 200
    refused = dl(sandbox, "POST", auth=basic, json={"order_id": 1})
    assert refused.status_code == 400
    assert refused.json() == {"code": "rest_forbidden", "message": "Unauthorized", "data": {"status": 400}}
    assert dl(sandbox, "GET", auth="Bearer wrong").status_code == 400


def test_rate_limits_count_per_key_and_say_when_to_retry(sandbox: Sandbox) -> None:
    sandbox.config(rate_limit=3, email_rate_limit=1)
    answers = [ff(sandbox, "GET", "/v1/orders", params={"limit": 1}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers.get("X-RateLimit-Remaining") for a in answers[:3]] == ["2", "1", "0"]
    assert answers[3].headers["X-RateLimit-Limit"] == "3" and int(answers[3].headers["Retry-After"]) >= 1
    sandbox.reset_faults()
    sandbox.config(email_rate_limit=1)
    order = sandbox.customer(4103)
    assert ff(sandbox, "PUT", f"/v1/orders/{order['id']}", json={}).status_code == 200
    assert ff(sandbox, "PUT", f"/v1/orders/{order['id']}", json={}).status_code == 429


def test_faults_latency_errors_malformed_and_hangs(sandbox: Sandbox) -> None:
    sandbox.config(latency_ms=200)
    started = time.monotonic()
    ff(sandbox, "GET", "/v1/orders", params={"limit": 1})
    assert time.monotonic() - started >= 0.2
    sandbox.config(latency_ms=0, error_rate=1.0)
    answer = ff(sandbox, "GET", "/v1/orders")
    assert answer.status_code in (500, 502, 503) and "text/html" in answer.headers["Content-Type"]
    assert sandbox.config()["error_rate"] == 1.0  # the control endpoints are never faulted
    sandbox.config(error_rate=0, malformed_rate=1.0)
    with pytest.raises(ValueError):
        ff(sandbox, "GET", "/v1/orders").json()
    sandbox.config(malformed_rate=0, hang_rate=1.0)
    with pytest.raises(requests.ReadTimeout):
        requests.get(
            f"{sandbox.downloads_url}/downloads",
            headers={"Authorization": f"Bearer {sandbox.token}"},
            timeout=0.5,
        )


def test_seed_is_deterministic_and_varied() -> None:
    from sandbox.seed import build

    first, second = build(orders=300, seed=7), build(orders=300, seed=7)
    assert [(o.id, o.customer_token) for o in first.orders] == [
        (o.id, o.customer_token) for o in second.orders
    ]
    assert [r.download_id for r in first.records] == [r.download_id for r in second.records]
    assert build(orders=300, seed=8).orders[0].id != first.orders[0].id
    assert any(la.limit is None for la in first.line_assets)
    assert any(la.limit is not None and la.downloaded >= la.limit for la in first.line_assets)
    assert any(o.email_sent_at is None for o in first.orders)
    assert any(not first.product_assets[line.product_id] for line in first.lines)
    assert any(r.is_amazon_download and r.amazon_key for r in first.records)
    default = build()
    assert len(default.orders) == 15608  # the documented example's total: 625 pages of 25
    assert (default.orders[0].order_number, default.orders[-1].order_number) == (1001, 16608)


def test_sandbox_tables_stay_out_of_the_dashboard_database() -> None:
    from sandbox.routers import SandboxRouter

    assert SandboxRouter().allow_migrate("default", "sandbox") is False
    assert SandboxRouter().allow_migrate("default", "orders") is None


def test_the_orders_page_in_fileflares_app_is_served_by_id_or_number(sandbox: Sandbox) -> None:
    by_id = requests.get(f"{sandbox.url}/orders/{EXAMPLE_ID}", timeout=10)
    by_number = requests.get(f"{sandbox.url}/orders/1050", timeout=10)
    assert by_id.status_code == by_number.status_code == 200
    assert by_id.text == by_number.text and "Order #1050" in by_id.text and EXAMPLE_ID in by_id.text
    assert re.search(r"Download e-mail</th><td>(Sent \d{4}-\d\d-\d\d \d\d:\d\d UTC|Not sent)<", by_id.text)
    missing = requests.get(f"{sandbox.url}/orders/99999999", timeout=10)
    assert missing.status_code == 404 and "The sandbox has no order with that ID or number." in missing.text
