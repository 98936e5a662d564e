"""A limit known without the customer's link (issue 26, item 2), and the evidence beside each finding
(item 4): the ticket "my download link says limit reached" on order #1050 answered from the record alone."""

import html
import re

import pytest
from django.test import Client

from downloads.models import SeenLimit
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
EXAMPLE_TOKEN = "0c732eb6fd9802a0821a9d29888baee8"


def _page(client: Client, path: str, **query: str) -> str:
    response = client.get(path, query)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _findings(page: str) -> list[str]:
    block = page.split('id="diagnosis"', 1)[1].split("</section>", 1)[0]
    items = block.split('<li class="finding ')[1:]
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def _records_section(page: str) -> str:
    section = page.split('id="order-records"', 1)[1].split("</section>")[0]
    return " ".join(re.sub(r"<[^>]+>", " ", section).split())


def _reply(page: str) -> str:
    return page.split('id="support-reply"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]


def test_a_limit_seen_on_another_orders_page_diagnoses_1050_from_its_record_alone(
    support_client: Client, sandbox: Sandbox
) -> None:
    # A previous ticket: support opened order #1049's customer page (it bought the same book).
    pasted = support_client.get("/orders/", {"q": sandbox.customer(1049)["order_status_url"]}, follow=True)
    assert pasted.status_code == 200 and "1049" in pasted.content.decode()
    assert SeenLimit.objects.filter(order_number=1049, filename="My new book", limit=10).exists()

    page = _page(support_client, f"/orders/{EXAMPLE_ID}/", complaint="limit")
    first = _findings(page)[0]
    assert "“My new book”: this order's download records show 5 of 10 downloads used" in first
    assert "limit seen on order #1049's customer page, just now" in first
    assert "The limit is learned, not this customer's own" in first
    assert "Reset to 0" in first  # the fix, from the record alone (a Support step of 5 resets a 5)
    # Evidence: which API said which number, and when.
    assert "From the downloads API, read" in first and "count 5" in first
    assert "From order #1049's customer page (Fileflare v2), seen" in first and "limit 10 (learned" in first
    records = _records_section(page)
    assert "5 of 10" in records and "learned: limit seen on order #1049's customer page" in records
    assert "Limit reached" not in records  # 5 of 10 is not reached
    assert "Something on our side is stopping your download" in _reply(page)  # until it is reset



def test_without_the_complaint_a_limit_not_reached_is_no_finding(
    support_client: Client, sandbox: Sandbox
) -> None:
    support_client.get(f"/orders/customer/{sandbox.customer(1049)['customer_token']}/")
    page = _page(support_client, f"/orders/{EXAMPLE_ID}/")
    assert not any("5 of 10" in finding for finding in _findings(page))
    assert "5 of 10" in _records_section(page)


def test_the_customers_own_page_is_named_as_this_orders(support_client: Client) -> None:
    support_client.get(f"/orders/customer/{EXAMPLE_TOKEN}/")  # the customer's link, pasted
    records = _records_section(_page(support_client, f"/orders/{EXAMPLE_ID}/", complaint="limit"))
    assert "5 of 10" in records and "limit seen on this order's customer page" in records
    assert "learned:" not in records


def test_the_shop_default_is_the_last_resort(support_client: Client, settings: object) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = 5  # type: ignore[attr-defined]
    page = _page(support_client, f"/orders/{EXAMPLE_ID}/", complaint="limit")
    first = _findings(page)[0]
    assert "show 5 of 5 downloads used (shop default)" in first
    assert "From the shop's default limit (SHOP_DOWNLOAD_LIMIT): limit 5" in first
    assert "5 of 5" in _records_section(page) and "shop default" in _records_section(page)


def test_when_no_limit_is_known_the_reply_asks_the_customer_for_their_order_status_link(
    support_client: Client,
) -> None:
    page = _page(support_client, f"/orders/{EXAMPLE_ID}/", complaint="limit")
    first = _findings(page)[0]
    assert "no limit is known for this order's files" in first and "Paste the link" in first
    assert "From the downloads API, read" in first
    reply = _reply(page)
    assert "we need the link to your order's page" in reply
    assert "address shown at the top of your browser" in reply
    assert " of 10" not in _records_section(page)


def test_an_unknown_complaint_changes_nothing(support_client: Client) -> None:
    page = _page(support_client, f"/orders/{EXAMPLE_ID}/", complaint="<script>")
    assert "no limit is known" not in page and "Download counts, and the files" in page


def test_the_records_list_shows_learned_limits(support_client: Client, sandbox: Sandbox) -> None:
    support_client.get(f"/orders/customer/{sandbox.customer(1049)['customer_token']}/")
    page = html.unescape(support_client.get("/downloads/", {"q": "order:1050"}).content.decode())
    assert "5 of 10" in page and "limit seen on order #1049's customer page" in page
    assert "record-at-limit" not in page


@pytest.mark.parametrize(("default", "flag"), [(5, "Limit reached"), (4, "Over the limit")])
def test_the_records_list_flags_records_at_or_over_their_limit(
    support_client: Client, settings: object, default: int, flag: str
) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = default  # type: ignore[attr-defined]
    page = html.unescape(support_client.get("/downloads/", {"q": "order:1050"}).content.decode())
    assert f"5 of {default}" in page and flag in page and "record-at-limit" in page
    order_page = _records_section(_page(support_client, f"/orders/{EXAMPLE_ID}/"))
    assert f"5 of {default}" in order_page and flag in order_page


def test_a_used_up_file_is_fixed_from_the_record_alone_and_the_reply_says_so(
    support_client: Client, make_order: object, upstream: object, settings: object
) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = 10  # type: ignore[attr-defined]
    order = make_order({"planner.pdf": (10, 10)})  # type: ignore[operator]
    record = order.records["planner.pdf"]
    page = _page(support_client, f"/orders/{order.id}/", complaint="limit")
    first = _findings(page)[0]
    assert "show 10 of 10 downloads used (shop default), so the customer cannot download it again" in first
    assert "Give 5 more downloads" in first  # Support's step
    assert "Limit reached" in _records_section(page)
    support_client.post(f"/orders/{order.id}/fix-count/", {"file": "planner.pdf", "record": f"{record}:10"})
    assert upstream.record(record)["download_count"] == 5  # type: ignore[attr-defined]
    after = _page(support_client, f"/orders/{order.id}/", complaint="limit")
    assert "5 of 10" in _records_section(after) and "Limit reached" not in _records_section(after)
    assert "I've reset your downloads for “planner.pdf”" in _reply(after)


def test_a_limit_learned_from_another_order_of_the_same_file(
    support_client: Client, make_order: object
) -> None:
    seen = make_order({"planner.pdf": (1, 3)})  # type: ignore[operator]
    blocked = make_order({"planner.pdf": (3, 3)})  # type: ignore[operator]
    support_client.get(f"/orders/customer/{seen.token}/")
    first = _findings(_page(support_client, f"/orders/{blocked.id}/"))[0]
    assert f"show 3 of 3 downloads used (limit seen on order #{seen.order_number}'s customer page" in first
    assert "so the customer cannot download it again" in first
