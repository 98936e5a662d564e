"""The Reports page in a real Chromium, with a week of the demo shop's life on it: its charts load as
pictures (no script), axe finds nothing serious for either role at a laptop's or a phone's width, nothing
scrolls sideways and its tables stack on a phone; and the README's picture of it, taken from the demo's
own world (`make screenshots`)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.conftest import sideways_overflow, sign_in
from tests.browser.test_accessibility import _axe_problems
from tests.browser.test_layout import LAPTOP, PHONE, STACKED
from tests.conftest import Sandbox, _make_user
from tests.insights.snapshot import snapshot_every_count

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every chart on the page is a loaded picture with its sentence as alt text.
CHARTS_LOADED = """() => Array.from(document.querySelectorAll("img.report-chart")).map(
  (img) => ({src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0, alt: img.alt})
)"""


def _a_week_of_the_demo(sandbox: Sandbox) -> None:
    """The demo's world as `make run` lives it, a week long: each day, the trickle's customers, new
    orders and link scanners for some hours, then a snapshot of every count (as the snapshot chain
    takes them)."""
    today = timezone.now().replace(minute=0, second=0, microsecond=0)
    snapshot_every_count(today - timedelta(days=7, hours=1))
    for days_ago in range(7, -1, -1):
        started = today - timedelta(days=days_ago, hours=10)
        sandbox.trickle(steps=24, at=started.isoformat(), every=900, seed=29)
        snapshot_every_count(started + timedelta(hours=7))


def _charts(page: Page) -> list[dict[str, object]]:
    page.wait_for_load_state("networkidle")
    return page.evaluate(CHARTS_LOADED)


def test_the_reports_page_passes_axe_fits_a_phone_and_its_charts_are_pictures_for_both_roles(
    page: Page, merchant_user: User, support_user: User, sandbox: Sandbox
) -> None:
    _a_week_of_the_demo(sandbox)
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    problems: list[str] = []
    for user, charts in ((merchant_user, 6), (support_user, 4)):
        page.context.clear_cookies()
        sign_in(page, user)
        for size in (LAPTOP, PHONE):
            page.set_viewport_size(size)
            page.goto("/reports/?range=7d")
            expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
            shown = _charts(page)
            assert len(shown) == charts, shown
            assert all(chart["loaded"] and str(chart["alt"]).startswith("Chart: ") for chart in shown), shown
            problems += _axe_problems(page, f"{user.get_username()} at {size['width']} px")
            if sideways_overflow(page) > 0:
                wide = sideways_overflow(page)
                problems.append(f"{user.get_username()}: {wide} px too wide at {size['width']} px")
            if size is PHONE and not page.evaluate(STACKED):
                problems.append(f"{user.get_username()}: a table does not stack at 375 px")
    assert problems == [], "\n".join(problems)
    assert failed == []
    expect(page.locator("#figure-downloads .report-summary")).to_contain_text("downloads from")


def test_the_readme_picture_of_the_reports_page_is_taken_from_the_demo(
    page: Page, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The demo's own account ("merchant", as `make run` makes it) on a week of the demo's life."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    _a_week_of_the_demo(sandbox)
    sign_in(page, _make_user("merchant", "Merchant"))
    page.set_viewport_size({"width": 1280, "height": 1500})
    page.goto("/reports/?range=7d")
    expect(page.locator("#figure-downloads .report-summary")).to_contain_text("downloads from")
    assert all(chart["loaded"] for chart in _charts(page))
    path = folder / "reports-page.png"
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and 5_000 < len(data) < 600_000, len(data)
