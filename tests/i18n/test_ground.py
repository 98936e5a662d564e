"""Issue 30, the ground's pages and sentences in French and Italian: sign-in, the error pages (403, 404, 500,
503), the Status page with its checks, the audit log and the undo confirmation, a staff member's own pages,
the API's and the services' sentences, and `check_upstreams` in the shop's LANGUAGE_CODE. Each page kind
shows none of our catalogue's English (tests/support/i18n.py); plurals are checked with 1 and 2."""

from __future__ import annotations

import html
import pickle
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.utils import translation

from audit.models import AuditEntry
from fileflare_admin import views
from fileflare_admin.api import checks, downloads, errors
from fileflare_admin.api.breaker import CircuitOpen
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE
from fileflare_admin.days import day_parsed
from fileflare_admin.signin import lockout_sentence, warning_sentence
from staff.roles import NotAllowed, require, require_count_change_allowed
from tests.conftest import free_port
from tests.support.i18n import untranslated, visible_text
from tests.test_check_upstreams import run_checks

pytestmark = pytest.mark.django_db
LANGUAGES = ["fr", "it"]


def _page(client: Client, url: str, language: str, **extra: Any) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language, **extra)
    return response.content.decode()


def _read(page: str, language: str) -> str:
    return html.unescape(visible_text(page, language))


def _count_entry(actor: User, **fields: Any) -> AuditEntry:
    values = {
        "actor": actor,
        "actor_name": actor.get_username(),
        "action": "download_record_count",
        "order_number": 5002,
        "download_id": "rec-a",
        "before": {"download_count": 1},
        "after": {"download_count": 2},
        "reason": "Ticket 77",
        "outcome": "success",
        **fields,
    }
    return AuditEntry.objects.create(**values)


def _without_action_choices(page: str) -> str:
    """The log without its action filter's choices: the labels each app declares with its writes are
    translated by the lane that owns the app (issue 30's plan), and one of theirs still in English
    ("Created download record") would name our "Created" here."""
    start = page.index('<select name="action"')
    return page[:start] + page[page.index("</select>", start) :]


