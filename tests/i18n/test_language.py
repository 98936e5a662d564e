"""Who sees which language (issue 30, item 2): the language a staff member picks (beside the time zone in
the header), else their browser's Accept-Language, else the shop's LANGUAGE_CODE; `<html lang>` follows;
the sign-in page follows the browser."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from staff.models import StaffPreferences
from tests.support.i18n import untranslated, visible_text

pytestmark = pytest.mark.django_db
URL = "/staff/language/"
PAGE = "/staff/time-zone/"  # a page of the dashboard's frame that makes no upstream call


def _lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def _language_link(html: str) -> str:
    return re.search(r'<a class="zone-link language-link"[^>]*>.*?</a>', html, re.S).group(0)


def test_without_a_choice_the_browser_decides_then_the_shop(support_client: Client, settings: Any) -> None:
    french = support_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5").content.decode()
    assert _lang(french) == "fr" and "Se déconnecter" in french and "Rechercher des commandes" in french
    italian = support_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="it-IT").content.decode()
    assert _lang(italian) == "it" and "Esci" in italian and ">IT<" in _language_link(italian)
    # A language the dashboard does not speak: the shop's.
    settings.LANGUAGE_CODE = "it"
    german = support_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert _lang(german) == "it" and "Esci" in german
    settings.LANGUAGE_CODE = "en"
    english = support_client.get(PAGE).content.decode()
    assert _lang(english) == "en" and "Sign out" in english


def test_a_chosen_language_beats_the_browser_and_survives_a_reload_and_a_new_session(
    support_client: Client, support_user: User
) -> None:
    form = support_client.get(URL, {"next": PAGE}, HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert 'name="language"' in form and "La lingua del browser (ora Italiano)" in form
    response = support_client.post(URL, {"language": "fr", "next": PAGE}, HTTP_ACCEPT_LANGUAGE="it")
    assert response.status_code == 302 and response["Location"] == PAGE
    assert StaffPreferences.objects.get(user=support_user).language == "fr"
    page = support_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert _lang(page) == "fr"
    assert "Enregistré : les pages s'affichent maintenant dans cette langue." in html.unescape(page)
    assert ">FR<" in _language_link(page) and "votre langue" in _language_link(page)
    reload = support_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert _lang(reload) == "fr" and "Se déconnecter" in reload
    # Signing in again (a new session) reads the choice back from the database.
    fresh = Client()
    fresh.force_login(support_user)
    assert _lang(fresh.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()) == "fr"
    # Back to the browser's language.
    support_client.post(URL, {"language": "", "next": PAGE})
    assert _lang(support_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="it").content.decode()) == "it"


def test_a_page_costs_no_query_for_the_language_once_the_session_knows_it(
    support_client: Client, support_user: User
) -> None:
    StaffPreferences.objects.create(user=support_user, language="it", time_zone="Europe/Rome")
    with CaptureQueriesContext(connection) as first:
        support_client.get(PAGE)  # the session learns zone and language, in one query
    with CaptureQueriesContext(connection) as second:
        page = support_client.get(PAGE).content.decode()
    assert _lang(page) == "it"
    reads = [query["sql"] for query in first.captured_queries if '"staff_staffpreferences"' in query["sql"]]
    assert len([sql for sql in reads if '"language"' in sql and '"time_zone"' in sql]) >= 1
    # The page itself (the time-zone form) reads the preferences row once; the middleware does not.
    middleware_reads = [
        sql
        for sql in (query["sql"] for query in second.captured_queries)
        if '"staff_staffpreferences"."language"' in sql and '"staff_staffpreferences"."digest_at"' not in sql
    ]
    assert middleware_reads == []


def test_a_language_that_is_not_offered_is_refused_with_a_sentence(
    support_client: Client, support_user: User
) -> None:
    response = support_client.post(URL, {"language": "de"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not StaffPreferences.objects.filter(user=support_user).exists()


def test_the_sign_in_page_follows_the_browser() -> None:
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert _lang(page) == "fr"
    assert Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="it").headers["Content-Language"] == "it"


@pytest.mark.parametrize("language", ["fr", "it"])
def test_the_base_layout_and_the_language_page_show_none_of_our_english(
    support_client: Client, language: str
) -> None:
    page = support_client.get(URL, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert untranslated(page, language) == []
    # The helper does see our English: the same page in English shows the layout's words.
    english = support_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    found = untranslated(english, language)
    assert {"Sign out", "Search orders", "Skip to main content", "Your language", "Download records"} <= set(
        found
    ), found
    # "Main" (la main) and the language names quoted in their own language are never taken for English.
    assert "Main" not in found and "English" in visible_text(english, "en")
