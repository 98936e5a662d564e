"""Every page kind on a phone (375 px) and a laptop (1280 px), in a real Chromium: nothing scrolls
sideways, tables become "label: value" rows on a phone, names wrap between words, the audit log's Undo
stays in view on a wide screen, and the order page's actions come first on a phone.

`make screenshots` runs the README pictures test with SCREENSHOTS_DIR=docs to refresh the README's pictures.
"""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import (
    EXAMPLE_ORDER_ID,
    UNBROKEN_NAME,
    WORDY_NAME,
    prepare_tour,
    sideways_overflow,
    sign_in,
)
from tests.conftest import Sandbox, _make_user
from tests.downloads.conftest import DownloadsApi
from tests.support.i18n import untranslated

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 900}

# Words of `selector`'s text that the browser split over two lines (empty when every word is whole).
SPLIT_WORDS = """(element) => {
  const split = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let start = 0;
    for (const word of node.data.split(/\\s/)) {
      if (word) {
        const range = document.createRange();
        range.setStart(node, start);
        range.setEnd(node, start + word.length);
        const lines = new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top)));
        if (lines.size > 1) split.push(word);
      }
      start += word.length + 1;
    }
  }
  return split;
}"""

# On a phone a table's header row is hidden and each cell is a "label: value" line of its own (an empty
# one is left out).
STACKED = """() => Array.from(document.querySelectorAll("main table.table")).every((table) => {
  const head = table.tHead;
  const cells = Array.from(table.querySelectorAll("tbody td"));
  return (!head || head.getBoundingClientRect().height <= 1)
    && cells.every((cell) => ["block", "none"].includes(getComputedStyle(cell).display));
})"""


def _tour_widths(page: Page, pages: dict[str, str], failed_loads: list[str]) -> list[str]:
    """Each page at 1280 px and at 375 px; what went wrong, as sentences."""
    problems: list[str] = []
    for kind, url in pages.items():
        page.set_viewport_size(LAPTOP)
        page.goto(url)
        expect(page.locator("main#main")).to_be_visible()
        if sideways_overflow(page) > 0:
            problems.append(f"{kind} ({url}) is {sideways_overflow(page)} px too wide at 1280 px")
        page.set_viewport_size(PHONE)
        if sideways_overflow(page) > 0:
            problems.append(f"{kind} ({url}) is {sideways_overflow(page)} px too wide at 375 px")
        if not page.evaluate(STACKED):
            problems.append(f"{kind} ({url}) has a table that does not stack into rows at 375 px")
    return problems + failed_loads


def _watch_loads(page: Page) -> list[str]:
    """Every page resource that failed to load (a missing favicon, a stylesheet): none is expected."""
    failed: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            failed.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    return failed


def test_no_page_kind_scrolls_sideways_at_375_or_1280_px_and_tables_stack_on_a_phone(
    page: Page, merchant_user: User, support_user: User, sandbox: Sandbox
) -> None:
    failed_loads = _watch_loads(page)
    tour = prepare_tour(page, sandbox, merchant_user)
    problems = _tour_widths(page, tour.merchant_pages(), failed_loads)

    page.context.clear_cookies()
    sign_in(page, support_user)
    problems += _tour_widths(page, tour.support_pages(), [])

    page.context.clear_cookies()
    problems += _tour_widths(page, {"sign-in": "/accounts/login/"}, [])
    assert problems == [], "\n".join(problems)
    assert any("favicon" in response for response in failed_loads) is False


def test_the_audit_log_fits_from_1280_to_1600_px_with_undo_and_restore_in_view(
    page: Page, merchant_user: User, sandbox: Sandbox
) -> None:
    prepare_tour(page, sandbox, merchant_user)
    page.goto("/audit/")
    for width in (1280, 1440, 1600):
        page.set_viewport_size({"width": width, "height": 900})
        table = page.locator("#audit-entries")
        expect(table).to_be_visible()
        assert sideways_overflow(page) == 0, width
        inner = page.evaluate("() => { const s = document.querySelector('.audit-scroll'); "
                              "return s.scrollWidth - s.clientWidth; }")
        assert inner <= 0, f"the audit table scrolls sideways by {inner} px at {width} px"
        for name in ("Undo", "Restore"):
            button = page.get_by_role("button", name=name, exact=True).first
            box = button.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (name, width, box)


