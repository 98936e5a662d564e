"""Orders pages against the in-process sandbox: search, the order page, the customer's view,
the diagnosis, resending the e-mail, and every bad input answered with a sentence."""

import itertools

import pytest
import requests
from django.test import Client

from audit.models import AuditEntry
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
EXAMPLE_TOKEN = "0c732eb6fd9802a0821a9d29888baee8"
# Orders only the resend tests of this module touch (the resend changes email_sent_at).
_resend_orders = itertools.count(3101)


@pytest.mark.parametrize("query", ["1050", "#1050", " #1050 ", EXAMPLE_ID, EXAMPLE_ID.upper()])
def test_an_order_number_or_id_goes_straight_to_the_order(support_client: Client, query: str) -> None:
    response = support_client.get("/orders/", {"q": query})
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{EXAMPLE_ID}/"


@pytest.mark.parametrize(
    "query",
    [
        f"https://my-store.com/account/orders/{EXAMPLE_TOKEN}",
        f"https://my-store.com/account/orders/{EXAMPLE_TOKEN}?key=abc#top",
        f"my-store.com/account/orders/{EXAMPLE_TOKEN}/",
        EXAMPLE_TOKEN,
    ],
)
def test_an_order_status_link_or_token_goes_to_the_customers_view(support_client: Client, query: str) -> None:
    response = support_client.get("/orders/", {"q": query})
    assert response["Location"].split("?")[0] == f"/orders/customer/{EXAMPLE_TOKEN}/"


def test_a_download_record_id_goes_to_its_order(support_client: Client, sandbox: Sandbox) -> None:
    import requests

    rows = requests.get(
        f"{sandbox.downloads_url}/downloads",
        params={"search": "1050"},
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    ).json()
    record = next(row for row in rows if row["order_id"] == 1050)
    response = support_client.get("/orders/", {"q": record["download_id"]})
    assert response["Location"] == f"/orders/{EXAMPLE_ID}/"


def test_no_match_says_so_and_keeps_the_query_in_the_box(support_client: Client) -> None:
    page = support_client.get("/orders/", {"q": "99999999"}).content.decode()
    assert "No order has the number 99999999." in page
    assert 'value="99999999"' in page


def test_text_that_is_no_kind_of_id_explains_what_search_takes(support_client: Client) -> None:
    response = support_client.get("/orders/", {"q": "can't download!!"})
    assert response.status_code == 200
    assert "Search takes an order number" in response.content.decode()


@pytest.mark.parametrize("odd", [{"page": "abc"}, {"per_page": "7"}, {"page": "0"}, {"per_page": "-1"}])
def test_an_odd_page_parameter_never_drops_the_query(support_client: Client, odd: dict[str, str]) -> None:
    response = support_client.get("/orders/", {"q": "1050", **odd})
    assert response["Location"] == f"/orders/{EXAMPLE_ID}/"


def test_an_overlong_query_is_answered_not_dropped(support_client: Client) -> None:
    response = support_client.get("/orders/", {"q": "x" * 2500})
    assert response.status_code == 200 and "Search takes an order number" in response.content.decode()


