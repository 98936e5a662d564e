"""The language picker in a real Chromium (issue 30): from the header's language link a person picks
Français; the page, its <html lang> and the header follow, survive a reload, fit 375 px and pass axe."""

from __future__ import annotations

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.browser.conftest import sideways_overflow, sign_in
from tests.browser.test_accessibility import _axe_problems
from tests.support.i18n import untranslated


def test_a_person_picks_french_in_the_header_and_keeps_it(page: Page, support_user: User) -> None:
    sign_in(page, support_user)
    page.goto("/staff/time-zone/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="your language").click()
    page.get_by_label("Français").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(page.locator(".language-link")).to_contain_text("FR")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto("/staff/language/")  # the picker and the layout are translated (other pages: their lanes')
    assert untranslated(page.content(), "fr") == []
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert sideways_overflow(page) == 0, f"{width} px"
        assert _axe_problems(page, f"language page in French at {width} px") == []
