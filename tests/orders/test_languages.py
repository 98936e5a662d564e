"""The orders' pages and sentences in French and Italian (issue 30): every page kind of the orders area —
the Orders list and its filters, search answers, the order page, the customer's view, the file picker,
the attach / detach and resend confirmations, the order index on the Status page — rendered in each
language shows none of our catalogue's English; counts take their plural forms; the services' sentences
(refusals, "not a link", a flash after a write) come in the person's language. English stays the default:
every other test of tests/orders runs in English.

The order page also holds parts other areas own (the diagnosis and the ready reply, the records table, the
history): those are marked `translate="no"` before looking, so this module answers for the orders area
only; the browser walk looks at whole pages in both languages.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

from audit.registry import action_label
from fileflare_admin.api.deadline import PagePool
from fileflare_admin.api.http import FILEFLARE
from orders import links
from orders.attachments import ATTACH, DETACH
from orders.fixes import NothingToFix
from orders.resend import EMAIL_RESEND
from orders.search import recheck_sentence
from orders.suspects import SuspectGone
from orders_index.models import OrderSync
from orders_index.services import Recheck
from staff.models import StaffPreferences
from tests.orders.conftest import MadeOrder, SandboxHttp
from tests.orders.test_suspects import FILE, _seen, _sent_at
from tests.support.faultproxy import FaultProxy
from tests.support.i18n import untranslated

pytestmark = pytest.mark.django_db
LANGUAGES = ["fr", "it"]
PART_2 = "82664d96-6dfd-4343-96b0-05c46f41000a"  # "My new book - part 2", a file of the sandbox's shop
# Parts of the order page that other areas mark and translate (diagnosis and reply, records, history).
THEIRS = ("diagnosis", "support-reply-box", "records-table", "order-timeline")


def _ours(page: str) -> str:
    """The page with the other areas' parts set aside (`translate="no"`: the English finder skips them)."""
    for element_id in THEIRS:
        page = page.replace(f'id="{element_id}"', f'id="{element_id}" translate="no"')
    return page


def _get(client: Client, url: str, lang: str, **params: Any) -> str:
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code in (200, 404), (url, response.status_code)
    page = response.content.decode()
    assert f'<html lang="{lang}">' in page
    return page


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _flash(page: str) -> str:
    return _text(page.split('class="flashes"', 1)[1].split("</ul>", 1)[0])


