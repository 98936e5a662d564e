"""Issue 26.1: the complaint steers the page. The search box reads the ticket's words beside its number,
the order page opens with a dismissible chip ("Ticket says: limit reached") and the findings that
answer the complaint first."""

import re
from typing import Any

import pytest
from django.test import Client

from orders.models import KnownCustomerToken
from tests.conftest import Sandbox
from tests.orders.conftest import SandboxHttp

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
ISSUE_TICKET = "Hi, I bought order #1050 and my download link says limit reached"


def _findings(page: str) -> list[str]:
    section = page.split('id="diagnosis"', 1)[1].split("</section>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in section.split("<li")[1:]]


def test_the_issues_ticket_opens_order_1050_with_the_limit_complaint_and_its_chip(
    support_client: Client,
) -> None:
    response = support_client.get("/orders/", {"q": ISSUE_TICKET})
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{EXAMPLE_ID}/?complaint=limit"
    page = support_client.get(response["Location"]).content.decode()
    assert "Ticket says: limit reached" in page
    chip = page.split('id="complaint-chip"', 1)[1].split("</p>", 1)[0]
    dismiss = re.search(r'href="([^"]*)"', chip)
    assert dismiss is not None and "complaint" not in dismiss.group(1)
    assert "download limit" in _findings(page)[0]  # the complaint's finding leads, with no status link


@pytest.mark.parametrize(
    ("ticket", "complaint"),
    [
        ("Bonjour, commande n° 1050 : limite atteinte", "limit"),
        ("Salve, ordine n. 1050 — link scaduto", "expired"),
        ("#1050: je n\u2019ai pas reçu l\u2019e-mail", "no_email"),
        ("ORDINE N. 1050, FILE SBAGLIATO", "wrong_file"),
        ("order 1050 missing file", "missing_file"),
    ],
)
def test_french_and_italian_tickets_carry_their_complaint_to_the_order(
    support_client: Client, ticket: str, complaint: str
) -> None:
    response = support_client.get("/orders/", {"q": ticket})
    assert response["Location"] == f"/orders/{EXAMPLE_ID}/?complaint={complaint}"


def test_a_ticket_without_a_complaint_opens_the_order_as_before(support_client: Client) -> None:
    response = support_client.get("/orders/", {"q": "Hi, my order #1050 won't open"})
    assert response["Location"] == f"/orders/{EXAMPLE_ID}/"
    assert "Ticket says" not in support_client.get(response["Location"]).content.decode()


def test_the_chip_is_dismissed_by_a_plain_link_and_an_unknown_complaint_is_ignored(
    support_client: Client,
) -> None:
    plain = support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    assert "complaint-chip" not in plain
    odd = support_client.get(f"/orders/{EXAMPLE_ID}/", {"complaint": "<script>"})
    assert odd.status_code == 200 and "complaint-chip" not in odd.content.decode()


def test_the_complaints_findings_come_first_on_the_order_page(
    support_client: Client, sandbox: Sandbox, upstream: SandboxHttp
) -> None:
    product_id = 987_650_001
    made: dict[str, Any] = sandbox.create_order(
        {
            "lines": [
                {"product": {"name": "Empty Bundle"}, "assets": []},
                {
                    "product": {"name": "Budget Planner", "product_id": product_id},
                    "assets": [{"filename": "Planner 2026.pdf", "downloaded": 10, "limit": 10}],
                },
            ]
        }
    )
    upstream.create_record(
        product_id=product_id,
        order_id=made["order_number"],
        download_count=10,
        download_file_name="Planner 2026.pdf",
        is_amazon=False,
        amazon_key="",
    )
    KnownCustomerToken.remember(order_number=made["order_number"], token=made["customer_token"])
    usual = _findings(support_client.get(f"/orders/{made['id']}/").content.decode())
    assert "“Empty Bundle” has no files attached" in usual[0]
    steered = _findings(support_client.get(f"/orders/{made['id']}/", {"complaint": "limit"}).content.decode())
    assert "“Planner 2026.pdf” has used 10 of 10 downloads" in steered[0]
    assert sorted(steered) == sorted(usual)  # the same findings, the complaint's first
    missing = _findings(
        support_client.get(f"/orders/{made['id']}/", {"complaint": "missing_file"}).content.decode()
    )
    assert "“Empty Bundle” has no files attached" in missing[0]


def test_a_complaint_without_an_order_says_what_to_ask_for(support_client: Client) -> None:
    page = support_client.get("/orders/", {"q": "my download link says limit reached"}).content.decode()
    assert "Ticket says: limit reached" in page
    assert "names no order" in page and "order number" in page and "order-status page" in page
