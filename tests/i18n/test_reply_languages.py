"""Issue 30.3 on the pages: a reply to a customer is written in the customer's language, not the staff
member's. Support picks it on the order page (default: their own), the choice survives the htmx swap
of the reply box, and a reply template is kept per language (a Merchant's French wording changes
French replies only). The diagnosis above it speaks the staff member's language."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry
from orders.models import ReplyTemplate
from orders.reply_text import default_reply
from staff.models import StaffPreferences
from tests.support.i18n import untranslated

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"  # the sandbox's order 1050
ORDER = f"/orders/{EXAMPLE_ID}/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _speaks(user: User, language: str) -> None:
    StaffPreferences.objects.update_or_create(user=user, defaults={"language": language})


def _reply(page: str) -> tuple[str, str]:
    """(the reply's language, its text) as the reply box shows them."""
    match = re.search(r'<textarea id="support-reply" lang="([a-z]+)"[^>]*>(.*?)</textarea>', page, re.S)
    assert match is not None, page[:3000]
    return match.group(1), html.unescape(match.group(2))


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    chosen = re.findall(r'<option value="([^"]+)"[^>]*\sselected', select.group(1))
    assert len(chosen) == 1
    return chosen[0]


def _section(page: str, section_id: str) -> str:
    return page.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]


def test_a_french_support_person_writes_an_italian_reply(support_client: Client, support_user: User) -> None:
    _speaks(support_user, "fr")
    page = support_client.get(ORDER).content.decode()
    assert '<html lang="fr"' in page
    language, text = _reply(page)  # by default, the staff member's language
    assert language == "fr" and text.startswith("Bonjour,") and "commande n° 1050" in text
    assert _selected(page, "reply_language") == "fr"

    italian = support_client.get(ORDER, {"reply_language": "it"}).content.decode()
    assert '<html lang="fr"' in italian  # the page stays French
    language, text = _reply(italian)
    assert language == "it" and text.startswith("Ciao,") and "ordine n. 1050" in text
    assert "Bonjour" not in text and "Hello" not in text and "Best regards" not in text
    assert _selected(italian, "reply_language") == "it"
    # The box and the diagnosis around it are French: no English of ours, the Italian reply aside (lang="it").
    for section in ("support-reply-box", "diagnosis"):
        assert untranslated(_section(italian, section), "fr") == [], section
    assert "Pourquoi ce client ne peut-il pas télécharger ?" in html.unescape(italian)


@pytest.mark.parametrize("language", ["fr", "it"])
def test_the_diagnosis_and_the_reply_box_speak_the_pages_language(
    support_client: Client, support_user: User, language: str
) -> None:
    _speaks(support_user, language)
    page = support_client.get(ORDER, {"complaint": "limit"}).content.decode()
    for section in ("support-reply-box", "diagnosis"):
        assert untranslated(_section(page, section), language) == [], section


def test_the_choice_persists_across_the_htmx_swap(support_client: Client, support_user: User) -> None:
    _speaks(support_user, "fr")
    swapped = support_client.get(ORDER, {"reply": "blocked", "reply_language": "it"}, **HTMX).content.decode()
    assert "<html" not in swapped and swapped.lstrip().startswith('<section class="card support-reply"')
    assert _selected(swapped, "reply") == "blocked" and _selected(swapped, "reply_language") == "it"
    language, text = _reply(swapped)
    assert language == "it" and "ordine n. 1050" in text and "stiamo risolvendo" in text
    # The swapped box's form carries both choices again: the next change keeps the language.
    form = swapped.split("<form", 1)[1].split("</form>", 1)[0]
    assert 'hx-target="#support-reply-box"' in form
    assert 'name="reply"' in form and 'name="reply_language"' in form
    again = support_client.get(ORDER, {"reply": "ready", "reply_language": "it"}, **HTMX).content.decode()
    assert _selected(again, "reply_language") == "it" and _reply(again)[1].startswith("Ciao,")
    # An unknown language is no error: the one picked for this order stays.
    odd = support_client.get(ORDER, {"reply_language": "<b>de</b>"}, **HTMX)
    assert odd.status_code == 200 and _reply(odd.content.decode())[0] == "it"