# --- Each page kind, in French and in Italian -------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_and_signed_out_pages_speak_the_browsers_language(language: str) -> None:
    page = _page(Client(), "/accounts/login/", language)
    assert untranslated(page, language) == []
    assert {"fr": "Se connecter", "it": "Accedi"}[language] in page
    assert {"fr": "Mot de passe", "it": "Password"}[language] in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refused_page_and_a_missing_page(support_client: Client, language: str) -> None:
    refused = support_client.get("/jobs/", HTTP_ACCEPT_LANGUAGE=language)
    assert refused.status_code == 403
    page = refused.content.decode()
    assert untranslated(page, language) == []
    expected = {
        "fr": "Seul un Marchand peut lancer des corrections groupées.",
        "it": "Solo un Commerciante può avviare correzioni in blocco.",
    }
    assert expected[language] in _read(page, language)
    missing = support_client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert missing.status_code == 404
    text = _read(missing.content.decode(), language)
    assert untranslated(missing.content.decode(), language) == []
    assert {"fr": "Cette page n'existe pas.", "it": "Questa pagina non esiste."}[language] in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_500_and_database_pages(language: str) -> None:
    request = RequestFactory().post("/orders/", {"note": "Gardez-moi", "password": "secret"})
    with translation.override(language):
        try:
            raise OperationalError("database is locked")
        except OperationalError:
            database = views.server_error(request).content.decode()
        try:
            raise ValueError("a bug")
        except ValueError:
            crashed = views.server_error(RequestFactory().get("/")).content.decode()
    for page in (database, crashed):
        assert f'<html lang="{language}">' in page
        assert untranslated(page, language) == []
    assert {"fr": "La base de données du tableau de bord ne répond pas", "it": "Il database della dashboard"}[
        language
    ] in html.unescape(database)
    assert "Gardez-moi" in database and "secret" not in database
    assert {"fr": "Un problème est survenu de notre côté", "it": "Qualcosa è andato storto da parte nostra"}[
        language
    ] in crashed


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_status_page_with_its_checks(support_client: Client, sandbox: Any, language: str) -> None:
    before = _page(support_client, "/status/", language)
    assert untranslated(before, language) == []
    ran = support_client.post("/status/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert untranslated(ran, language) == []
    text = _read(ran, language)
    assert {"fr": "Vérifications des API", "it": "Controlli delle API"}[language] in text
    assert {"fr": "clé acceptée", "it": "chiave accettata"}[language] in text
    # The sections other apps register (the order index, the counts' snapshots) speak it too.
    assert {"fr": "Index des commandes", "it": "Indice degli ordini"}[language] in text


def test_the_last_checks_read_in_each_persons_language(
    support_client: Client, merchant_client: Client, sandbox: Any
) -> None:
    """One run for the whole team, made by an English speaker, read by a French and an Italian one."""
    english = support_client.post("/status/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "It answered in" in english and "The downloads API" in english
    french = _page(merchant_client, "/status/", "fr")
    italian = _page(merchant_client, "/status/", "it")
    assert "Elle a répondu en" in _read(french, "fr") and "L'API des téléchargements" in _read(french, "fr")
    assert "Ha risposto in" in _read(italian, "it") and "L'API dei download" in _read(italian, "it")
    assert untranslated(french, "fr") == [] and untranslated(italian, "it") == []


def test_the_last_upstream_error_reads_in_each_persons_language(
    support_client: Client, merchant_client: Client, settings: Any
) -> None:
    """An English speaker met the failure; the Status page states it to each reader in their language."""
    settings.DOWNLOADS_API_URL = f"http://127.0.0.1:{free_port()}/easycart"
    with translation.override("en"), pytest.raises(errors.Unavailable) as failed:
        downloads.record_list(per_page=1, fresh=True)
    assert failed.value.user_message.startswith("Could not connect to the downloads API.")
    french = _read(_page(merchant_client, "/status/", "fr"), "fr")
    italian = _read(_page(merchant_client, "/status/", "it"), "it")
    assert "Impossible de se connecter à l'API des téléchargements. Réessayez dans un instant." in french
    assert "Impossibile stabilire una connessione con l'API dei download." in italian
    english = _read(_page(support_client, "/status/", "en"), "en")
    assert "Could not connect to the downloads API. Try again in a moment." in english


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_audit_log_and_the_undo_confirmation(
    merchant_client: Client, merchant_user: User, language: str
) -> None:
    entry = _count_entry(merchant_user)
    with translation.override(language):  # a failure's sentence is kept as its actor read it
        _count_entry(merchant_user, outcome="failed", error=errors.ValidationFailed().user_message)
    log = _page(merchant_client, "/audit/", language)
    assert untranslated(_without_action_choices(log), language) == []
    text = _read(log, language)
    assert {"fr": "Journal des modifications", "it": "Registro delle modifiche"}[language] in text
    assert {"fr": "2 entrées.", "it": "2 voci."}[language] in text
    confirm = _page(merchant_client, f"/audit/{entry.pk}/undo/", language)
    assert untranslated(confirm, language) == []
    assert {"fr": "Rétablir le nombre", "it": "Ripristina il numero"}[language] in _read(confirm, language)
    # A filter that does not parse: its sentence, in the page's language.
    bad = _page(merchant_client, "/audit/", language, data={"date_from": "0226-13-40"})
    assert untranslated(_without_action_choices(bad), language) == []
    assert {"fr": "n'est pas une date", "it": "non è una data"}[language] in _read(bad, language)


def test_an_entrys_sentence_kept_in_english_reads_in_the_readers_language(
    merchant_client: Client, merchant_user: User
) -> None:
    """A bulk fix's worker writes in the shop's LANGUAGE_CODE (English here): a sentence of our catalogue
    kept so is shown translated; one a person met in French stays as they read it."""
    with translation.override("en"):
        _count_entry(merchant_user, outcome="unknown", error=errors.OutcomeUnknown().user_message)
    with translation.override("fr"):
        _count_entry(merchant_user, outcome="failed", error=errors.NotFound().user_message)
    italian = _read(_page(merchant_client, "/audit/", "it"), "it")
    assert "L'API non ha risposto in tempo, quindi non sappiamo se la modifica è stata fatta." in italian
    assert "Rien ne porte cet ID dans cette boutique." in italian  # as its actor read it


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_audit_log_names_the_fields_of_the_orders_writes(
    merchant_client: Client, merchant_user: User, language: str
) -> None:
    """A resend keeps when the e-mail went out, an attach the order's files: the log names them in the
    page's language (it once read "Email sent at", the key made readable)."""
    _count_entry(
        merchant_user, action="email_resend", download_id="", before={"email_sent_at": None},
        after={"email_sent_at": "2026-12-07T10:00:00+00:00"},
    )
    _count_entry(
        merchant_user, action="order_assets_attach", download_id="", before={"assets": []},
        after={"assets": [{"id": "a1", "filename": "part-2.pdf"}]},
    )
    text = _read(_page(merchant_client, "/audit/", language), language)
    assert "Email sent at" not in text and "Assets" not in text
    assert {"fr": "E-mail de téléchargement envoyé", "it": "E-mail di download inviata"}[language] in text
    assert {"fr": "Fichiers", "it": "File"}[language] in text


def test_the_audit_logs_count_has_its_plural(merchant_client: Client, merchant_user: User) -> None:
    _count_entry(merchant_user)
    one = {language: _read(_page(merchant_client, "/audit/", language), language) for language in LANGUAGES}
    assert "1 entrée." in one["fr"] and "1 voce." in one["it"]
    _count_entry(merchant_user)
    filtered = {
        language: _read(_page(merchant_client, "/audit/", language, data={"order_number": 5002}), language)
        for language in LANGUAGES
    }
    assert "2 entrées correspondent aux filtres." in filtered["fr"]
    assert "2 voci corrispondono ai filtri." in filtered["it"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("url", ["/staff/time-zone/", "/staff/digest/", "/staff/language/"])
def test_a_staff_members_own_pages(merchant_client: Client, language: str, url: str) -> None:
    page = _page(merchant_client, url, language)
    assert untranslated(page, language) == []
    # The header's role and the script's words (read from <body>'s data-said-* attributes, no inline script).
    assert {"fr": ">Marchand<", "it": ">Commerciante<"}[language] in page
    assert {"fr": 'data-said-copied="Copié"', "it": 'data-said-copied="Copiato"'}[language] in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_digest_setting_refused_and_saved(merchant_client: Client, language: str) -> None:
    refused = merchant_client.post(
        "/staff/digest/", {"wanted": "on", "digest_at": "25h"}, HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert untranslated(refused, language) == []
    assert {"fr": "Écrivez l'heure en heures et minutes", "it": "Scrivi l'orario in ore e minuti"}[
        language
    ] in _read(refused, language)


# --- Sentences from the services, in each language --------------------------------------------------


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("fr", "réessayez dans 1 seconde.", "réessayez dans 2 secondes."),
        ("it", "riprova tra 1 secondo.", "riprova tra 2 secondi."),
        ("en", "try again in 1 second.", "try again in 2 seconds."),
    ],
)
def test_the_api_sentences_and_their_plurals(language: str, one: str, two: str) -> None:
    with translation.override(language):
        assert errors.RateLimited(retry_after=1).user_message.endswith(one)
        assert errors.RateLimited(retry_after=2).user_message.endswith(two)
        not_found = errors.NotFound().user_message
        unknown = errors.OutcomeUnknown().user_message
        open_circuit = CircuitOpen(DOWNLOADS.label, retry_after=2, api="downloads").user_message
    expected = {
        "fr": (
            "Rien ne porte cet ID dans cette boutique.",
            "impossible de savoir",
            "L'API des téléchargements",
        ),
        "it": ("Niente con questo ID esiste in questo negozio.", "non sappiamo", "L'API dei download"),
        "en": ("Nothing with that ID exists in this shop.", "we cannot tell", "The downloads API"),
    }[language]
    assert not_found == expected[0] and expected[1] in unknown and open_circuit.startswith(expected[2])


@pytest.mark.parametrize("language", LANGUAGES)
def test_refusals_sign_in_and_days_are_in_the_persons_language(
    language: str, support_user: User, settings: Any
) -> None:
    settings.AXES_COOLOFF_MINUTES = 1
    with translation.override(language):
        with pytest.raises(NotAllowed) as refused:
            require(support_user, "delete")
        with pytest.raises(NotAllowed) as step:
            require_count_change_allowed(support_user, old=1500, new=9000)
        warning = warning_sentence()
        with pytest.raises(ValidationError) as bad_day:
            day_parsed("2026-02-40", "From")
    if language == "fr":
        assert refused.value.user_message == "Seul un Marchand peut supprimer des fiches de téléchargement."
        assert "depuis 1\xa0500" in step.value.user_message
        assert "pendant 1 minute." in warning
        assert "n'est pas une date" in str(bad_day.value)
    else:
        assert refused.value.user_message == "Solo un Commerciante può eliminare record di download."
        assert "da 1\xa0500" in step.value.user_message
        assert "per 1 minuto." in warning
        assert "non è una data" in str(bad_day.value)
    settings.AXES_COOLOFF_MINUTES = 2
    with translation.override(language):
        assert {"fr": "dans 2 minutes.", "it": "tra 2 minuti."}[language] in lockout_sentence(None)


# --- check_upstreams in the shop's LANGUAGE_CODE -----------------------------------------------------


def test_check_upstreams_speaks_the_shops_language(sandbox: Any, settings: Any) -> None:
    settings.LANGUAGE_CODE = "fr"  # resets the active language: a command speaks LANGUAGE_CODE
    translation.deactivate()
    output, failed = run_checks()
    assert failed is None, output
    assert "OK      Fileflare: joignable — Elle a répondu en" in output
    assert "L'API des téléchargements: clé acceptée — DOWNLOADS_API_TOKEN a été acceptée." in output
    assert "Aucune vérification en échec (" in output
    settings.FILEFLARE_API_KEY = "revoked-key"
    output, failed = run_checks("--api", "fileflare")
    assert failed is not None and str(failed).startswith("1 vérification a échoué (Fileflare: clé acceptée).")
    assert "ÉCHEC   Fileflare: clé acceptée — Fileflare a refusé la clé du tableau de bord." in output
    settings.DOWNLOADS_API_TOKEN = "revoked-token"
    _output, failed = run_checks()
    assert failed is not None and str(failed).startswith("2 vérifications ont échoué (")


def test_check_upstreams_stays_english_by_default(sandbox: Any) -> None:
    translation.deactivate()
    output, failed = run_checks("--api", "downloads")
    assert failed is None and "OK      The downloads API: key accepted — " in output, output


def test_a_check_result_is_words_made_when_shown() -> None:
    """The detail of a check is kept (for the whole team) as what to say, not as one language's words."""
    detail = checks.later("It answered in %(ms)s ms.", {"ms": 5})
    result = checks.CheckResult("Fileflare", "reachable", "ok", detail)
    kept = pickle.loads(pickle.dumps(result))  # noqa: S301  # as the shared cache keeps it
    said = {"en": "It answered in 5 ms.", "fr": "Elle a répondu en 5 ms.", "it": "Ha risposto in 5 ms."}
    for language in said:
        with translation.override(language):
            assert str(kept.detail) == said[language]
    assert FILEFLARE.label == "Fileflare"


def test_an_orders_history_cached_in_one_language_is_not_shown_in_another(merchant_user: User) -> None:
    """The History's entries are cached fragments (issue 28): the key holds the reader's language."""
    from django.template import Context, Template

    entry = _count_entry(merchant_user, outcome="unknown", error="—")
    history = Template("{% load audit_log %}{% timeline_rows entries %}")
    shown = {}
    for language in ("fr", "en", "it", "fr"):
        with translation.override(language):
            shown[language] = history.render(Context({"entries": [entry], "csrf_token": "t" * 64}))
    assert "résultat inconnu" in shown["fr"] and "esito sconosciuto" in shown["it"]
    assert "outcome unknown" in shown["en"] and "résultat inconnu" not in shown["en"]
