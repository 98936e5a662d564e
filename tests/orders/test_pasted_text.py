"""Issue 26.3: whatever the customer pasted finds the order. A download link or a file name finds the
orders and records holding that file; an e-mail address or a name gets one sentence saying that
Fileflare's API gives no customer e-mail or name, and what to ask for instead."""

import re
from typing import Any

import pytest
import requests
from django.test import Client
from django.utils import timezone

from fileflare_admin.api import fileflare
from fileflare_admin.api.http import FILEFLARE
from orders_index.store import store_orders
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
BOOK_LINK = "https://www.my-website.com/download/my-book.pdf"  # "My new book", through order 1050's product
PART_2_LINK = "https://www.my-website.com/download/my-book-part-2.pdf"  # attached to order 1050 itself


def _calls(sandbox: Sandbox) -> Any:
    return requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()


def _holders(page: str) -> list[str]:
    return page.split('class="table file-holders"', 1)[1].split("</tbody>", 1)[0].split("<tr>")[2:]


def test_the_customers_download_link_finds_the_orders_through_their_records(support_client: Client) -> None:
    response = support_client.get("/orders/", {"q": BOOK_LINK})
    assert response.status_code == 200  # two orders bought the book: #1050 and #1049 (sandbox/README.md)
    page = response.content.decode()
    assert f"Orders holding “{BOOK_LINK}” (the file “My new book”)" in page
    newest, older = _holders(page)
    assert "#1050<" in newest
    assert "“My new book”, downloaded 5 times" in newest
    assert "#1049<" in older and "download record" in older


def test_a_link_pasted_in_a_ticket_with_a_complaint_carries_it_to_each_order(support_client: Client) -> None:
    ticket = f"Hello, this link {BOOK_LINK}, says download limit!"
    page = support_client.get("/orders/", {"q": ticket}).content.decode()
    assert "Ticket says: limit reached" in page
    link = re.search(r'href="([^"]+)">#1050<', _holders(page)[0])
    assert link is not None  # to the order, or to a search by its number when no answer has shown it yet
    opened = support_client.get(link.group(1).replace("&amp;", "&"))
    assert opened.status_code in (200, 302)
    final = opened["Location"] if opened.status_code == 302 else link.group(1)
    assert final == f"/orders/{EXAMPLE_ID}/?complaint=limit"


@pytest.mark.engine  # reads the index's JSON column (orders with files attached: assets != [])
def test_a_file_attached_to_the_order_is_found_in_the_order_index(support_client: Client) -> None:
    order = fileflare.order_get(order_id=EXAMPLE_ID, with_assets=True).value
    assert [asset.url for asset in order.assets] == [PART_2_LINK]  # no download record names it
    store_orders(shop=FILEFLARE.identity(), orders=[order], seen_at=timezone.now())
    by_link = support_client.get("/orders/", {"q": f"<{PART_2_LINK}>"})
    assert by_link["Location"] == f"/orders/{EXAMPLE_ID}/"
    by_name = support_client.get("/orders/", {"q": "my-book-part-2.pdf"})  # the link's last part
    assert by_name["Location"] == f"/orders/{EXAMPLE_ID}/"


def test_a_file_name_held_by_several_orders_lists_each_order_and_record(
    support_client: Client, make_order: Any
) -> None:
    first = make_order({"Ticket Planner 4471.pdf": (3, 5)})
    second = make_order({"Ticket Planner 4471.pdf": (5, 5), "Other.pdf": (0, 5)})
    response = support_client.get("/orders/", {"q": "ticket planner 4471.PDF"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Orders holding “ticket planner 4471.PDF”" in page
    rows = _holders(page)
    assert [f"#{second.order_number}<" in rows[0], f"#{first.order_number}<" in rows[1]] == [True, True]
    assert second.records["Ticket Planner 4471.pdf"] in rows[0] and "downloaded 5 times" in rows[0]
    assert first.records["Ticket Planner 4471.pdf"] in rows[1] and "downloaded 3 times" in rows[1]
    assert second.records["Other.pdf"] not in page


def test_capitalized_words_are_tried_as_a_file_name_first(support_client: Client, make_order: Any) -> None:
    made = make_order({"Sunset Watercolour Bundle": (1, 5)})
    response = support_client.get("/orders/", {"q": "Sunset Watercolour Bundle"})
    assert response.status_code == 302 and response["Location"] == f"/orders/{made.id}/"


def test_a_file_no_order_holds_says_where_it_looked_and_what_to_ask_for(support_client: Client) -> None:
    page = support_client.get("/orders/", {"q": "https://example.com/download/nothing-here-9981.zip"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "No order or download record holds “https://example.com/download/nothing-here-9981.zip”" in text
    assert "Ask the customer for their order number" in text


@pytest.mark.parametrize("pasted", ["jane.doe@example.com", "From: Jane <jane.doe+shop@example.co.uk>"])
def test_an_email_address_says_fileflare_cannot_search_by_it_without_a_call(
    support_client: Client, sandbox: Sandbox, pasted: str
) -> None:
    before = _calls(sandbox)
    page = support_client.get("/orders/", {"q": pasted}).content.decode()
    assert "Fileflare&#x27;s API gives no customer e-mail address or name" in page
    assert "order number" in page and "order-status page" in page and "name of the file" in page
    assert _calls(sandbox) == before


@pytest.mark.parametrize("pasted", ["Jane Doe", "Seán O\u2019Brien", "Marie-Claire Dupont"])
def test_a_persons_name_says_fileflare_cannot_search_by_it(support_client: Client, pasted: str) -> None:
    response = support_client.get("/orders/", {"q": pasted})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Fileflare&#x27;s API gives no customer e-mail address or name" in page
    assert "Ask the customer for their order number" in page


def test_when_the_downloads_api_fails_a_file_search_says_so(support_client: Client, settings: Any) -> None:
    settings.DOWNLOADS_API_URL = "http://127.0.0.1:9/nothing"
    response = support_client.get("/orders/", {"q": "Budget Planner.pdf"})
    assert response.status_code == 200
    alert = 'role="alert">Could not connect to the downloads API. Try again in a moment.'
    assert alert in response.content.decode()


def test_when_the_downloads_api_fails_a_name_still_gets_its_sentence(
    support_client: Client, settings: Any
) -> None:
    settings.DOWNLOADS_API_URL = "http://127.0.0.1:9/nothing"
    page = support_client.get("/orders/", {"q": "Jane Doe"}).content.decode()
    assert "Fileflare&#x27;s API gives no customer e-mail address or name" in page
    assert "The downloads API did not answer, so no file of that name was looked for." in page