def test_the_reply_language_picked_for_an_order_stays_for_that_order_only(
    support_client: Client, support_user: User
) -> None:
    _speaks(support_user, "fr")
    support_client.get(ORDER, {"reply_language": "it"}, **HTMX)
    # A reload, or the page a fix or a resend comes back to: still Italian for this customer.
    assert _reply(support_client.get(ORDER).content.decode())[0] == "it"
    assert _reply(support_client.get(ORDER, {"reply": "blocked"}, **HTMX).content.decode())[0] == "it"
    other = support_client.get("/orders/", {"q": "#1049"})["Location"]
    assert other.startswith("/orders/") and other != ORDER
    assert _reply(support_client.get(other).content.decode())[0] == "fr"  # another customer: the staff's
    support_client.get(ORDER, {"reply_language": "fr"}, **HTMX)
    assert _reply(support_client.get(ORDER).content.decode())[0] == "fr"


def test_a_reply_template_edited_in_french_shows_in_french_replies_only(
    merchant_client: Client, merchant_user: User
) -> None:
    _speaks(merchant_user, "it")  # an Italian Merchant words the shop's French reply
    page = merchant_client.get("/orders/replies/", {"language": "fr"}).content.decode()
    assert '<html lang="it"' in page and default_reply("ready", "fr") in html.unescape(page)
    ours = "Bonjour de la part de la boutique ! Commande {order_number} :\n{files}"
    response = merchant_client.post(
        "/orders/replies/?language=fr",
        {"situation": "ready", "language": "fr", "body": ours, "reason": "notre ton"},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith("?language=fr#reply-ready")
    saved = html.unescape(response.content.decode())
    assert "Risposta “Il cliente può scaricare” salvata (Francese)." in saved
    assert ReplyTemplate.objects.get().language == "fr"
    entry = AuditEntry.objects.get(action="reply_template_edit")
    assert entry.succeeded and entry.before["language"] == "fr" and entry.after["body"] == ours
    assert entry.before["body"] == default_reply("ready", "fr")

    def reply_in(language: str) -> str:
        page = merchant_client.get(ORDER, {"reply": "ready", "reply_language": language}).content.decode()
        return _reply(page)[1]

    assert reply_in("fr").startswith("Bonjour de la part de la boutique ! Commande 1050 :")
    for other, opening in (("it", "Ciao,"), ("en", "Hello,")):
        text = reply_in(other)
        assert text.startswith(opening) and "de la part de la boutique" not in text
    # Each language's page shows its own wording; the others are still the defaults.
    italian_page = html.unescape(merchant_client.get("/orders/replies/", {"language": "it"}).content.decode())
    assert default_reply("ready", "it") in italian_page and "de la part de la boutique" not in italian_page


def test_putting_a_languages_default_back_leaves_the_other_languages_wording(merchant_client: Client) -> None:
    english = "Order {order_number}, thanks."
    for language, body in (("fr", "Commande {order_number}, merci."), ("en", english)):
        merchant_client.post("/orders/replies/", {"situation": "blocked", "language": language, "body": body})
    merchant_client.post("/orders/replies/", {"situation": "blocked", "language": "fr", "default": "on"})
    assert list(ReplyTemplate.objects.values_list("language", "body")) == [("en", english)]
    latest = AuditEntry.objects.filter(action="reply_template_edit").latest("pk")
    assert latest.after == {
        "situation": "blocked", "language": "fr", "body": default_reply("blocked", "fr"), "edited": False
    }


@pytest.mark.parametrize("language", ["fr", "it"])
def test_the_reply_templates_page_and_its_refusals_speak_the_staff_members_language(
    merchant_client: Client, merchant_user: User, support_client: Client, support_user: User, language: str
) -> None:
    _speaks(merchant_user, language)
    _speaks(support_user, language)
    for client in (merchant_client, support_client):
        page = client.get("/orders/replies/").content.decode()
        assert f'<html lang="{language}"' in page
        main = page.split("<main", 1)[1].split("</main>", 1)[0]
        assert untranslated(main, language) == []
    refused = merchant_client.post(
        "/orders/replies/", {"situation": "ready", "language": "en", "body": "Dear {customer_name}"}
    ).content.decode()
    expected = {
        "fr": "La réponse nomme {customer_name}, qu'elle ne peut pas remplir.",
        "it": "La risposta nomina {customer_name}, che non può compilare.",
    }[language]
    assert expected in html.unescape(refused)
    # The refused English wording is kept, in the English form, on the page in the staff's language.
    kept = r'<textarea id="reply-body-ready" name="body"[^>]* lang="en" aria-invalid="true">Dear'
    assert re.search(kept, refused)
    assert not ReplyTemplate.objects.exists()
