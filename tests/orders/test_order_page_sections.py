"""The order page loads in sections: when one upstream answer is missing the rest still shows, an old
answer says how old it is, and resending never happens unasked, with or without JavaScript."""

import itertools
import re

import pytest
from django.test import Client

from orders.models import KnownCustomerToken
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
EXAMPLE_TOKEN = "0c732eb6fd9802a0821a9d29888baee8"
# Orders only this module resends to (tests/orders/test_views.py uses 3101…).
_resend_orders = itertools.count(3201)
DOWN_SENTENCE = "had a problem on its side"


def test_with_the_order_already_loaded_a_failing_upstream_only_empties_its_own_sections(
    support_client: Client, sandbox: Sandbox, settings
) -> None:
    KnownCustomerToken.remember(order_number=1050, token=EXAMPLE_TOKEN)
    support_client.get("/orders/", {"q": "1050"})  # the search's answer holds the order itself
    settings.UPSTREAM_RETRIES = 0
    sandbox.config(error_rate=1.0)
    response = support_client.get(f"/orders/{EXAMPLE_ID}/")
    assert response.status_code == 200
    page = response.content.decode()
    records = page.split('id="order-records"', 1)[1].split("</section>", 1)[0]
    customer = page.split('id="customer-view"', 1)[1].split("</section>", 1)[0]
    assert DOWN_SENTENCE in records and DOWN_SENTENCE in customer
    for kept in ["Order #1050", "My new book - part 2", "Why can", "Resend download e-mail", "History"]:
        assert kept in page, kept


def test_a_customer_link_fileflare_no_longer_knows_is_said_in_its_section_only(
    support_client: Client,
) -> None:
    KnownCustomerToken.remember(order_number=1050, token="f" * 32)
    page = support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    customer = page.split('id="customer-view"', 1)[1].split("</section>", 1)[0]
    assert 'class="notice notice-error"' in customer
    assert "Order #1050" in page and "My new book - part 2" in page


def test_when_fileflare_stops_answering_the_order_page_shows_the_last_answer_and_its_time(
    support_client: Client, sandbox: Sandbox, settings
) -> None:
    settings.UPSTREAM_CACHE_TTL = 0.001  # every answer is kept, none counts as fresh on the next view
    assert "Order #1050" in support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    settings.UPSTREAM_RETRIES = 0
    sandbox.config(error_rate=1.0)
    response = support_client.get(f"/orders/{EXAMPLE_ID}/")
    page = response.content.decode()
    assert response.status_code == 200 and "Order #1050" in page
    assert re.search(r'class="stale-note">as of \d\d:\d\d:\d\d', page)


def test_the_order_pages_resend_form_asks_first_when_javascript_is_off(
    support_client: Client, sandbox: Sandbox
) -> None:
    order = sandbox.customer(next(_resend_orders))
    page = support_client.get(f"/orders/{order['id']}/").content.decode()
    form = re.search(r'<form method="(\w+)" action="/orders/[^"]+/resend/"[^>]*>', page)
    assert form and form.group(1) == "get"  # the plain submit opens the confirmation page
    assert "data-post-when-confirmed" in form.group(0)
    question = f"Resend the download e-mail to the customer of order #{order['order_number']}?"
    assert f'data-confirm="{question}"' in page

    sent_before = len(sandbox.outbox())
    confirm = support_client.get(f"/orders/{order['id']}/resend/", {"reason": "ticket 77"})
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert f"Resend the download e-mail for order #{order['order_number']}?" in text
    assert 'value="ticket 77"' in text  # what was typed on the order page is kept
    assert len(sandbox.outbox()) == sent_before  # nothing sent by asking


def test_resend_confirmation_for_an_order_fileflare_does_not_know_is_a_404(support_client: Client) -> None:
    response = support_client.get("/orders/00000000-0000-4000-8000-000000000000/resend/")
    assert response.status_code == 404
    assert "No order with that ID in this shop." in response.content.decode()
