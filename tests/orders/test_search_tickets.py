"""The search box takes what tickets contain, end to end against the sandbox; and the orders page tells
what helps triage (e-mail sent or never, files counted honestly, a filter for never-sent e-mails)."""

import pytest
import requests
from django.test import Client

from orders.models import KnownCustomerToken
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
EXAMPLE_TOKEN = "0c732eb6fd9802a0821a9d29888baee8"


@pytest.mark.parametrize(
    "ticket",
    ["Order #1050", "order 1050", "#1,050", "1,050", "1050.", '"1050"', "Hi, my order #1050 won't open"],
)
def test_an_order_number_as_tickets_write_it_opens_the_order(support_client: Client, ticket: str) -> None:
    response = support_client.get("/orders/", {"q": ticket})
    assert response.status_code == 302 and response["Location"] == f"/orders/{EXAMPLE_ID}/"


@pytest.mark.parametrize("ticket", ["0", "#0", "-3"])
def test_zero_and_negatives_say_no_order_has_that_number_without_asking(
    support_client: Client, sandbox: Sandbox, ticket: str
) -> None:
    before = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()
    page = support_client.get("/orders/", {"q": ticket}).content.decode()
    number = ticket.lstrip("#")
    assert f"No order has the number {number}: order numbers start at 1." in page
    assert "refused" not in page
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json() == before


def test_an_upper_case_download_id_finds_its_order(support_client: Client, sandbox: Sandbox) -> None:
    rows = requests.get(
        f"{sandbox.downloads_url}/downloads",
        params={"search": "1050"},
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    ).json()
    record = next(row for row in rows if row["order_id"] == 1050)
    response = support_client.get("/orders/", {"q": f" {record['download_id'].upper()} "})
    assert response["Location"] == f"/orders/{EXAMPLE_ID}/"


def test_a_status_link_with_any_suffix_opens_the_customers_view_and_is_kept(support_client: Client) -> None:
    pasted = f"https://my-store.com/account/orders/{EXAMPLE_TOKEN}/authenticate?key=customer-key"
    response = support_client.get("/orders/", {"q": pasted}, follow=True)
    assert response.status_code == 200
    assert "What the customer sees: order #1050" in response.content.decode()
    assert KnownCustomerToken.link_for(1050) == (
        EXAMPLE_TOKEN,
        f"https://my-store.com/account/orders/{EXAMPLE_TOKEN}",
    )


def test_an_order_id_without_dashes_opens_the_order_and_a_token_still_opens_the_customer(
    support_client: Client,
) -> None:
    dashless = EXAMPLE_ID.replace("-", "").upper()  # carries a UUID's version digits: both are asked
    assert support_client.get("/orders/", {"q": dashless})["Location"] == f"/orders/{EXAMPLE_ID}/"
    labelled = support_client.get("/orders/", {"q": f"order id: {dashless}"})
    assert labelled["Location"] == f"/orders/{EXAMPLE_ID}/"
    token = support_client.get("/orders/", {"q": EXAMPLE_TOKEN.upper()})["Location"]
    assert token == f"/orders/customer/{EXAMPLE_TOKEN}/"


def test_a_uuid_shaped_token_is_taken_as_a_token_when_no_order_has_that_id(support_client: Client) -> None:
    unknown = "5f0c1b2a9e8d4c7b" + "a" + "123456789abcdef"  # UUID digits (4, a), but no order has it
    assert support_client.get("/orders/", {"q": unknown})["Location"] == f"/orders/customer/{unknown}/"
    seen = "00112233445566778899aabbccddeeff".replace("6677", "4677").replace("8899", "a899")
    KnownCustomerToken.remember(order_number=1050, token=seen)  # pasted before: known, nothing asked
    assert support_client.get("/orders/", {"q": seen})["Location"] == f"/orders/customer/{seen}/"


def test_text_that_is_no_id_keeps_its_sentence(support_client: Client) -> None:
    page = support_client.get("/orders/", {"q": "refund please"}).content.decode()
    assert "Search takes an order number" in page and 'value="refund please"' in page


def test_the_orders_page_counts_files_honestly(support_client: Client) -> None:
    page = support_client.get("/orders/").content.decode()
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert rows and all("via products" in row for row in rows)
    assert all(">0<" not in row.split('data-label="Files"', 1)[1] for row in rows)


def test_the_orders_page_filters_orders_whose_email_was_never_sent(
    support_client: Client, sandbox: Sandbox
) -> None:
    made = sandbox.create_order({"email_sent": False, "lines": [{"product": {"name": "X"}, "assets": []}]})
    page = support_client.get("/orders/", {"email": "never"}).content.decode()
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert rows and all("never sent" in row for row in rows)
    assert f"#{made['order_number']}<" in page
    assert "never had the download e-mail sent" in page and "Show all orders" in page
    everything = support_client.get("/orders/").content.decode()
    assert "Only orders whose e-mail was never sent" in everything