def _words(lang: str, fr: str, it: str) -> str:
    return fr if lang == "fr" else it


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_orders_list_its_filters_and_search_answers_have_no_english_left(
    support_client: Client, lang: str
) -> None:
    newest = _get(support_client, "/orders/", lang)
    assert untranslated(newest, lang) == []
    said = _text(newest)
    assert _words(lang, "Commandes les plus récentes", "Ordini più recenti") in said
    assert _words(lang, "Date de commande", "Data dell'ordine") in said  # a column heading
    pager = _words(lang, r"Page 1 sur [\d\s]+ · [\d\s]+ commandes", r"Pagina 1 di [\d\s]+ · [\d\s]+ ordini")
    assert re.search(pager, said)

    never = _get(support_client, "/orders/", lang, email="never")
    assert untranslated(never, lang) == [] and 'class="notice notice-warn"' in never
    assert _words(lang, "e-mail de téléchargement", "e-mail di download") in _text(never)

    swapped = _get(support_client, "/orders/", lang, ordered_from="2026-03-31", ordered_to="2026-03-01")
    assert untranslated(swapped, lang) == []
    assert _words(lang, "« Commandées du »", "“Ordinati dal”") in _text(swapped)

    dated = _get(support_client, "/orders/", lang, ordered_from="2026-03-01", ordered_to="2026-03-31")
    assert untranslated(dated, lang) == []

    for query in ("jane@example.com", "0", "limite raggiunto, nessun numero", "hello there"):
        answer = _get(support_client, "/orders/", lang, q=query)
        assert untranslated(answer, lang) == [], query
        assert 'class="notice notice-warn"' in answer, query
    said = _text(_get(support_client, "/orders/", lang, q="jane@example.com"))
    assert (
        _words(lang, "L'API de Fileflare ne fournit ni l'adresse e-mail", "L'API di Fileflare non fornisce")
        in said
    )
    ticket = _text(_get(support_client, "/orders/", lang, q="limite atteinte, pas de numéro"))
    assert (
        _words(lang, "Le ticket indique « limite atteinte »", "Il ticket dice “limite raggiunto”") in ticket
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_order_page_attach_detach_and_resend_have_no_english_left(
    merchant_client: Client, make_order: Any, upstream: SandboxHttp, lang: str
) -> None:
    order: MadeOrder = make_order({FILE: (3, 5)})
    sent = _sent_at(upstream, order)
    burst = [(-1, 0, 0), (2, 2, 2), (4, 3, 1)]  # 0 → 3 within 4 minutes of the e-mail: a scanner
    _seen(order, [(sent + timedelta(minutes=after), count, delta) for after, count, delta in burst])
    base = f"/orders/{order.id}/"

    # The customer's link, pasted badly then well: the refusal and the flash in the page's language.
    refused = merchant_client.post(f"{base}customer-link/", {"link": "hello"}, HTTP_ACCEPT_LANGUAGE=lang)
    assert untranslated(_ours(refused.content.decode()), lang) == []
    said = _text(refused.content.decode())
    assert _words(lang, "Ce n'est pas un lien de suivi de commande", "Questo non è un link di stato") in said
    saved = merchant_client.post(
        f"{base}customer-link/", {"link": order.status_url}, HTTP_ACCEPT_LANGUAGE=lang, follow=True
    ).content.decode()
    assert _words(
        lang,
        f"Lien du client de la commande n° {order.order_number} enregistré",
        f"Link del cliente dell'ordine n. {order.order_number} salvato",
    ) in _flash(saved)

    picker = _get(merchant_client, f"{base}files/", lang, filename="book - part 2")
    assert untranslated(picker, lang) == [] and PART_2 in picker
    assert _words(lang, "Joindre les fichiers choisis", "Allega i file scelti") in _text(picker)
    confirm = _get(merchant_client, f"{base}attach/", lang, asset=PART_2, filename="book - part 2")
    assert untranslated(confirm, lang) == []
    asked = _words(lang, "Joindre ces fichiers à la commande n° ", "Allegare questi file all'ordine n. ")
    assert f"{asked}{order.order_number}" in _text(confirm)

    attached = merchant_client.post(
        f"{base}attach/", {"asset": PART_2}, HTTP_ACCEPT_LANGUAGE=lang, follow=True
    ).content.decode()
    flash = _flash(attached)
    joined = _words(
        lang, "Fichiers joints à la commande n° %s : «\u00a0%s\u00a0»", "File allegati all'ordine n. %s: “%s”"
    )
    assert joined % (order.order_number, "My new book - part 2") in flash
    assert (
        _words(lang, "La page du client l'affiche maintenant.", "Ora la pagina del cliente lo mostra.")
        in flash
    )
    assert _words(lang, "Renvoyer l'e-mail de téléchargement", "Reinvia l'e-mail di download") in flash

    page = _get(merchant_client, base, lang, complaint="limit")
    assert untranslated(_ours(page), lang) == []
    for words in (
        _words(lang, f"Commande n° {order.order_number}", f"Ordine n. {order.order_number}"),
        _words(lang, "Le ticket indique : limite atteinte", "Il ticket dice: limite raggiunto"),
        _words(lang, "Ce que voit le client", "Cosa vede il cliente"),
        _words(lang, "téléchargés : 3 sur 5", "scaricati: 3 su 5"),
        _words(lang, "Fichiers joints à la commande", "File allegati all'ordine"),
        _words(lang, "Analyseur de liens possible", "Possibile scanner di link"),
        _words(lang, "Rendre 3 téléchargements", "Restituisci 3 download"),
    ):
        assert words in _text(page), words

    detach = _get(merchant_client, f"{base}detach/", lang, asset=PART_2)
    assert untranslated(detach, lang) == []
    assert _words(lang, "Retirer ces fichiers de la commande", "Rimuovere questi file dall'ordine") in _text(
        detach
    )

    resend = _get(merchant_client, f"{base}resend/", lang)
    assert untranslated(resend, lang) == []
    asked = _words(
        lang, "Renvoyer l'e-mail de téléchargement de la commande", "Reinviare l'e-mail di download"
    )
    assert asked in _text(resend)
    token = re.search(r'name="submission" value="([^"]+)"', resend).group(1)
    done = merchant_client.post(
        f"{base}resend/", {"submission": token, "reason": ""}, HTTP_ACCEPT_LANGUAGE=lang, follow=True
    ).content.decode()
    assert _words(
        lang,
        f"E-mail de téléchargement envoyé au client de la commande n° {order.order_number} à ",
        f"E-mail di download inviata al cliente dell'ordine n. {order.order_number} alle ",
    ) in _flash(done)

    customer = _get(merchant_client, f"/orders/customer/{order.token}/", lang)
    assert untranslated(customer, lang) == []
    heading = _words(lang, "Ce que voit le client : commande n° %s", "Cosa vede il cliente: ordine n. %s")
    assert heading % order.order_number in _text(customer)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_unknown_order_says_so_in_the_persons_language(
    support_client: Client, support_user: User, lang: str
) -> None:
    # The person's own pick, not the browser's, decides.
    StaffPreferences.objects.create(user=support_user, language=lang)
    response = support_client.get("/orders/82664d96-6dfd-4343-aaaa-000000000000/", HTTP_ACCEPT_LANGUAGE="en")
    said = _text(response.content.decode())
    assert response.status_code == 404 and "No order with that ID in this shop." not in said
    assert (
        _words(
            lang,
            "Aucune commande avec cet ID dans cette boutique.",
            "Nessun ordine con questo ID in questo negozio.",
        )
        in said
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_order_index_on_the_status_page_and_its_stored_error_are_translated(
    support_client: Client, lang: str
) -> None:
    OrderSync.objects.create(
        shop=FILEFLARE.identity(),
        newest_seen_at=timezone.now(),
        total=15_608,
        calls=1_536,
        last_error="Fileflare did not answer the sync in time; it will try again.",  # stored in English
        last_error_at=timezone.now(),
    )
    page = _get(support_client, "/status/", lang)
    section = page.split('id="status-order-index"', 1)[1].split("</section>", 1)[0]
    assert untranslated(section, lang) == []
    said = _text(section).replace("\u202f", "\u00a0")
    assert _words(lang, "Index des commandes", "Indice degli ordini") in said
    assert (
        _words(lang, "sur les 15\u00a0608 comptées par Fileflare", "sui 15\u00a0608 contati da Fileflare")
        in said
    )
    assert (
        _words(
            lang,
            "Fileflare n'a pas répondu à temps à la synchronisation ; elle réessaiera.",
            "Fileflare non ha risposto in tempo alla sincronizzazione; riproverà.",
        )
        in said
    )


@pytest.mark.parametrize(
    ("lang", "one", "two"),
    [
        ("fr", "1 commande contient ce fichier.", "2 commandes contiennent ce fichier."),
        ("it", "1 ordine contiene questo file.", "2 ordini contengono questo file."),
        ("en", "1 order holds this file.", "2 orders hold this file."),
    ],
)
def test_a_count_takes_its_plural_form_in_a_page(lang: str, one: str, two: str) -> None:
    def holders(count: int) -> str:
        files = SimpleNamespace(
            holders=[
                SimpleNamespace(order_id=None, order_number=1050 + n, attached=True, records=[])
                for n in range(count)
            ],
            searched="planner.pdf",
            names=["planner.pdf"],
            records_complete=True,
            assets_complete=True,
        )
        with translation.override(lang):
            return render_to_string("orders/_file_holders.html", {"files": files, "result": None})

    assert one in holders(1) and two in holders(2)


@pytest.mark.parametrize(
    ("lang", "one", "two"),
    [
        (
            "fr",
            "Nouvelle vérification auprès de Fileflare (1 requête) — la commande : 1 avait changé et affiche "
            "maintenant ce que Fileflare contient.",
            "Nouvelle vérification auprès de Fileflare (2 requêtes) — les 2 commandes : 2 avaient changé et "
            "affichent maintenant ce que Fileflare contient.",
        ),
        (
            "it",
            "Nuovo controllo su Fileflare (1 richiesta) — l'ordine: 1 era cambiato e ora mostra i dati di "
            "Fileflare.",
            "Nuovo controllo su Fileflare (2 richieste) — tutti i 2 ordini: 2 erano cambiati e ora mostrano "
            "i dati di Fileflare.",
        ),
    ],
)
def test_a_service_sentence_counts_in_the_language(lang: str, one: str, two: str) -> None:
    with translation.override(lang):
        assert recheck_sentence(Recheck(asked=1, checked=1, changed=1, gone=0, calls=1)) == one
        assert recheck_sentence(Recheck(asked=2, checked=2, changed=2, gone=0, calls=2)) == two


@pytest.mark.parametrize(
    ("lang", "gone", "nothing", "not_a_link"),
    [
        (
            "fr",
            "Cette rafale de téléchargements n'est plus listée pour cette fiche",
            "Aucune fiche de téléchargement de cette commande pour ce fichier",
            "Ce n'est pas un lien de suivi de commande d'un client",
        ),
        (
            "it",
            "Questa raffica di download non è più elencata per questo record",
            "Nessun record di download di questo ordine per quel file",
            "Questo non è un link di stato dell'ordine di un cliente",
        ),
        (
            "en",
            "That burst of downloads is no longer listed for this record",
            "None of this order's download records for that file",
            "That is not a customer's order-status link",
        ),
    ],
)
def test_refusals_are_written_in_the_language_they_are_raised_in(
    lang: str, gone: str, nothing: str, not_a_link: str
) -> None:
    with translation.override(lang):
        assert SuspectGone().user_message.startswith(gone)
        assert NothingToFix().user_message.startswith(nothing)
        with pytest.raises(links.NotAStatusLink) as refused:
            links.customer_link_remember(order_number=1050, text="no link here")
    assert refused.value.user_message.startswith(not_a_link)


@pytest.mark.parametrize(
    ("lang", "resent", "attached", "detached"),
    [
        (
            "fr",
            "E-mail de téléchargement renvoyé",
            "Fichiers joints à la commande",
            "Fichiers retirés de la commande",
        ),
        ("it", "E-mail di download reinviata", "File allegati all'ordine", "File rimossi dall'ordine"),
        ("en", "Resent download e-mail", "Attached files to order", "Detached files from order"),
    ],
)
def test_the_orders_writes_are_named_in_the_audit_log_in_the_language(
    lang: str, resent: str, attached: str, detached: str
) -> None:
    with translation.override(lang):
        assert [action_label(code) for code in (EMAIL_RESEND, ATTACH, DETACH)] == [resent, attached, detached]


def test_the_order_sync_command_speaks_english_whatever_the_shops_language(settings: Any) -> None:
    settings.LANGUAGE_CODE = "fr"
    out = StringIO()
    with translation.override("fr"):
        call_command("order_sync", stdout=out)
    assert "order index" in out.getvalue() or "orders indexed" in out.getvalue()
    assert "commandes" not in out.getvalue()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_unknown_outcome_and_an_order_that_cannot_be_loaded_are_said_in_the_language(
    support_client: Client, make_order: Any, fileflare_proxy: FaultProxy, settings: Any, lang: str
) -> None:
    settings.UPSTREAM_RETRIES = 0
    order: MadeOrder = make_order({FILE: (1, 5)})
    base = f"/orders/{order.id}/"
    form = _get(support_client, f"{base}resend/", lang)
    token = re.search(r'name="submission" value="([^"]+)"', form).group(1)
    # The e-mail request's answer is lost and the order cannot be read again: nobody can tell.
    fileflare_proxy.fault("drop", method="PUT", path=f"/v1/orders/{order.id}", times=1)
    fileflare_proxy.fault("502", method="GET", path=f"/v1/orders/{order.id}", times=1, after="PUT")
    unknown = support_client.post(f"{base}resend/", {"submission": token}, HTTP_ACCEPT_LANGUAGE=lang)
    page = unknown.content.decode()
    assert untranslated(page, lang) == []
    assert _words(
        lang,
        "impossible de savoir si l'e-mail a été envoyé (résultat inconnu)",
        "non sappiamo se l'e-mail è stata inviata (esito sconosciuto)",
    ) in _text(page)

    unread: MadeOrder = make_order({FILE: (1, 5)})  # never read by the dashboard: no saved copy to show
    fileflare_proxy.fault("502", method="GET", path=f"/v1/orders/{unread.id}", times=5)
    unavailable = _get(support_client, f"/orders/{unread.id}/", lang)
    assert untranslated(unavailable, lang) == []
    said = _text(unavailable)
    assert _words(lang, "Impossible de charger cette commande", "Impossibile caricare questo ordine") in said
    assert _words(lang, "Réessayer", "Riprova") in said


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_pages_parallel_calls_speak_its_language(lang: str) -> None:
    """The order page reads the order, its records and the customer's view on a PagePool: a failure's
    sentence, made in the pool's thread, is in the page's language (Django's language is per thread)."""
    with translation.override(lang), PagePool(max_workers=1) as pool:
        assert pool.submit(translation.get_language).result() == lang
        assert pool.submit(lambda: NothingToFix().user_message).result() == NothingToFix().user_message
    assert translation.get_language() == "en"
