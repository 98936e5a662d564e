"""Work started on the order page returns to it: the list filtered to one order exactly (`#1050`,
`order:1050`, `order 1050`), create, edit and delete honouring a safe `next` and landing on the changed
row (`#record-<id>`), and a create pre-filled from a link. Against the in-process sandbox."""

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from downloads.reads import order_number_query
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi
from tests.downloads.test_views import _form_values

pytestmark = pytest.mark.django_db


def _orders_listed(html: str) -> list[int]:
    """The order number of every row of the records table."""
    return [int(number) for number in re.findall(r'title="Open order (\d+)"', html)]


def _record_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="record-([0-9A-Za-z]+)" class="record-row"', html)


@pytest.mark.parametrize(
    ("query", "number"),
    [
        ("#1050", 1050),
        ("order:1050", 1050),
        ("order 1050", 1050),
        (" Order #1,050 ", 1050),
        ("ORDER: 7", 7),
        ("1050", None),  # a bare number keeps the API's own search (product IDs, file names too)
        ("#0", None),
        ("order:abc", None),
        ("#1050.pdf", None),
    ],
)
def test_which_searches_name_one_order(query: str, number: int | None) -> None:
    assert order_number_query(query) == number


@pytest.mark.parametrize("query", ["#1050", "order:1050", "order 1050"])
def test_an_order_query_lists_that_orders_records_only(
    merchant_client: Client, downloads_api: DownloadsApi, query: str
) -> None:
    wide = merchant_client.get(reverse("downloads:list"), {"q": "1050", "per_page": 100}).content.decode()
    assert set(_orders_listed(wide)) - {1050}, "the sandbox has other orders matching 1050 (ids, products)"

    page = merchant_client.get(reverse("downloads:list"), {"q": query}).content.decode()

    expected = {record["download_id"] for record in downloads_api.for_order(1050)}
    assert expected, "the sandbox seeds records for order 1050"
    assert set(_record_ids(page)) == expected
    assert set(_orders_listed(page)) == {1050}
    assert "Records of order" in page and ">#1050</a>:" in page
    assert f"<strong>{len(expected)}</strong> record" in page


def test_an_order_with_no_records_says_so(merchant_client: Client, order_number: int) -> None:
    page = merchant_client.get(reverse("downloads:list"), {"q": f"order:{order_number}"}).content.decode()
    assert "This order has no download records." in page and _record_ids(page) == []


def test_create_from_the_order_page_is_prefilled_and_returns_to_the_order_at_the_new_row(
    merchant_client: Client, downloads_api: DownloadsApi, sandbox: Sandbox, order_number: int
) -> None:
    order = sandbox.customer(1013)
    order_page = f"/orders/{order['id']}/"
    query = {
        "order_id": order_number,
        "product_id": 4242,
        "download_file_name": "Budget Planner (Bonus edition).pdf",
        "next": order_page,
    }
    page = merchant_client.get(f"{reverse('downloads:create')}?{urlencode(query)}").content.decode()
    form = _form_values(page)
    assert (form["order_id"], form["product_id"]) == (str(order_number), "4242")
    assert form["download_file_name"] == "Budget Planner (Bonus edition).pdf"
    assert form["next"] == order_page

    response = merchant_client.post(reverse("downloads:create"), {**form, "download_count": "0"})

    (created,) = downloads_api.for_order(order_number)
    assert response.status_code == 302
    assert response["Location"] == f"{order_page}#record-{created['download_id']}"


def test_a_hostile_next_is_never_followed(merchant_client: Client, order_number: int) -> None:
    query = {"order_id": order_number, "next": "https://evil.example/orders/"}
    page = merchant_client.get(f"{reverse('downloads:create')}?{urlencode(query)}").content.decode()
    assert "evil.example" not in page
    form = _form_values(page)
    payload = {**form, "product_id": "4242", "download_file_name": "a.pdf", "next": "//evil.example/x"}
    response = merchant_client.post(reverse("downloads:create"), payload)
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    assert response["Location"].startswith(f"/downloads/?q=order%3A{order_number}&")
    assert "#record-" in response["Location"]


def test_edit_and_delete_from_the_order_page_return_to_it(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any, sandbox: Sandbox
) -> None:
    order_page = f"/orders/{sandbox.customer(1013)['id']}/"
    record = make_record(download_file_name="v1.pdf")
    download_id = record["download_id"]

    edit_url = f"{reverse('downloads:edit', args=[download_id])}?{urlencode({'next': order_page})}"
    form = _form_values(merchant_client.get(edit_url).content.decode())
    assert form["next"] == order_page
    edit = reverse("downloads:edit", args=[download_id])
    saved = merchant_client.post(edit, {**form, "download_count": "3"})
    assert saved["Location"] == f"{order_page}#record-{download_id}"
    assert downloads_api.get(download_id)["download_count"] == 3

    delete_url = f"{reverse('downloads:delete', args=[download_id])}?{urlencode({'next': order_page})}"
    page = merchant_client.get(delete_url).content.decode()
    assert f'href="{order_page}">Keep it</a>' in page
    deleted = merchant_client.post(reverse("downloads:delete", args=[download_id]), _form_values(page))
    assert deleted["Location"] == order_page  # the row is gone: back to the order itself
    assert downloads_api.get(download_id) is None


def test_the_order_pages_rows_send_edit_and_delete_back_to_the_order(
    merchant_client: Client, sandbox: Sandbox
) -> None:
    order = sandbox.customer(1050)
    order_page = f"/orders/{order['id']}/"
    html = merchant_client.get(order_page).content.decode()
    edits = re.findall(r'href="(/downloads/[0-9A-Za-z]+/edit/\?next=[^"]*)"', html)
    deletes = re.findall(r'href="(/downloads/[0-9A-Za-z]+/delete/\?next=[^"]*)"', html)
    assert edits and deletes
    assert all(link.endswith(f"?next={order_page.replace('/', '%2F')}") for link in edits + deletes)
    assert f'?order_id=1050&amp;next={order_page.replace("/", "%2F")}">Add a record for this order' in html
