"""The order page is where a ticket is solved: the customer's link pasted in place, each finding with its
fix, the fix verified against what the customer sees, records of this order only, and ways back to it.
Against the in-process sandbox."""

import re

import pytest
import requests
from django.test import Client

from audit.models import AuditEntry
from orders.models import KnownCustomerToken
from tests.conftest import Sandbox
from tests.orders.conftest import MadeOrder, SandboxHttp

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"


def section(page: str, section_id: str) -> str:
    return page.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]


def paste_link(client: Client, order: MadeOrder, text: str | None = None) -> None:
    response = client.post(f"/orders/{order.id}/customer-link/", {"link": text or order.status_url})
    assert response.status_code == 302, response.content.decode()[:2000]


def test_the_status_link_is_pasted_on_the_order_page_and_shown_back_without_its_key(
    support_client: Client, sandbox: Sandbox
) -> None:
    customer = sandbox.customer(1013)
    before = support_client.get(f"/orders/{customer['id']}/").content.decode()
    assert section(before, "diagnosis").count(">Check<") == 1  # one merged line until the link is known
    assert 'id="customer-link"' in section(before, "customer-view")

    pasted = f"{customer['order_status_url']}/authenticate?key=a-customer-key"
    response = support_client.post(f"/orders/{customer['id']}/customer-link/", {"link": pasted}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0].endswith("#customer-view")
    assert "Saved the customer&#x27;s link of order #1013" in page
    seen = section(page, "customer-view")
    assert "downloaded 10 of 10" in seen and 'id="customer-link"' not in seen
    assert f'data-copy="{customer["order_status_url"]}"' in seen  # the known link, with a copy button
    assert "a-customer-key" not in page and "authenticate" not in page
    assert KnownCustomerToken.link_for(1013) == (customer["customer_token"], customer["order_status_url"])
    assert ">Check<" not in section(page, "diagnosis")


@pytest.mark.parametrize(
    ("pasted", "says"),
    [
        ("can't download", "That is not a customer&#x27;s order-status link"),
        ("https://my-store.com/account/orders/" + "f" * 32, "Fileflare knows no order with that"),
        ("https://my-store.com/account/orders/0c732eb6fd9802a0821a9d29888baee8", "order #1050, not of #1013"),
    ],
)
def test_a_link_that_is_not_this_orders_is_refused_and_kept_in_the_box(
    support_client: Client, sandbox: Sandbox, pasted: str, says: str
) -> None:
    customer = sandbox.customer(1013)
    response = support_client.post(f"/orders/{customer['id']}/customer-link/", {"link": pasted})
    assert response.status_code == 200
    seen = section(response.content.decode(), "customer-view")
    assert says in seen and 'role="alert"' in seen
    assert f'value="{pasted.replace(chr(39), "&#x27;")}"' in seen
    assert KnownCustomerToken.token_for(1013) is None


def test_the_records_of_this_order_are_its_own_only(support_client: Client, sandbox: Sandbox) -> None:
    found = requests.get(
        f"{sandbox.downloads_url}/downloads",
        params={"search": "1050", "perpage": 100},
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=30,
    ).json()
    own = {row["download_id"] for row in found if row["order_id"] == 1050}
    assert own and len(found) > len(own)  # the API's search also matches ids that merely contain "1050"
    page = support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    records = section(page, "order-records")
    assert set(re.findall(r'id="record-([0-9a-z]+)"', records)) == own
    assert 'href="/downloads/?q=order:1050"' in records


def test_add_a_record_is_prefilled_and_comes_back_to_the_order(merchant_client: Client) -> None:
    page = merchant_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    link = re.search(r'href="(/downloads/new/\?[^"]+)">Add a record for this order', page)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert f"next=%2Forders%2F{EXAMPLE_ID}%2F" in url
    form = merchant_client.get(url).content.decode()
    assert re.search(r'name="order_id"[^>]*value="1050"', form)


