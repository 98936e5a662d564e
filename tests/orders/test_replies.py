"""The shop's own support replies: a Merchant edits them (audited), the order page fills them in."""

import pytest
from django.test import Client

from audit.models import AuditEntry
from orders.models import ReplyTemplate
from orders.reply_text import DEFAULT_REPLIES

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
SHOPS_OWN = "Hi there! Your files for order {order_number}:\n{files}\n\n{status_page_line}\n\nCheers, Ann"


@pytest.mark.engine
def test_a_merchant_rewrites_a_reply_in_the_shops_tone_and_the_order_page_uses_it(
    merchant_client: Client,
) -> None:
    page = merchant_client.get("/orders/replies/").content.decode()
    assert 'id="reply-ready"' in page and "{status_page_line}" in page
    response = merchant_client.post(
        "/orders/replies/",
        {"situation": "ready", "body": SHOPS_OWN, "reason": "our tone"},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith("#reply-ready")
    entry = AuditEntry.objects.get(action="reply_template_edit")
    assert entry.succeeded and entry.reason == "our tone" and entry.actor_name == "mia-merchant"
    assert entry.before["body"] == DEFAULT_REPLIES["ready"] and entry.after["body"] == SHOPS_OWN
    assert f"#entry-{entry.pk}" in response.content.decode()
    order = merchant_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    reply = order.split('id="support-reply"', 1)[1].split("</textarea>", 1)[0]
    assert "Hi there! Your files for order 1050:" in reply and "Cheers, Ann" in reply
    assert "- My new book - part 2: https://www.my-website.com/download/my-book-part-2.pdf" in reply


def test_putting_the_default_back_is_audited_too(merchant_client: Client) -> None:
    merchant_client.post("/orders/replies/", {"situation": "blocked", "body": "On it, {order_number}."})
    merchant_client.post("/orders/replies/", {"situation": "blocked", "body": "", "default": "on"})
    assert not ReplyTemplate.objects.filter(situation="blocked").exists()
    latest = AuditEntry.objects.filter(action="reply_template_edit").latest("pk")
    assert latest.after == {
        "situation": "blocked", "language": "en", "body": DEFAULT_REPLIES["blocked"], "edited": False
    }


def test_a_reply_naming_what_it_cannot_fill_is_refused_and_kept(merchant_client: Client) -> None:
    body = "Dear {customer_name}, order {order_number}"
    response = merchant_client.post("/orders/replies/", {"situation": "ready", "body": body})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The reply names {customer_name}, which it cannot fill." in page
    assert "Dear {customer_name}, order {order_number}</textarea>" in page
    assert not ReplyTemplate.objects.exists()
    failed = AuditEntry.objects.get(action="reply_template_edit")
    assert not failed.succeeded and "customer_name" in failed.error


def test_support_reads_the_replies_but_may_not_change_them(support_client: Client) -> None:
    page = support_client.get("/orders/replies/").content.decode()
    assert "Only a Merchant can change them." in page and "<textarea" not in page
    response = support_client.post("/orders/replies/", {"situation": "ready", "body": "Hi {order_number}"})
    assert response.status_code == 403
    assert "Only a Merchant can change the shop" in response.content.decode()
    assert not ReplyTemplate.objects.exists()
    refused = AuditEntry.objects.get(action="reply_template_edit")
    assert not refused.succeeded and refused.actor_name == "sam-support"
