"""Issue 30.3 in a real Chromium: a French support person writes to an Italian customer. Picking the
reply's language swaps the reply box only (htmx): what they typed elsewhere on the page stays, the
situation they picked stays, the page stays French; the box fits 375 px and passes axe."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from staff.models import StaffPreferences
from tests.browser.conftest import SETTLED, sideways_overflow, sign_in
from tests.browser.test_accessibility import _axe_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"


def test_a_french_support_person_picks_italian_for_the_reply_without_losing_what_they_typed(
    page: Page, support_user: User
) -> None:
    sign_in(page, support_user)
    page.goto("/staff/language/")
    page.get_by_label("Français").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert StaffPreferences.objects.get(user=support_user).language == "fr"
    page.goto(f"/orders/{EXAMPLE_ID}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    reply = page.locator("#support-reply")
    expect(reply).to_have_value(re.compile(r"^Bonjour,"))
    page.locator("#resend-reason").fill("la cliente a perdu l'e-mail")  # typed, not sent

    page.locator("#reply-situation").select_option("blocked")
    expect(reply).to_have_value(re.compile(r"^Bonjour,[\s\S]*nous le corrigeons"))
    page.wait_for_function(SETTLED)  # the swapped-in form settled: the next choice goes to its new select
    page.locator("#reply-language").select_option("it")
    expect(reply).to_have_value(re.compile(r"^Ciao,[\s\S]*ordine n\. 1050[\s\S]*lo stiamo risolvendo"))
    expect(reply).to_have_attribute("lang", "it")
    expect(page.locator("#reply-situation")).to_have_value("blocked")  # the other choice kept
    expect(page.locator("#resend-reason")).to_have_value("la cliente a perdu l'e-mail")  # nothing lost
    expect(page).to_have_url(re.compile(f"/orders/{EXAMPLE_ID}/$"))  # swapped in place, no navigation
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    page.wait_for_function(SETTLED)
    page.locator("#reply-situation").select_option("ready")  # the language stays Italian
    expect(reply).to_have_value(re.compile(r"^Ciao,[\s\S]*ecco i file del tuo ordine n\. 1050"))
    expect(page.locator("#reply-language")).to_have_value("it")
    page.reload()  # this order's customer is still written to in Italian
    expect(page.locator("#support-reply")).to_have_value(re.compile(r"^Ciao,"))

    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert sideways_overflow(page) == 0, f"{width} px"
    assert _axe_problems(page, "order page with an Italian reply, in French") == []
