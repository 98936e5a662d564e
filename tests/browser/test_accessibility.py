"""Accessibility in a real Chromium: axe-core (bundled by axe-playwright-python, no network) on every page
kind, signed in as each role where pages differ, at a laptop's and a phone's width: no serious or
critical violation. Then what axe cannot judge: the keyboard path, the focus ring, htmx updates read
aloud."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.browser.conftest import EXAMPLE_ORDER_ID, prepare_tour, sign_in
from tests.conftest import Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Axe()
SERIOUS = ("serious", "critical")
SIZES = ({"width": 1280, "height": 900}, {"width": 375, "height": 812})

# Every data table says what it is (a caption) and names its columns (th).
TABLES_NAMED = """() => Array.from(document.querySelectorAll("main table")).filter(
  (table) => !table.caption || !table.caption.textContent.trim() || !table.querySelector("th")
).map((table) => table.className || "a table")"""

# The focused element's ring: outline (or box-shadow) drawn around it.
FOCUS_RING = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    tag: element.tagName, text: (element.textContent || element.name || "").trim().slice(0, 40),
    outline: style.outlineStyle !== "none" ? parseFloat(style.outlineWidth) : 0,
    shadow: style.boxShadow !== "none",
  };
}"""


def _axe_problems(page: Page, where: str) -> list[str]:
    results = AXE.run(page)
    return [
        f"{where}: {violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


def _tour(page: Page, pages: dict[str, str], role: str) -> list[str]:
    problems: list[str] = []
    for kind, url in pages.items():
        for size in SIZES:
            page.set_viewport_size(size)
            if size is SIZES[0]:
                page.goto(url)
                expect(page.locator("main#main")).to_be_visible()
                unnamed = page.evaluate(TABLES_NAMED)
                if unnamed:
                    problems.append(f"{role} {kind}: tables without a caption or headers: {unnamed}")
            problems += _axe_problems(page, f"{role} {kind} at {size['width']} px")
    return problems


def test_the_axe_check_finds_what_it_should(page: Page) -> None:
    page.set_content('<html lang="en"><body><main><img src="x.png"><input type="text"></main></body></html>')
    found = " ".join(_axe_problems(page, "sample"))
    assert "image-alt (critical)" in found and "label (critical)" in found


def test_every_page_kind_has_no_serious_axe_violation_for_any_role_or_width(
    page: Page, merchant_user: User, support_user: User, sandbox: Sandbox
) -> None:
    tour = prepare_tour(page, sandbox, merchant_user)
    problems = _tour(page, tour.merchant_pages(), "Merchant")
    page.context.clear_cookies()
    sign_in(page, support_user)
    problems += _tour(page, tour.support_pages(), "Support")
    page.context.clear_cookies()
    problems += _tour(page, {"sign-in": "/accounts/login/"}, "Signed out")
    assert problems == [], "\n".join(problems)


def test_from_the_search_box_two_tabs_reach_resend_and_its_focus_ring_is_strong(
    page: Page, support_user: User
) -> None:
    sign_in(page, support_user)
    page.goto(f"/orders/{EXAMPLE_ORDER_ID}/")
    # The first Tab offers the skip link, visibly; Enter moves into the page.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] > 10
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    page.locator("body").press("/")
    expect(page.locator("#site-search-q")).to_be_focused()
    tabs = 0
    resend = page.get_by_role("button", name="Resend download e-mail")
    while tabs < 12 and not resend.evaluate("element => element === document.activeElement"):
        page.keyboard.press("Tab")
        tabs += 1
    assert tabs <= 2, f"{tabs} Tabs from the search box to Resend"
    ring = page.evaluate(FOCUS_RING)
    assert ring["outline"] >= 3, ring


def test_every_control_shows_where_the_keyboard_is(page: Page, merchant_user: User) -> None:
    sign_in(page, merchant_user)
    for url in (f"/orders/{EXAMPLE_ORDER_ID}/", "/downloads/", "/audit/"):
        page.goto(url)
        page.locator("body").click(position={"x": 1, "y": 1})
        seen = []
        for _ in range(30):
            page.keyboard.press("Tab")
            ring = page.evaluate(FOCUS_RING)
            if ring["tag"] == "BODY":
                break
            seen.append(ring)
        faint = [ring for ring in seen if ring["outline"] < 2 and not ring["shadow"]]
        assert len(seen) >= 10 and faint == [], (url, faint)


def test_htmx_updates_are_read_aloud_from_a_live_region(
    page: Page, merchant_user: User, sandbox: Sandbox
) -> None:
    tour = prepare_tour(page, sandbox, merchant_user)
    live = page.locator("#live-status")
    page.goto("/orders/")
    expect(live).to_have_attribute("aria-live", "polite")
    page.locator("#site-search-q").fill("99999999")
    expect(live).to_have_text("No order has the number 99999999.")
    page.goto("/downloads/")
    page.locator("#records-q").fill(str(tour.order_number))
    expect(live).to_have_text(re.compile(r"^1 record matching"))
    row = page.locator(f"#record-{tour.record_id}")
    row.locator("input[name=count]").fill("6")
    row.get_by_role("button", name="Save").click()
    expect(live).to_contain_text("download count is 6")
