"""The Orders page's "ordered from … to …" filter in a real Chromium: with htmx the results swap in place
(the address follows, paging keeps the days, the focus stays on the button), and without JavaScript the
same form is a plain GET. A bad date is a sentence the screen reader hears, and the boxes keep it."""

import re

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from fileflare_admin.api.http import FILEFLARE
from orders_index import sync
from tests.browser.conftest import sign_in
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser
DAYS = re.compile(r"ordered_from=2026-10-01&ordered_to=2026-10-03")


def _index_newest_orders() -> None:
    """The sync's first step, as the worker runs it: the newest 1,000 orders (1 Oct 2026 among them)."""
    state = sync.sync_row(FILEFLARE.identity())
    sync.read_once(state, sync.Read(page=1, refresh=True))
    cache.clear()


def _choose_days(page: Page) -> None:
    page.get_by_label("Ordered from").fill("2026-10-01")
    page.get_by_label("Ordered to").fill("2026-10-03")


def test_the_days_filter_swaps_the_results_and_pages_keep_it(page: Page, support_user: User) -> None:
    _index_newest_orders()
    sign_in(page, support_user)
    page.goto("/orders/")
    page.evaluate("window.stayedOnPage = true")
    _choose_days(page)
    page.locator("#order-dates-show").click()
    results = page.locator("#order-results")
    expect(results).to_contain_text(re.compile(r"\d+ orders were placed between 1 Oct 2026 and 3 Oct 2026\."))
    expect(page).to_have_url(DAYS)
    expect(page.locator("#order-dates-show")).to_be_focused()
    expect(page.locator("#live-status")).to_contain_text("orders were placed between 1 Oct 2026")
    page.get_by_role("link", name="Older →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page).to_have_url(DAYS)
    expect(results).to_contain_text("Page 2")
    assert page.evaluate("window.stayedOnPage") is True

    page.get_by_label("Ordered from").fill("2026-10-05")
    page.locator("#order-dates-show").click()
    expect(page.get_by_role("alert")).to_have_text(
        "“Ordered from” (5 Oct 2026) is after “to” (3 Oct 2026): choose a “to” day on or after the “from” "
        "day, or swap the two."
    )
    expect(page.get_by_label("Ordered from")).to_have_value("2026-10-05")
    expect(page.locator("table.orders")).to_have_count(0)


def test_without_javascript_the_days_filter_is_a_plain_form(
    browser: Browser, live_server: object, support_user: User
) -> None:
    _index_newest_orders()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(support_user.get_username())
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/orders/")
        _choose_days(page)
        page.locator("#order-dates-show").click()
        expect(page).to_have_url(DAYS)
        expect(page.locator("#order-results")).to_contain_text("orders were placed between 1 Oct 2026")
    finally:
        context.close()