def test_the_order_page_on_a_phone_starts_with_its_actions(page: Page, support_user: User) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, support_user)
    page.goto(f"/orders/{EXAMPLE_ORDER_ID}/")
    resend = page.get_by_role("button", name="Resend download e-mail")
    copy = page.get_by_role("button", name="Copy support reply")
    box, copy_box = resend.bounding_box(), copy.bounding_box()
    assert box is not None and copy_box is not None
    # Above the facts and the diagnosis, within the first screen, and whole.
    facts = page.locator("dl.facts").bounding_box()
    diagnosis = page.locator("#diagnosis").bounding_box()
    assert facts is not None and diagnosis is not None
    assert box["y"] + box["height"] <= PHONE["height"]
    assert box["y"] < facts["y"] and box["y"] < diagnosis["y"] and copy_box["y"] < facts["y"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert sideways_overflow(page) == 0


def test_long_names_wrap_between_words_and_a_name_without_spaces_never_widens_the_page(
    page: Page, merchant_user: User, sandbox: Sandbox
) -> None:
    tour = prepare_tour(page, sandbox, merchant_user)
    page.goto(f"/downloads/?q={tour.order_number}")
    for size in (PHONE, LAPTOP):
        page.set_viewport_size(size)
        name = page.locator(f"#record-{tour.record_id} td[data-label=File] span")
        expect(name).to_have_text(WORDY_NAME)
        assert name.evaluate(SPLIT_WORDS) == [], size
        assert sideways_overflow(page) == 0, size
    page.goto(f"/downloads/{tour.record_id}/edit/")
    page.set_viewport_size(PHONE)
    expect(page.get_by_label("S3 key")).to_have_value(f"downloads/{UNBROKEN_NAME}")
    assert sideways_overflow(page) == 0
    # The whole download ID is on the page, broken anywhere (it has no words).
    expect(page.locator("#record-download-id")).to_have_text(tour.record_id)
    # A shortened value keeps its whole text for hover.
    page.goto(f"/downloads/?q={tour.order_number}")
    expect(page.locator(f"#record-{tour.record_id} code").last).to_have_attribute("title", tour.record_id)


def test_the_support_replies_wrap_at_375_and_1280_px_for_both_roles(
    page: Page, merchant_user: User, support_user: User
) -> None:
    """Support reads the replies as text (long lines wrap), a Merchant edits them in boxes that fit."""
    for user in (support_user, merchant_user):
        page.context.clear_cookies()
        sign_in(page, user)
        page.goto("/orders/replies/")
        for size in (LAPTOP, PHONE):
            page.set_viewport_size(size)
            expect(page.get_by_role("heading", name="Support replies")).to_be_visible()
            assert sideways_overflow(page) == 0, (user.get_username(), size)


def test_a_bulk_fixs_record_ids_are_whole_at_375_px(
    page: Page, merchant_user: User, sandbox: Sandbox
) -> None:
    tour = prepare_tour(page, sandbox, merchant_user)
    page.set_viewport_size(PHONE)
    page.goto(tour.dry_run_url)
    ids = page.locator("#job-items-table td[data-label=Record] code")
    expect(ids.first).to_be_visible()
    for index in range(ids.count()):
        code = ids.nth(index)
        assert len(code.inner_text().replace("\n", "")) == 45
        box = code.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert code.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1"), "the ID is cut off"
    scrolled = page.evaluate("() => { const s = document.querySelector('#job-items .audit-scroll'); "
                             "return s.scrollWidth - s.clientWidth; }")
    assert scrolled <= 0, f"the items scroll sideways by {scrolled} px at 375 px"


def _readme_pictures(page: Page, folder: Path) -> list[Path]:
    pictures = []
    shots = [
        ("order-page.png", f"/orders/{EXAMPLE_ORDER_ID}/", LAPTOP),
        ("records-list.png", "/downloads/", LAPTOP),
        ("audit-log.png", "/audit/", LAPTOP),
        ("order-page-phone.png", f"/orders/{EXAMPLE_ORDER_ID}/", PHONE),
    ]
    for name, url, size in shots:
        page.set_viewport_size(size)
        page.goto(url)
        expect(page.locator("main#main")).to_be_visible()
        path = folder / name
        page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
        pictures.append(path)
    return pictures


def _french_twin(page: Page, folder: Path) -> Path:
    """The first picture's twin (README, "Languages"): the same order page after its person picks Français
    beside the zone link in the header, with none of our English left on it."""
    order_page = f"/orders/{EXAMPLE_ORDER_ID}/"
    page.set_viewport_size(LAPTOP)
    page.goto(order_page)
    page.locator("header .language-link").click()
    page.locator("main form input[name=language][value=fr]").check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(f"{order_page}$"))
    page.goto(order_page)  # as the English picture shows it, without the flash
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("main#main")).to_be_visible()
    assert untranslated(page.content(), "fr") == []
    path = folder / "order-page-fr.png"
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    return path


def test_the_readme_pictures_are_taken_from_the_demo_as_a_newcomer_sees_it(
    page: Page, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The demo's own account ("merchant", as `make run` makes it) and its own data: the newcomer's first
    fix is on the documented order #1050, and the log shows it (the sandbox's record is put back after);
    last, the order page's French twin."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    sign_in(page, _make_user("merchant", "Merchant"))
    api = DownloadsApi(sandbox)
    record = api.for_order(1050)[0]
    try:
        page.goto("/downloads/?q=order:1050")
        row = page.locator(f"#record-{record['download_id']}")
        row.get_by_role("button", name="Reset to 0").click()
        expect(row.locator(".row-message")).to_contain_text("Saved")
        pictures = _readme_pictures(page, folder)
        page.set_viewport_size(LAPTOP)
        page.goto("/audit/")
        entries = page.locator("#audit-entries")
        expect(entries).to_contain_text("#1050")
        expect(entries).to_contain_text("merchant")
        expect(page.get_by_label("Bulk fix")).to_be_visible()  # the log's filters, bulk fix among them
        page.goto("/downloads/")
        expect(page.locator(".results-summary")).to_contain_text(re.compile(r"\d{1,3}(,\d{3})+ records"))
        pictures.append(_french_twin(page, folder))
    finally:
        api.patch(record["download_id"], download_count=record["download_count"])
    for path in pictures:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG"), path
        assert 5_000 < len(data) < 400_000, (path, len(data))