def test_support_gives_downloads_back_and_hears_what_the_customer_now_sees(
    support_client: Client, make_order: object, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (10, 10), "bonus.pdf": (2, 10)})  # type: ignore[operator]
    paste_link(support_client, order)
    page = support_client.get(f"/orders/{order.id}/").content.decode()
    diagnosis = section(page, "diagnosis")
    assert "“planner.pdf” has used 10 of 10 downloads" in diagnosis
    assert ">Give 5 more downloads</button>" in diagnosis and "should then see 5 of 10" in diagnosis
    record = order.records["planner.pdf"]
    assert f'name="record" value="{record}:10"' in diagnosis

    response = support_client.post(
        f"/orders/{order.id}/fix-count/",
        {"file": "planner.pdf", "record": f"{record}:10", "reason": "ticket 88: cannot download"},
        follow=True,
    )
    page = response.content.decode()
    assert upstream.record(record)["download_count"] == 5
    assert upstream.record(order.records["bonus.pdf"])["download_count"] == 2
    entry = AuditEntry.objects.get(download_id=record)
    assert entry.succeeded and entry.reason == "ticket 88: cannot download"
    assert entry.order_number == order.order_number and entry.actor_name == "sam-support"
    assert (entry.before["download_count"], entry.after["download_count"]) == (10, 5)
    flash = page.split('class="flashes"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/audit/?order_number={order.order_number}#entry-{entry.pk}"' in flash
    assert f'href="/audit/{entry.pk}/undo/"' in flash
    now = upstream.customer_limits(order.token, "planner.pdf")  # what the customer's page says, read directly
    if now["downloaded"] == 5:
        assert "The customer now sees 5 of 10: they can download." in flash
        assert "I&#x27;ve reset your downloads for “planner.pdf”" in section(page, "support-reply-box")
    else:  # an upstream that does not count these records (as a real Fileflare would not)
        assert "the customer&#x27;s page still says 10 of 10" in flash.lower()
        assert "Open the order in Fileflare" in flash


def test_a_merchant_resets_to_0(merchant_client: Client, make_order: object, upstream: SandboxHttp) -> None:
    order: MadeOrder = make_order({"planner.pdf": (12, 10)})  # type: ignore[operator]
    paste_link(merchant_client, order)
    page = merchant_client.get(f"/orders/{order.id}/").content.decode()
    assert ">Reset to 0</button>" in section(page, "diagnosis")
    record = order.records["planner.pdf"]
    merchant_client.post(f"/orders/{order.id}/fix-count/", {"file": "planner.pdf", "record": f"{record}:12"})
    assert upstream.record(record)["download_count"] == 0


def test_a_fix_undone_from_the_audit_log_puts_the_count_back(
    support_client: Client, make_order: object, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (10, 10)})  # type: ignore[operator]
    record = order.records["planner.pdf"]
    support_client.post(f"/orders/{order.id}/fix-count/", {"file": "planner.pdf", "record": f"{record}:10"})
    entry = AuditEntry.objects.get(download_id=record)
    support_client.post(f"/audit/{entry.pk}/undo/", {"reason": "wrong customer"})
    assert upstream.record(record)["download_count"] == 10


def test_a_fix_leaves_records_of_other_orders_and_files_alone(
    support_client: Client, make_order: object, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (10, 10), "bonus.pdf": (3, 10)})  # type: ignore[operator]
    other: MadeOrder = make_order({"planner.pdf": (10, 10)})  # type: ignore[operator]
    foreign, bonus = other.records["planner.pdf"], order.records["bonus.pdf"]
    response = support_client.post(
        f"/orders/{order.id}/fix-count/", {"file": "planner.pdf", "record": [f"{foreign}:10", f"{bonus}:3"]}
    )
    assert response.status_code == 200
    assert "there is nothing to lower" in section(response.content.decode(), "diagnosis")
    assert upstream.record(foreign)["download_count"] == 10 and upstream.record(bonus)["download_count"] == 3
    assert not AuditEntry.objects.filter(download_id__in=[foreign, bonus]).exists()


def test_a_count_changed_meanwhile_is_not_overwritten(
    support_client: Client, make_order: object, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (10, 10)})  # type: ignore[operator]
    record = order.records["planner.pdf"]
    upstream.set_count(record, 7)  # a colleague, meanwhile
    response = support_client.post(
        f"/orders/{order.id}/fix-count/", {"file": "planner.pdf", "record": f"{record}:10"}, follow=True
    )
    assert "from 10 to 7 meanwhile" in response.content.decode()
    assert upstream.record(record)["download_count"] == 7


