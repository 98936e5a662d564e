"""Hostile values put into the sandbox (script tags, attribute breakers, javascript: and data: links,
10,000-character names, control and bidi characters) and rendered by every page that shows them, for
Support and for a Merchant: the markup stays text, only http(s) links are clickable, long values are
shortened in lists and whole on detail pages, and nothing answers 500."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry
from fileflare_admin.templatetags.display import printable
from tests.conftest import Sandbox
from tests.security.inert import assert_inert

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('xss')</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
SPOOF = "invoice\u202efdp.exe"  # shows as "invoiceexe.pdf" if the override is left raw
HIDDEN = "zero\u200bwidth\u0000nul\u2066iso\u2069"
LONG = ("very-long-file-name-" * 500)[:10_000]
BAD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(2)",
    " javascript:alert(3)",
    "java\tscript:alert(4)",
    "data:text/html,<script>alert(5)</script>",
    "vbscript:msgbox(6)",
    "//evil.example/x",
]
GOOD_URL = "https://files.example.com/a?b=<script>alert(7)</script>&c=\"d\""


def hostile_names(marker: str) -> list[str]:
    return [
        f"{marker}-{SCRIPT}.pdf",
        f"{marker}-{BREAKOUT}.pdf",
        f"{marker}-{SPOOF}",
        f"{marker}-{HIDDEN}.zip",
        f"{marker}-{LONG}",
    ]


@pytest.fixture
def hostile_records(make_record: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    marker = "zqhostile"
    return [
        make_record(
            order_id=1050,
            download_file_name=name,
            is_amazon=True,
            amazon_key=f"{BREAKOUT}{SCRIPT}{SPOOF}javascript:alert(9)",
        )
        for name in hostile_names(marker)
    ]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(params=["support", "merchant"])
def viewer(request: pytest.FixtureRequest, support_user: User, merchant_user: User) -> Client:
    return _client(support_user if request.param == "support" else merchant_user)


def get_ok(client: Client, url: str, **extra: Any) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.content.decode()


def test_the_records_list_shows_hostile_names_as_short_inert_text(
    viewer: Client, hostile_records: list[dict[str, Any]]
) -> None:
    html = get_ok(viewer, "/downloads/?q=zqhostile")
    page = assert_inert(html, "downloads list")
    text = page.text
    assert SCRIPT[:20] in text  # shown, as text
    assert printable(SPOOF)[:12] in text
    assert LONG not in text and LONG[:30] in text  # shortened in the list...
    assert "…" in text


def test_the_records_list_partial_for_htmx_is_inert_too(
    viewer: Client, hostile_records: list[dict[str, Any]]
) -> None:
    html = get_ok(viewer, "/downloads/?q=zqhostile", HTTP_HX_REQUEST="true")
    assert_inert(html, "downloads list partial")


def test_a_records_own_page_shows_a_hostile_name_whole_and_inert(
    viewer: Client, hostile_records: list[dict[str, Any]]
) -> None:
    for record in hostile_records:
        html = get_ok(viewer, f"/downloads/{record['download_id']}/edit/")
        page = assert_inert(html, "record page")
        assert printable(record["download_file_name"]) in page.text  # ...whole on its own page


def test_the_delete_confirmation_shows_a_hostile_record_inert(
    merchant_client: Client, hostile_records: list[dict[str, Any]]
) -> None:
    for record in hostile_records:
        html = get_ok(merchant_client, f"/downloads/{record['download_id']}/delete/")
        page = assert_inert(html, "delete page")
        assert printable(record["download_file_name"]) in page.text


def test_the_in_place_count_fix_answers_an_inert_row(
    viewer: Client, hostile_records: list[dict[str, Any]]
) -> None:
    record = hostile_records[1]
    response = viewer.post(
        f"/downloads/{record['download_id']}/count/",
        {"count": "2", "expected": "1", "context": "list", "next": "/downloads/"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert_inert(response.content.decode(), "count row")


@pytest.mark.engine
def test_the_audit_log_shows_changes_to_hostile_records_inert(
    merchant_client: Client, viewer: Client, hostile_records: list[dict[str, Any]]
) -> None:
    for record in hostile_records:
        response = merchant_client.post(
            f"/downloads/{record['download_id']}/count/",
            {"count": "3", "expected": "1", "context": "list", "next": "/downloads/", "reason": SCRIPT},
        )
        assert response.status_code == 302
    record = hostile_records[0]
    response = merchant_client.post(
        f"/downloads/{record['download_id']}/delete/", {"reason": f"{BREAKOUT}{SPOOF}"}
    )
    assert response.status_code in (200, 302)
    html = get_ok(viewer, "/audit/")
    assert_inert(html, "audit log")
    assert_inert(get_ok(viewer, "/audit/?q=zqhostile"), "audit log search")
    assert_inert(get_ok(viewer, "/audit/", HTTP_HX_REQUEST="true"), "audit log partial")
    ids = [record["download_id"] for record in hostile_records]
    for entry in AuditEntry.objects.filter(download_id__in=ids):
        undo_page = viewer.get(f"/audit/{entry.pk}/undo/")
        assert undo_page.status_code in (200, 403)  # Support may not undo a large change or a deletion
        assert_inert(undo_page.content.decode(), f"undo page of {entry.action}")
        assert_inert(get_ok(viewer, f"/audit/?download_id={entry.download_id}"), "one record's history")


def test_a_hostile_record_in_the_create_form_error_path_stays_inert(merchant_client: Client) -> None:
    response = merchant_client.post(
        "/downloads/new/",
        {
            "product_id": SCRIPT,
            "order_id": BREAKOUT,
            "download_count": "-1",
            "download_file_name": f"{SCRIPT}{SPOOF}",
            "amazon_key": BREAKOUT,
            "reason": SCRIPT,
        },
    )
    assert response.status_code == 200
    assert_inert(response.content.decode(), "create form with errors")


def test_the_sandbox_keeps_hostile_values_as_sent(
    sandbox: Sandbox, hostile_records: list[dict[str, Any]], read_record: Callable[[str], Any]
) -> None:
    """The fixtures really are hostile: the stand-in API stores and returns them unchanged."""
    for record in hostile_records:
        assert read_record(record["download_id"])["download_file_name"] == record["download_file_name"]


# --- orders ------------------------------------------------------------------------------------


@pytest.fixture
def hostile_order(sandbox: Sandbox, make_record: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """An order whose every upstream text is hostile, with a hostile download record beside it."""
    link_assets = [
        {"filename": f"link-{index}-{SCRIPT}", "is_link": True, "url": url, "limit": 3, "downloaded": 5,
         "size": "<b>1</b>\u202eMB\u0000"}
        for index, url in enumerate([*BAD_URLS, GOOD_URL])
    ]
    created = sandbox.create_order(
        {
            "lines": [
                {
                    "product": {
                        "name": f"{SCRIPT}{SPOOF}{LONG}",
                        "variant_name": f"{BREAKOUT}{HIDDEN}",
                        "sku": "javascript:alert(1)",
                        "vendor": f"<b>{HIDDEN}</b>",
                        "tags": [SCRIPT, BREAKOUT, SPOOF, HIDDEN, LONG],
                    },
                    "assets": [
                        *link_assets,
                        {"filename": f"{BREAKOUT}{SPOOF}{LONG}", "is_file": True, "limit": None},
                    ],
                }
            ],
            "assets": [
                {"filename": f"{HIDDEN}{LONG}", "is_file": True, "size": "2MB\u202e<i>"},
                {"filename": f"order-level-{BREAKOUT}", "is_link": True, "url": BAD_URLS[0]},
                {"filename": "order-level-good", "is_link": True, "url": GOOD_URL},
            ],
            "text": {"title": f"{SCRIPT}{SPOOF}", "text": f"{SCRIPT}\n{BREAKOUT}\n{HIDDEN}\n{LONG}"},
        }
    )
    make_record(order_id=created["order_number"], download_file_name=f"{SCRIPT}{SPOOF}{LONG}")
    return created


def _links_to(page_links: list[str], url: str) -> bool:
    return any(link == url for link in page_links)


def test_the_customer_view_shows_hostile_data_inert_and_whole(
    viewer: Client, hostile_order: dict[str, Any]
) -> None:
    html = get_ok(viewer, f"/orders/customer/{hostile_order['customer_token']}/")
    page = assert_inert(html, "customer view")
    assert SCRIPT in page.text and printable(HIDDEN) in page.text
    assert LONG in page.text  # the whole file name and text on the detail page
    assert _links_to(page.links(), GOOD_URL)  # http(s) stays clickable...
    for bad in BAD_URLS:
        assert not _links_to(page.links(), bad)  # ...nothing else is
    assert printable(BAD_URLS[0]) in page.text  # shown as plain text


def test_the_order_page_shows_hostile_data_inert(viewer: Client, hostile_order: dict[str, Any]) -> None:
    get_ok(viewer, f"/orders/customer/{hostile_order['customer_token']}/")  # makes the token known
    html = get_ok(viewer, f"/orders/{hostile_order['id']}/")
    page = assert_inert(html, "order page")
    assert SCRIPT in page.text
    assert LONG in page.text
    assert _links_to(page.links(), GOOD_URL)
    for bad in BAD_URLS:
        assert not _links_to(page.links(), bad)


def test_the_order_page_of_a_fresh_session_is_inert_too(
    viewer: Client, hostile_order: dict[str, Any]
) -> None:
    assert_inert(get_ok(viewer, f"/orders/{hostile_order['id']}/"), "order page without the token")


def test_orders_list_and_search_with_a_hostile_order_are_inert(
    viewer: Client, hostile_order: dict[str, Any]
) -> None:
    assert_inert(get_ok(viewer, "/orders/"), "orders list")
    assert_inert(get_ok(viewer, "/orders/", HTTP_HX_REQUEST="true"), "orders list partial")
    for query in (
        str(hostile_order["order_number"]),
        hostile_order["order_status_url"],
        hostile_order["customer_token"],
        f"{SCRIPT}{BREAKOUT}",
        SPOOF,
        LONG,
    ):
        response = viewer.get("/orders/", {"q": query})
        assert response.status_code in (200, 302), query[:40]
        if response.status_code == 200:
            assert_inert(response.content.decode(), f"orders search {query[:40]!r}")
        else:
            assert response["Location"].startswith("/orders/")
            assert_inert(get_ok(viewer, response["Location"]), f"search result {query[:40]!r}")


def test_the_resend_confirmation_of_a_hostile_order_is_inert(
    viewer: Client, hostile_order: dict[str, Any]
) -> None:
    assert_inert(get_ok(viewer, f"/orders/{hostile_order['id']}/resend/"), "resend confirmation")


@pytest.mark.engine
def test_the_audit_log_after_a_resend_with_a_hostile_reason_is_inert(
    viewer: Client, hostile_order: dict[str, Any]
) -> None:
    response = viewer.post(f"/orders/{hostile_order['id']}/resend/", {"reason": f"{SCRIPT}{SPOOF}"})
    assert response.status_code in (200, 302)
    assert_inert(get_ok(viewer, "/audit/"), "audit log after a resend")
    assert_inert(get_ok(viewer, f"/orders/{hostile_order['id']}/"), "order timeline after a resend")
