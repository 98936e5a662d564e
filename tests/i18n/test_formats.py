"""Dates and numbers in the page's language (issue 30, item 2): "15 608", "1 536", "7 déc. 2026, 10:42";
a count typed as a person of that language groups it is accepted; IDs, URLs and form values never change."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from downloads.forms import CountForm, RecordForm
from fileflare_admin import clock
from fileflare_admin.numbers import grouped, parse_grouped
from fileflare_admin.templatetags.display import thousands, when

NBSP = "\xa0"
MOMENT = datetime(2026, 12, 7, 10, 42, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "count", "date"),
    [
        ("en", "15,608", "7 Dec 2026, 10:42 UTC"),
        ("fr", f"15{NBSP}608", "7 déc. 2026, 10:42 UTC"),
        ("it", f"15{NBSP}608", "7 dic 2026, 10:42 UTC"),
    ],
)
def test_counts_and_dates_are_written_in_the_languages_formats(language: str, count: str, date: str) -> None:
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo("UTC")):
        assert thousands(15608) == grouped(15608) == count
        assert thousands(7) == "7" and thousands("1050") == "1050"  # text (an ID as the API sent it) stays
        assert clock.date_time(MOMENT) == date
        assert clock.date_time(MOMENT, seconds=True) == date.replace("10:42", "10:42:05")
        assert f">{date}</time>" in when(MOMENT)


def test_a_january_date_in_each_language() -> None:
    moment = datetime(2023, 1, 8, 21, 50, tzinfo=UTC)
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        shown = {}
        for language in ("en", "fr", "it"):
            with translation.override(language):
                shown[language] = clock.date_time(moment)
    assert shown == {
        "en": "8 Jan 2023, 21:50 UTC",
        "fr": "8 jan. 2023, 21:50 UTC",
        "it": "8 gen 2023, 21:50 UTC",
    }


# The count's error, in the page's language (downloads/forms.py).
WHOLE_NUMBER = {
    "en": "Enter a whole number, 0 or more.",
    "fr": "Saisissez un nombre entier, 0 ou plus.",
    "it": "Inserisci un numero intero, 0 o più.",
}


@pytest.mark.parametrize(
    ("language", "typed", "read"),
    [
        ("fr", "1 536", 1536),
        ("fr", f"1{NBSP}536", 1536),
        ("fr", "1\u202f536", 1536),  # narrow no-break space, as a French keyboard layout types it
        ("fr", "1.536", 1536),
        ("it", "1.536", 1536),
        ("it", "1 536", 1536),
        ("it", "1.234.567", 1234567),
        ("en", "1,536", 1536),
        ("en", " 1536 ", 1536),
        ("en", "1.536", None),  # a decimal in English, not a count
        ("fr", "1,5", None),  # a decimal in French
        ("it", "1.5", None),  # not a group of three
        ("fr", "15 60", None),
        ("en", "1,536", 1536),
        ("fr", "douze", None),
    ],
)
def test_a_count_is_read_as_a_person_of_the_language_types_it(
    language: str, typed: str, read: int | None
) -> None:
    assert parse_grouped(typed, language) == read
    with translation.override(language):
        form = CountForm({"count": typed})
        assert form.is_valid() == (read is not None), form.errors
        if read is not None:
            assert form.cleaned_data["count"] == read
        else:
            assert form.errors["count"] == [WHOLE_NUMBER[language]]


def test_the_record_forms_count_is_a_text_box_with_the_numeric_keyboard_and_keeps_its_range() -> None:
    with translation.override("it"):
        data = {"download_count": "-1", "product_id": "1", "order_id": "1", "download_file_name": "a"}
        form = RecordForm(data)
        assert not form.is_valid()
        assert form.errors["download_count"] == ["Un numero di download non può essere inferiore a 0."]
        html = str(form["download_count"])
    assert 'type="text"' in html and 'inputmode="numeric"' in html


@pytest.mark.django_db
def test_a_french_merchant_creates_a_record_with_a_count_typed_1_536(merchant_client: Client) -> None:
    page = merchant_client.get(reverse("downloads:create"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    submission = re.search(r'name="submission" value="([^"]+)"', page).group(1)
    payload = {
        "submission": submission,
        "product_id": "31",
        "order_id": "930301",
        "download_count": "1 536",
        "download_file_name": "Catalogue de printemps.pdf",
        "reason": "",
    }
    response = merchant_client.post(reverse("downloads:create"), payload, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302, response.content.decode()
    listed = merchant_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    row = re.search(r'<input type="text" name="count" value="([^"]*)"', listed)
    assert row is not None and row.group(1) == "1536"  # a form's value is never grouped


@pytest.mark.django_db
def test_a_french_page_groups_its_counts_but_never_an_id_or_a_url(merchant_client: Client) -> None:
    page = merchant_client.get("/downloads/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    total = re.search(r"<strong>([\d\xa0]+)</strong>", page)
    assert total is not None and re.fullmatch(r"\d{1,3}(\xa0\d{3})+", total.group(1)), page[:2000]
    for attribute in re.findall(r'(?:href|value|action|id)="([^"]*)"', page):
        assert NBSP not in attribute and not re.search(r"\d\.\d{3}\b", attribute), attribute