def test_typing_in_the_box_updates_results_without_leaving_the_page(support_client: Client) -> None:
    response = support_client.get("/orders/", {"q": "1050"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.startswith('<div id="order-results">') and "<html" not in page
    assert f'href="/orders/{EXAMPLE_ID}/"' in page


def test_orders_list_shows_newest_first_with_pages_and_a_choice_of_size(
    support_client: Client, sandbox: Sandbox
) -> None:
    # The newest orders as the sandbox lists them now (other tests add orders to the seed's 15,608).
    answer = requests.get(
        f"{sandbox.fileflare_url}/v1/orders",
        params={"limit": 100, "page": 1},
        headers={"Authorization": f"Bearer {sandbox.key}", "Accept": "application/json"},
        timeout=10,
    )
    numbers = [row["order_number"] for row in answer.json()["data"]]
    page = support_client.get("/orders/").content.decode()
    assert f"#{numbers[0]}" in page and "Older →" in page and "Newer" not in page
    assert page.count("<tr>") - 1 == 25
    bigger = support_client.get("/orders/", {"per_page": 50, "page": 2}).content.decode()
    assert bigger.count("<tr>") - 1 == 50 and f"#{numbers[50]}" in bigger and "Newer" in bigger
    assert "per_page=50" in bigger and "page=3" in bigger


def test_order_page_shows_the_order_its_files_records_diagnosis_and_actions(support_client: Client) -> None:
    page = support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    for text in [
        "Order #1050",
        "8 Jan 2023, 21:50:46 UTC",
        "My new book - part 2",
        "20MB",
        "https://www.my-website.com/download/my-book-part-2.pdf",
        "Copy link",
        "Why can",
        "Download counts, and the files that come through the order",
        "Resend download e-mail",
        "Copy support reply",
        "Download records",
        "My new book",
    ]:
        assert text in page, text


def test_order_page_shows_download_counts_once_the_customers_link_was_pasted(support_client: Client) -> None:
    support_client.get(f"/orders/customer/{EXAMPLE_TOKEN}/")
    page = support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    assert "downloaded 5 of 10" in page and "downloaded 0 of 10" in page
    assert "“My new Book — Hard back” has no files attached." in page
    reply = page.split('id="support-reply"', 1)[1].split("</textarea>", 1)[0]
    assert "My new book: https://www.my-website.com/download/my-book.pdf (5 downloads left)" in reply
    part_2 = "My new book - part 2: https://www.my-website.com/download/my-book-part-2.pdf"
    assert f"{part_2} (10 downloads left)" in reply


def test_customer_view_shows_each_line_its_files_and_limits(support_client: Client) -> None:
    page = support_client.get(f"/orders/customer/{EXAMPLE_TOKEN}/").content.decode()
    for text in [
        "order #1050",
        "Download files for your orders",
        "My new Book",
        "Paper back",
        "Hard back",
        "SKU my-sku",
        "my-store",
        "paper-books",
        "No files for this product.",
        "On the order itself",
        "downloaded 5 of 10",
        f'href="/orders/{EXAMPLE_ID}/"',
    ]:
        assert text in page, text


def test_at_limit_and_over_limit_rows_are_marked(support_client: Client, sandbox: Sandbox) -> None:
    made = sandbox.create_order(
        {
            "lines": [
                {
                    "product": {"name": "Course"},
                    "assets": [
                        {"filename": "at.pdf", "limit": 3, "downloaded": 3},
                        {"filename": "over.pdf", "limit": 3, "downloaded": 5},
                        {"filename": "free.pdf", "limit": None, "downloaded": 40},
                    ],
                }
            ]
        }
    )
    page = support_client.get(f"/orders/customer/{made['customer_token']}/").content.decode()
    assert 'class="row-warn"' in page and 'class="row-bad"' in page
    assert "downloaded 40 of unlimited" in page
    detail = support_client.get(f"/orders/{made['id']}/").content.decode()
    assert "“over.pdf” has used 5 of 3 downloads" in detail and "“at.pdf” has used 3 of 3 downloads" in detail


def test_diagnosis_names_a_never_sent_email_and_a_link_that_is_not_a_web_address(
    support_client: Client, sandbox: Sandbox
) -> None:
    made = sandbox.create_order(
        {
            "email_sent": False,
            "assets": [{"filename": "bad-link", "is_link": True, "url": "ftp://files.example/x.zip"}],
        }
    )
    page = support_client.get(f"/orders/{made['id']}/").content.decode()
    assert "The download e-mail was never sent to this customer." in page
    assert "“bad-link” is a link whose address is not a web address" in page


def test_diagnosis_says_when_no_files_are_attached_at_all(support_client: Client, sandbox: Sandbox) -> None:
    made = sandbox.create_order({"lines": [{"product": {"name": "Empty"}, "assets": []}]})
    support_client.get(f"/orders/customer/{made['customer_token']}/")
    page = support_client.get(f"/orders/{made['id']}/").content.decode()
    assert "No files are attached to this order or its products" in page


def test_resend_asks_first_then_sends_and_shows_the_new_time(
    support_client: Client, sandbox: Sandbox
) -> None:
    order = sandbox.customer(next(_resend_orders))
    confirm = support_client.get(f"/orders/{order['id']}/resend/").content.decode()
    assert f"Resend the download e-mail for order #{order['order_number']}?" in confirm
    sent_before = len(sandbox.outbox())
    response = support_client.post(f"/orders/{order['id']}/resend/", {"reason": "ticket 4521"}, follow=True)
    page = response.content.decode()
    assert f"Download e-mail sent to the customer of order #{order['order_number']} at" in page
    assert len(sandbox.outbox()) == sent_before + 1
    assert sandbox.outbox()[0]["order_number"] == order["order_number"]
    entry = AuditEntry.objects.get(action="email_resend", order_number=order["order_number"])
    assert entry.succeeded and entry.reason == "ticket 4521" and entry.after["email_sent_at"]
    assert entry.actor_name == "sam-support"


def test_resend_over_the_email_limit_says_when_and_keeps_the_reason(
    support_client: Client, sandbox: Sandbox, settings
) -> None:
    settings.UPSTREAM_RETRIES = 0
    sandbox.config(email_rate_limit=1)
    first, second = sandbox.customer(next(_resend_orders)), sandbox.customer(next(_resend_orders))
    support_client.post(f"/orders/{first['id']}/resend/", {"reason": "one"})
    response = support_client.post(f"/orders/{second['id']}/resend/", {"reason": "keep me"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Fileflare is not taking more e-mails from this shop right now" in page and "Try again at" in page
    assert 'value="keep me"' in page
    failed = AuditEntry.objects.get(order_number=second["order_number"])
    assert not failed.succeeded and "try again" in failed.error.lower()


def test_a_section_that_fails_says_so_and_the_rest_of_the_page_renders(
    support_client: Client, sandbox: Sandbox, settings
) -> None:
    settings.DOWNLOADS_API_TOKEN = "wrong-token"
    page = support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    assert "the downloads api refused the dashboard" in page.lower() and "Check DOWNLOADS_API_TOKEN" in page
    assert "Order #1050" in page and "My new book - part 2" in page


def test_upstream_down_is_a_sentence_not_a_500(support_client: Client, sandbox: Sandbox, settings) -> None:
    settings.UPSTREAM_RETRIES = 0
    sandbox.config(error_rate=1.0)
    response = support_client.get("/orders/00000000-0000-4000-8000-000000000001/")
    assert response.status_code == 200
    assert "had a problem on its side" in response.content.decode()
    search = support_client.get("/orders/", {"q": "1051"})
    assert search.status_code == 200 and "had a problem on its side" in search.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/orders/not-a-uuid/",
        "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5/",
        "/orders/customer/not-hex/",
        "/orders/customer/0c732eb6fd9802a0821a9d29888baee/",
        "/orders/00000000-0000-4000-8000-000000000000/",
        "/orders/customer/ffffffffffffffffffffffffffffffff/",
    ],
)
def test_a_bad_or_unknown_id_in_a_url_is_a_404_page(support_client: Client, url: str) -> None:
    response = support_client.get(url)
    assert response.status_code == 404
    assert b"Traceback" not in response.content and b"Not found" in response.content


def _upstream_counts(sandbox: Sandbox) -> dict[str, int]:
    import requests

    return requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()


def test_search_then_order_page_costs_one_fileflare_call_and_nothing_when_warm(
    support_client: Client, sandbox: Sandbox
) -> None:
    before = _upstream_counts(sandbox)
    response = support_client.get("/orders/", {"q": "2345"}, follow=True)
    assert response.status_code == 200 and "Order #2345" in response.content.decode()
    after = _upstream_counts(sandbox)
    assert after["fileflare"] - before["fileflare"] == 1  # the search's list already held the whole order
    assert after["downloads"] - before["downloads"] == 1  # the order's records
    support_client.get(response.redirect_chain[-1][0])
    assert _upstream_counts(sandbox) == after  # warm: served from the read cache


def test_after_the_orders_page_any_recent_order_is_found_without_a_call(
    support_client: Client, sandbox: Sandbox
) -> None:
    import requests

    # The newest 1,000 orders as Fileflare lists them (newest first): the first, the middle and the last.
    # Read from the list itself, not counted back from the newest number: an earlier test of this process
    # may have sold orders dated in the past (the sandbox's trickle), whose numbers are not in date order.
    listed = requests.get(
        f"{sandbox.fileflare_url}/v1/orders",
        params={"limit": 1000},
        timeout=10,
        headers={"Authorization": f"Bearer {sandbox.key}"},
    ).json()["data"]
    before = _upstream_counts(sandbox)
    support_client.get("/orders/")  # the landing page: one call that also brings the newest 1,000 orders
    after_landing = _upstream_counts(sandbox)
    assert after_landing["fileflare"] - before["fileflare"] == 1
    for number in (listed[0]["order_number"], listed[500]["order_number"], listed[999]["order_number"]):
        response = support_client.get("/orders/", {"q": number}, follow=True)
        assert f"Order #{number}" in response.content.decode()
    counts = _upstream_counts(sandbox)
    assert counts["fileflare"] == after_landing["fileflare"]  # search and order pages came from that one call