def test_supports_fix_stays_within_its_step_even_when_the_form_is_edited(
    support_client: Client, make_order: object, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (20, 20)})  # type: ignore[operator]
    record = order.records["planner.pdf"]
    support_client.post(f"/orders/{order.id}/fix-count/", {"file": "planner.pdf", "record": f"{record}:20"})
    assert upstream.record(record)["download_count"] == 15  # 5, Support's step; never 0


def test_the_blocked_reply_never_quotes_the_used_up_count(
    support_client: Client, make_order: object
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (10, 10)})  # type: ignore[operator]
    paste_link(support_client, order)
    reply = section(support_client.get(f"/orders/{order.id}/").content.decode(), "support-reply-box")
    assert "10 of 10" not in reply and "downloads used" not in reply
    assert "we are fixing it" in reply and '(suggested)</option>' in reply and "fits now" not in reply


def test_another_reply_can_be_picked_and_carries_the_status_link(
    support_client: Client, make_order: object
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (2, 10)})  # type: ignore[operator]
    paste_link(support_client, order)
    response = support_client.get(
        f"/orders/{order.id}/", {"reply": "email_resent"}, headers={"HX-Request": "true"}
    )
    box = response.content.decode()
    assert box.startswith('<section class="card support-reply" id="support-reply-box"') and "<html" not in box
    assert "I&#x27;ve sent the download e-mail for your order" in box
    assert f"from your order page: {order.status_url}" in box
    assert "- planner.pdf (8 downloads left)" in box
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]


def test_the_order_in_fileflares_app_is_linked_and_its_address_can_be_set(
    support_client: Client, settings: object
) -> None:
    page = support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    assert f'href="{settings.FILEFLARE_API_URL.removesuffix("/api")}/orders/{EXAMPLE_ID}"' in page  # type: ignore[attr-defined]
    settings.FILEFLARE_APP_ORDER_URL = "https://admin.example/apps/fileflare/orders/{order_number}?id={order_id}"  # type: ignore[attr-defined]
    page = support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    assert f'href="https://admin.example/apps/fileflare/orders/1050?id={EXAMPLE_ID}"' in page


def test_open_in_fileflare_leads_to_the_sandboxs_page_of_that_order(
    support_client: Client, make_order: object
) -> None:
    """In the demo the link is no dead end: the sandbox stands in for the order's page in Fileflare's app."""
    order: MadeOrder = make_order({"planner.pdf": (2, 10), "bonus.zip": (0, None)})  # type: ignore[operator]
    page = support_client.get(f"/orders/{order.id}/").content.decode()
    link = re.search(r'<a class="btn" href="([^"]+)"[^>]*>Open in Fileflare</a>', page)
    assert link is not None, page
    shown = requests.get(link.group(1).replace("&amp;", "&"), timeout=10)
    assert shown.status_code == 200 and shown.headers["Content-Type"].startswith("text/html")
    text = re.sub(r"<[^>]+>", " ", shown.text)
    text = re.sub(r"\s+", " ", text)
    assert f"Order #{order.order_number}" in text and order.id in text
    assert re.search(r"Download e-mail (Not sent|Sent \d{4}-\d\d-\d\d \d\d:\d\d UTC) ", text), text
    assert "planner.pdf Budget Planner 2 of 10" in text and "bonus.zip Budget Planner 0 of no limit" in text


def test_records_name_their_product_where_the_customers_view_names_it(
    support_client: Client, make_order: object, upstream: SandboxHttp
) -> None:
    """The order page's records say "Budget Planner" beside the store's product number, and so does the
    records list afterwards (no extra call per row: the name comes from the customer's view)."""
    order: MadeOrder = make_order({"planner.pdf": (2, 10)})  # type: ignore[operator]
    product_id = upstream.record(order.records["planner.pdf"])["product_id"]
    named = f'Budget Planner <span class="muted small">{product_id}</span>'
    before = section(support_client.get(f"/orders/{order.id}/").content.decode(), "order-records")
    assert named not in before and f'data-label="Product">{product_id}</td>' in before  # no view yet
    paste_link(support_client, order)
    records = section(support_client.get(f"/orders/{order.id}/").content.decode(), "order-records")
    assert named in records
    assert "Open these records in the records list" in records and "Records in the list" not in records
    listed = support_client.get(f"/downloads/?q=order:{order.order_number}").content.decode()
    assert named in listed
