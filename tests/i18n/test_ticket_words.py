"""Issue 30, item 4: the search box reads a ticket's words in English, French and Italian whatever
language the page is in. A French support person pastes an Italian ticket, an Italian one an English
ticket: the order opens, and the complaint ("limite atteinte", "limite raggiunto") steers it the same."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from fileflare_admin.order_numbers import find_order_number, read_order_number
from staff.models import StaffPreferences

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"  # the sandbox's order 1050
PAGE_LANGUAGES = ["en", "fr", "it"]
ORDER_NUMBERS = [
    "commande n° 1050",
    "Commande N° 1050",
    "commande nº 1050",
    "commande no 1050",
    "numéro de commande 1050",
    "ordine n. 1050",
    "Ordine N. 1050",
    "numero d'ordine 1050",
    "order #1050",
    "Order No. 1050",
    "commande n° 1 050",  # French groups thousands with a space
    "ordine n. 1.050",  # Italian with a dot
    "commande n\u00b0\u00a01\u202f050",  # as a French keyboard or a mail client writes the spaces
]
TICKETS = [
    ("Bonjour, commande n° 1050 : limite atteinte", "limit"),
    ("Buongiorno, ordine n. 1050, limite raggiunto", "limit"),
    ("Hi, order #1050: download limit reached", "limit"),
    ("LIMITE ATTEINTE pour la commande n° 1050", "limit"),
    ("ho raggiunto il limite, ordine n. 1050", "limit"),
    ("Commande n° 1050 : je n'ai jamais reçu l'e-mail", "no_email"),
    ("ordine n. 1050: il link è scaduto", "expired"),
]


def _in(client: Client, language: str, *, chosen: User | None = None) -> dict[str, str]:
    """Headers for a page in `language`: the browser's Accept-Language, or the person's own pick."""
    if chosen is not None:
        StaffPreferences.objects.update_or_create(user=chosen, defaults={"language": language})
        return {"HTTP_ACCEPT_LANGUAGE": "de"}
    return {"HTTP_ACCEPT_LANGUAGE": language}


@pytest.mark.parametrize("language", PAGE_LANGUAGES)
@pytest.mark.parametrize("ticket", ORDER_NUMBERS)
def test_an_order_number_in_any_language_opens_the_order_whatever_the_pages_language(
    support_client: Client, language: str, ticket: str
) -> None:
    response = support_client.get("/orders/", {"q": ticket}, **_in(support_client, language))
    assert response.status_code == 302, ticket
    assert response["Location"] == f"/orders/{EXAMPLE_ID}/"


@pytest.mark.parametrize("language", PAGE_LANGUAGES)
@pytest.mark.parametrize(("ticket", "complaint"), TICKETS)
def test_a_tickets_complaint_in_any_language_steers_the_order_whatever_the_pages_language(
    support_client: Client, support_user: User, language: str, ticket: str, complaint: str
) -> None:
    headers = _in(support_client, language, chosen=support_user)
    response = support_client.get("/orders/", {"q": ticket}, **headers)
    assert response.status_code == 302, ticket
    assert response["Location"] == f"/orders/{EXAMPLE_ID}/?complaint={complaint}"
    page = support_client.get(response["Location"], **headers).content.decode()
    assert f'<html lang="{language}"' in page and 'id="complaint-chip"' in page


@pytest.mark.parametrize("language", PAGE_LANGUAGES)
@pytest.mark.parametrize("ticket", ["limite atteinte", "limite raggiunto", "limit reached"])
def test_a_complaint_without_an_order_is_still_read_in_any_pages_language(
    support_client: Client, language: str, ticket: str
) -> None:
    response = support_client.get("/orders/", {"q": f"Bonjour, {ticket} !"}, **_in(support_client, language))
    page = response.content.decode()
    assert response.status_code == 200 and f'<html lang="{language}"' in page
    # The page answers with the complaint it read ("Ticket says: …" in the page's language) and no order.
    assert 'class="complaint-chip"' in page
    if language == "en":
        assert "Ticket says: limit reached" in page and "names no order" in page


@pytest.mark.parametrize(
    ("ticket", "number"),
    [
        ("ordine n. 1.050", 1050),
        ("commande n° 1 050", 1050),
        ("Order No. 1,050", 1050),
        ("order 1050 2 files", 1050),
        ("commande n° 12 345 678", 12345678),
    ],
)
def test_thousands_grouped_as_each_language_writes_them_read_as_one_number(ticket: str, number: int) -> None:
    read = read_order_number(ticket) or find_order_number(ticket)
    assert read is not None and read.value == number


@pytest.mark.parametrize("bare", ["1 050", "1.050", "105 106"])
def test_digits_grouped_with_a_space_or_a_dot_but_no_label_are_not_an_order_number(bare: str) -> None:
    assert read_order_number(bare) is None  # two numbers, a version, a price: a label says it is an order's
