"""A real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright."""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import TEST_PASSWORD, Sandbox
from tests.downloads.conftest import DownloadsApi, _order_numbers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live_server: object, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    yield new_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        new_page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def sign_in(page: Page, user: User) -> None:
    """Sign in through the real form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


# --- Every page kind, for the layout and accessibility tours (test_layout.py, test_accessibility.py) ---

EXAMPLE_ORDER_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"  # order #1050 in the seeded sandbox
EXAMPLE_TOKEN = "0c732eb6fd9802a0821a9d29888baee8"  # its customer's order-status token
# Words a narrow cell must never split, and one long unbroken name that must not push the page wider.
WORDY_NAME = "Budget Planner - Bonus edition, family pack.pdf"
UNBROKEN_NAME = "budget_planner_bonus_edition_for_the_whole_family_printable_a4_and_letter_v2.pdf"


@dataclass
class Tour:
    """The URLs of every page kind, with data on them: a record with long names, a count change and a
    deletion in the audit log (made through the dashboard itself, as a person would)."""

    order_number: int
    record_id: str
    other_record_id: str
    undo_count_url: str = ""
    undo_restore_url: str = ""
    dry_run_url: str = ""

    def merchant_pages(self) -> dict[str, str]:
        return {
            "orders list": "/orders/",
            "search results": "/orders/?q=99999999",
            "order page": f"/orders/{EXAMPLE_ORDER_ID}/",
            "resend confirmation": f"/orders/{EXAMPLE_ORDER_ID}/resend/",
            "customer view": f"/orders/customer/{EXAMPLE_TOKEN}/",
            "records list": f"/downloads/?q={self.order_number}",
            "record create": "/downloads/new/",
            "record edit": f"/downloads/{self.record_id}/edit/",
            "record delete": f"/downloads/{self.record_id}/delete/",
            "audit log": "/audit/",
            "undo confirmation": self.undo_count_url,
            "restore confirmation": self.undo_restore_url,
            "bulk fixes": "/jobs/",
            "new bulk fix": "/jobs/new/",
            "bulk fix dry run": self.dry_run_url,
            "status": "/status/",
            "reports": "/reports/?range=30d",
            "time zone": "/staff/time-zone/",
            "404": "/orders/not-a-page/",
        }

    def support_pages(self) -> dict[str, str]:
        """Where Support sees something else: count-only editing, refusals, no create or delete."""
        return {
            "order page": f"/orders/{EXAMPLE_ORDER_ID}/",
            "records list": f"/downloads/?q={self.order_number}",
            "record edit": f"/downloads/{self.record_id}/edit/",
            "audit log": "/audit/",
            "undo confirmation": self.undo_count_url,
            "reports": "/reports/?range=7d",
            "403": "/downloads/new/",
        }


def prepare_tour(page: Page, sandbox: Sandbox, merchant: User) -> Tour:
    """Records at the sandbox, then a count fix and a deletion through the dashboard (signed in as
    `merchant`, who stays signed in)."""
    order_number = next(_order_numbers)
    api = DownloadsApi(sandbox)
    record = api.create(
        product_id=71022903, order_id=order_number, download_count=3, download_file_name=WORDY_NAME,
        is_amazon=True, amazon_key=f"downloads/{UNBROKEN_NAME}",
    )
    other = api.create(
        product_id=71022904, order_id=order_number, download_count=1, download_file_name=UNBROKEN_NAME
    )
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, merchant)
    page.goto(f"/downloads/?q={order_number}")
    row = page.locator(f"#record-{record['download_id']}")
    row.locator("input[name=count]").fill("5")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".row-message")).to_contain_text("Saved")
    page.goto(f"/downloads/{other['download_id']}/delete/")
    page.get_by_role("button", name="Delete record").click()
    expect(page.locator(".flash")).to_be_visible()
    tour = Tour(order_number, record["download_id"], other["download_id"])
    page.goto(f"/audit/?download_id={record['download_id']}")
    tour.undo_count_url = page.get_by_role("link", name="with a reason…").first.get_attribute("href") or ""
    page.goto(f"/audit/?download_id={other['download_id']}")
    tour.undo_restore_url = page.get_by_role("link", name="with a reason…").first.get_attribute("href") or ""
    # A bulk fix's dry run (nothing runs without a task worker; the dry run needs none).
    page.goto("/jobs/new/")
    page.get_by_label("Order numbers").fill(f"#{order_number}")
    page.get_by_label("Reset the download count to 0").check()
    page.get_by_label("Reason").fill("Layout and accessibility tour")
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("#dry-run-summary")).to_be_visible()
    tour.dry_run_url = page.url
    assert tour.undo_count_url and tour.undo_restore_url
    return tour


def sideways_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its window (0 = no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


# No htmx request or swap under way, no transition running (a fading "Searching…" is not a contrast problem).
# `page.wait_for_function(SETTLED)` before acting on what a swap put in place.
SETTLED = """() => !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")
  && document.getAnimations().every((animation) => animation.playState !== "running")"""
