"""The download-record pages in French and Italian (issue 30): every page kind shows none of our English,
counts take their plural, a count is typed the language's way, and the services' sentences (a conflict,
a refusal, a record gone, an undo) speak the person's language. English stays the default (the other
tests of tests/downloads run in it)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEntry
from downloads import edits, limits, readback
from fileflare_admin import clock
from fileflare_admin.api import types
from tests.downloads.conftest import DownloadsApi
from tests.support.forms import form_values
from tests.support.i18n import untranslated, visible_text

pytestmark = pytest.mark.django_db
LANGUAGES = ["fr", "it"]
HTMX = {"HTTP_HX_REQUEST": "true"}


def _get(client: Client, url: str, language: str, **query: Any) -> str:
    response = client.get(url, query, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code in (200, 404), response.status_code
    return response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_records_list_in_every_shape_shows_none_of_our_english(
    merchant_client: Client, make_record: Any, order_number: int, language: str
) -> None:
    make_record(is_amazon=True, amazon_key="bucket/guide.zip")
    make_record(order_id=order_number + 1, product_id=order_number, download_file_name="poster.png")
    url = reverse("downloads:list")
    pages = {
        "the whole list": _get(merchant_client, url, language),
        "a search": _get(merchant_client, url, language, q="guide"),
        "a bare number": _get(merchant_client, url, language, q=str(order_number)),
        "one order": _get(merchant_client, url, language, q=f"order:{order_number}"),
        "nothing found": _get(merchant_client, url, language, q="no-such-file-anywhere"),
        "an ignored sort": _get(merchant_client, url, language, sort="password", per_page="7", page="x"),
        "a later page": _get(merchant_client, url, language, page="2", per_page="25"),
        "the results alone (htmx)": merchant_client.get(
            url, {"q": "guide"}, HTTP_ACCEPT_LANGUAGE=language, **HTMX
        ).content.decode(),
    }
    for shape, page in pages.items():
        assert untranslated(page, language) == [], shape
    # The helper does see our English: the same list in English.
    english = _get(merchant_client, url, "en", q=str(order_number))
    assert {"Download records", "Reset to 0", "Records of order %(link)s"} <= set(
        untranslated(english, language)
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_edit_create_delete_and_not_found_pages_show_none_of_our_english(
    merchant_client: Client, support_client: Client, make_record: Any, language: str
) -> None:
    record = make_record(download_count=3)
    download_id = record["download_id"]
    pages = {
        "edit": _get(merchant_client, reverse("downloads:edit", args=[download_id]), language),
        "edit as Support": _get(support_client, reverse("downloads:edit", args=[download_id]), language),
        "create": _get(merchant_client, reverse("downloads:create"), language),
        "delete": _get(merchant_client, reverse("downloads:delete", args=[download_id]), language),
    }
    for kind, page in pages.items():
        assert untranslated(page, language) == [], kind
    # The 404 page is the layout's (its own words are another area's): our sentence on it is translated.
    missing = _get(merchant_client, reverse("downloads:edit", args=["nosuchrecord0"]), language)
    reason = "There is no download record with that ID at the downloads API. Someone may have deleted it."
    assert reason not in untranslated(missing, language)
    with translation.override(language):
        assert translation.gettext(reason) != reason and translation.gettext(reason) in html.unescape(missing)
    invalid = merchant_client.post(
        reverse("downloads:create"),
        {
            "product_id": "x",
            "order_id": "",
            "download_count": "-1",
            "download_file_name": " ",
            "is_amazon": "on",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    assert untranslated(invalid, language) == []
    expected = {
        "fr": [
            "Saisissez un nombre entier supérieur à 0.",
            "Saisissez la clé S3 : le fichier est stocké sur Amazon S3.",
        ],
        "it": [
            "Inserisci un numero intero maggiore di 0.",
            "Inserisci la chiave S3: il file è archiviato su Amazon S3.",
        ],
    }[language]
    assert all(sentence in html.unescape(invalid) for sentence in expected)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_conflict_page_speaks_the_persons_language(
    merchant_client: Client,
    second_merchant_client: Client,
    make_record: Any,
    language: str,
) -> None:
    record = make_record(download_count=2, download_file_name="v1.pdf")
    url = reverse("downloads:edit", args=[record["download_id"]])
    mine = form_values(merchant_client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode())
    theirs = form_values(second_merchant_client.get(url).content.decode())
    assert second_merchant_client.post(url, {**theirs, "download_file_name": "theirs.pdf"}).status_code == 302
    page = merchant_client.post(
        url, {**mine, "download_file_name": "mine.pdf"}, HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert 'id="conflict-title"' in page
    assert untranslated(page, language) == []
    sentence = {
        "fr": "Quelqu'un a modifié cette fiche depuis que vous l'avez ouverte (nom du fichier). "
        "Rien n'a été enregistré.",
        "it": "Qualcuno ha modificato questo record dopo che l'hai aperto (nome del file). "
        "Non è stato salvato nulla.",
    }[language]
    assert sentence in html.unescape(page)


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("fr", "1 fiche correspondant à « guide-", "2 fiches correspondant à « guide-"),
        ("it", "1 record corrispondente a “guide-", "2 record corrispondenti a “guide-"),
    ],
)
def test_the_lists_count_takes_its_plural(
    merchant_client: Client, make_record: Any, order_number: int, language: str, one: str, two: str
) -> None:
    make_record(download_file_name=f"guide-{order_number}-a.pdf")
    make_record(download_file_name=f"guide-{order_number}-b.pdf")
    make_record(download_file_name=f"guide-{order_number}-b.epub")
    first = _get(merchant_client, reverse("downloads:list"), language, q=f"guide-{order_number}-a")
    assert one in visible_text(first, language)
    second = _get(merchant_client, reverse("downloads:list"), language, q=f"guide-{order_number}-b")
    assert two in visible_text(second, language)


@pytest.mark.parametrize(("language", "typed"), [("fr", "1 536"), ("it", "1.536")])
def test_a_count_typed_the_languages_way_is_saved_in_place_and_said_in_that_language(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any, language: str, typed: str
) -> None:
    record = make_record(download_count=2)
    url = reverse("downloads:count", args=[record["download_id"]])
    response = merchant_client.post(
        url, {"count": typed, "expected": "2", "next": "/downloads/"}, HTTP_ACCEPT_LANGUAGE=language, **HTMX
    )
    assert response.status_code == 200
    assert downloads_api.get(record["download_id"])["download_count"] == 1536
    saved = {
        "fr": "Enregistré : le nombre de téléchargements est de 1\xa0536.",
        "it": "Salvato: il numero di download è 1\xa0536.",
    }
    assert saved[language] in html.unescape(response.content.decode())
    assert untranslated(response.content.decode(), language) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_count_changed_meanwhile_or_typed_wrong_is_said_in_the_persons_language(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any, language: str
) -> None:
    record = make_record(download_count=2)
    downloads_api.patch(record["download_id"], download_count=5)
    url = reverse("downloads:count", args=[record["download_id"]])
    clash = merchant_client.post(
        url, {"count": "0", "expected": "2", "next": "/downloads/"}, HTTP_ACCEPT_LANGUAGE=language, **HTMX
    ).content.decode()
    said = {
        "fr": "Non enregistré : entre-temps, quelqu'un a changé ce compteur de 2 à 5.",
        "it": "Non salvato: nel frattempo qualcuno ha cambiato questo contatore da 2 a 5.",
    }[language]
    assert said in html.unescape(clash)
    wrong = merchant_client.post(
        url, {"count": "1,5", "expected": "5", "next": "/downloads/"}, HTTP_ACCEPT_LANGUAGE=language, **HTMX
    ).content.decode()
    refused = {
        "fr": "Non enregistré : Saisissez un nombre entier, 0 ou plus.",
        "it": "Non salvato: Inserisci un numero intero, 0 o più.",
    }[language]
    assert refused in html.unescape(wrong)
    assert downloads_api.get(record["download_id"])["download_count"] == 5


def test_the_undo_sentences_and_the_audit_labels_are_said_in_each_language(
    merchant_user: Any, make_record: Any
) -> None:
    record = make_record(download_count=4)
    edits.download_record_count_set(
        actor=merchant_user, download_id=record["download_id"], count=0, expected=4
    )
    entry = AuditEntry.objects.get(action=edits.COUNT, download_id=record["download_id"])
    handler = edits.CountRevert()
    shown = {}
    for language in ("en", "fr", "it"):
        with translation.override(language):
            shown[language] = (handler.description(entry), entry.action_label)
    download_id = record["download_id"]
    assert shown["en"] == (
        f"Set the download count of record {download_id} back from 0 to 4.",
        "Changed download count",
    )
    assert shown["fr"] == (
        f"Remettre le nombre de téléchargements de la fiche {download_id} de 0 à 4.",
        "Nombre de téléchargements modifié",
    )
    assert shown["it"] == (
        f"Riporta il numero di download del record {download_id} da 0 a 4.",
        "Numero di download modificato",
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "limit seen on order #7's customer page (and 2 other orders), 3 days ago"),
        (
            "fr",
            "limite vue sur la page de téléchargement du client de la commande n° 7 (et de 2 autres "
            "commandes), il y a 3\xa0jours",
        ),
        (
            "it",
            "limite visto sulla pagina di download del cliente dell'ordine n. 7 (e di altri 2 ordini), "
            "3\xa0giorni fa",
        ),
    ],
)
def test_where_a_limit_was_seen_is_said_in_each_language(language: str, expected: str) -> None:
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    known = limits.KnownLimit(10, "learned", 7, now - timedelta(days=3), orders=3)
    with translation.override(language):
        assert known.source_text(now) == expected.replace("\xa0", " ")
        assert re.fullmatch(r"\d+ \S+ 10", known.used(5)), known.used(5)


def test_a_cached_row_is_never_shown_in_another_language(
    merchant_client: Client, make_record: Any, order_number: int
) -> None:
    """The records' rows are cached fragments (fileflare_admin.fragments): the key holds the language."""
    record = make_record(download_file_name=f"row-{order_number}.pdf")
    url = reverse("downloads:list")
    query = {"q": f"row-{order_number}"}
    for language, button in (
        ("fr", "Remettre à 0"),
        ("en", "Reset to 0"),
        ("it", "Azzera"),
        ("fr", "Remettre à 0"),
    ):
        page = merchant_client.get(url, query, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        row = re.search(rf'<tr id="record-{record["download_id"]}".*?</tr>', page, re.S)
        assert row is not None and button in row.group(0), (language, row)


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_a_learned_limit_says_where_and_when_it_was_seen_in_plain_words(language: str) -> None:
    """The limit line's title is the moment as words (it held a <time> element, which broke the row)."""
    record = types.DownloadRecord("abc123", None, 42, 1050, 5, "guide.pdf", False, "")
    seen = timezone.now() - timedelta(days=3)
    known = {"abc123": limits.KnownLimit(10, "learned", 1049, seen, orders=2)}
    with translation.override(language):
        context = {"record": record, "record_limits": known, "may": None}
        row = render_to_string("downloads/_record_row.html", context)
        title = re.search(r'class="muted limit-source" title="([^"]*)"', row)
        assert title is not None and "<" not in html.unescape(title.group(1)), row
        assert html.unescape(title.group(1)) == clock.date_time(seen, seconds=True)
        assert language == "en" or untranslated(row, language) == []


@pytest.mark.parametrize(
    ("language", "verified", "error"),
    [
        ("fr", "vérifié auprès de l'API : la fiche n'existe plus", None),
        ("it", "verificato presso l'API: il record non esiste più", None),
        (
            "fr",
            "vérifié auprès de l'API après l'arrêt de son processus",
            "Non enregistré : le processus s'est arrêté avant que l'écriture n'atteigne l'API.",
        ),
        (
            "it",
            "verificato presso l'API dopo l'arresto del suo worker",
            "Non salvato: il worker si è fermato prima che la scrittura raggiungesse l'API.",
        ),
    ],
)
def test_how_a_write_was_read_back_is_kept_in_english_and_read_in_the_readers_language(
    merchant_client: Client, merchant_user: Any, language: str, verified: str, error: str | None
) -> None:
    """A read-back's note on an audit entry (written by a request or by a bulk fix's worker) is kept as a
    msgid, so the audit log shows it in each reader's language."""
    kept: dict[str, Any] = {"verified": readback.VERIFIED_GONE, "outcome": "success"}
    if error is not None:  # what jobs.actions keeps when the worker's write was found not made
        kept = {
            "verified": "checked at the API after its worker stopped",
            "error": "Not saved: the worker stopped before the write reached the API.",
            "outcome": "failed",
        }
    AuditEntry.objects.create(
        actor=merchant_user,
        actor_name=merchant_user.get_username(),
        action="download_record_delete",
        order_number=5003,
        download_id="rec-b",
        reason="Ticket 78",
        **kept,
    )
    page = html.unescape(merchant_client.get("/audit/", HTTP_ACCEPT_LANGUAGE=language).content.decode())
    assert verified in page
    assert error is None or error in page
