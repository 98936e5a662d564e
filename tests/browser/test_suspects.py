"""The link-scanner line of the order page and the daily digest's settings, in a real Chromium: axe finds
nothing serious at a laptop's and a phone's width, and the give-back fix is a confirmed click that leaves an
undo at hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from downloads.models import CountChange
from tests.browser.conftest import EXAMPLE_ORDER_ID, sign_in
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi
from tests.support.fileflare_says import email_sent_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = ({"width": 1280, "height": 900}, {"width": 375, "height": 812})


def _serious(page: Page, where: str) -> list[str]:
    return [
        f"{where}: {violation['id']}: {violation['help']}"
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_the_suspect_line_and_the_digest_page_are_accessible_and_the_fix_is_one_confirmed_click(
    page: Page, merchant_user: User, sandbox: Sandbox
) -> None:
    api = DownloadsApi(sandbox)
    record = api.for_order(1050)[0]
    api.patch(record["download_id"], download_count=3)
    # Order #1050's e-mail as the sandbox says now (an earlier test of this process may have resent it).
    sent = email_sent_at(sandbox, 1050)
    assert sent is not None
    for minutes, count, delta, latest in ((-1, 0, 0, False), (2, 3, 3, True)):
        seen = sent + timedelta(minutes=minutes)
        CountChange.objects.create(
            download_id=record["download_id"], order_number=1050, product_id=int(record["product_id"]),
            file_name=record["download_file_name"], count=count, delta=delta, seen_at=seen,
            hour=seen.replace(minute=0, second=0, microsecond=0), source="snapshot", latest=latest,
        )
    sign_in(page, merchant_user)
    problems: list[str] = []
    for url in (f"/orders/{EXAMPLE_ORDER_ID}/", "/staff/digest/"):
        page.goto(url)
        for size in SIZES:
            page.set_viewport_size(size)
            problems += _serious(page, f"{url} at {size['width']} px")
    assert problems == [], "\n".join(problems)

    page.set_viewport_size(SIZES[1])
    page.goto(f"/orders/{EXAMPLE_ORDER_ID}/#suspects")
    line = page.locator("#suspects")
    expect(line).to_contain_text("3 downloads within 2 minutes of the e-mail: possibly a link scanner")
    page.once("dialog", lambda dialog: dialog.accept())
    line.get_by_role("button", name="Give back 3 downloads").click()
    expect(page.locator(".flash")).to_contain_text("Gave back 3 downloads")
    expect(page.locator(".flash").get_by_role("link", name="Undo")).to_be_visible()
    expect(page.locator("#suspects")).to_contain_text("Given back by")
    assert api.get(record["download_id"])["download_count"] == 0  # type: ignore[index]
