"""In a real Chromium: pages load with zero Content-Security-Policy violations, htmx and our own script
still work under the policy, and hostile upstream data opens no dialog and runs nothing."""

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import ConsoleMessage, Dialog, Page, Request, expect

from tests.browser.conftest import sign_in
from tests.conftest import Sandbox

# The role groups a data migration makes are recreated by the user fixtures (tests/conftest.py), so the
# flush after each transactional test needs no serialized rollback (which clashes with content types).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


@dataclass
class Watch:
    """Everything the page would have complained about or popped up."""

    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_quiet(self) -> None:
        assert self.csp_violations == [], self.csp_violations
        assert self.page_errors == [], self.page_errors
        assert self.dialogs == [], self.dialogs


@pytest.fixture
def watch(page: Page) -> Iterator[Watch]:
    seen = Watch()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            seen.csp_violations.append(message.text)

    def on_dialog(dialog: Dialog) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    page.on("dialog", on_dialog)
    yield seen


def _create_record(sandbox: Sandbox, **fields: Any) -> dict[str, Any]:
    body = {
        "product_id": 7002,
        "order_id": 1050,
        "download_count": 1,
        "download_file_name": "browser-security.pdf",
        "is_amazon": False,
        "amazon_key": "",
        **fields,
    }
    request = urllib.request.Request(  # noqa: S310 (loopback sandbox)
        f"{sandbox.downloads_url}/downloads",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {sandbox.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def test_pages_load_with_no_csp_violation_and_htmx_works_under_the_policy(
    page: Page, watch: Watch, merchant_user: User, sandbox: Sandbox
) -> None:
    record = _create_record(sandbox, download_file_name="csp-check-unique-7a1.pdf", download_count=2)
    page.goto("/accounts/login/")
    sign_in(page, merchant_user)
    for url in ("/orders/", "/downloads/", "/downloads/new/", "/audit/", "/status/"):
        page.goto(url)
        expect(page.locator("main#main")).to_be_visible()
    # Our own script: "/" focuses the search box.
    page.goto("/downloads/")
    page.locator("body").press("/")
    expect(page.locator("#site-search-q")).to_be_focused()
    # htmx GET: typing in the records search swaps the results in place and pushes the URL.
    page.locator("#records-q").fill("csp-check-unique-7a1")
    expect(page).to_have_url(re.compile(r"[?&]q=csp-check-unique-7a1"))
    row = page.locator(f"#record-{record['download_id']}")
    expect(row).to_be_visible()
    # htmx POST (CSRF token from hx-headers): the in-place count fix answers the row.
    row.locator("input[name=count]").fill("3")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#record-{record['download_id']}")).to_contain_text("Saved: download count is 3")
    watch.assert_quiet()


def test_the_sign_in_page_and_a_lockout_load_with_no_csp_violation(
    page: Page, watch: Watch, support_user: User
) -> None:
    page.goto("/accounts/login/")
    for attempt in range(5):
        page.get_by_label("Username").fill(support_user.username)
        page.get_by_label("Password").fill(f"wrong-{attempt}")
        page.get_by_role("button", name="Sign in").click()
    locked = "Too many failed sign-ins for this account: it is locked"
    expect(page.get_by_role("alert")).to_contain_text(locked)
    watch.assert_quiet()


def test_a_hostile_download_record_renders_as_inert_text(
    page: Page, watch: Watch, merchant_user: User, sandbox: Sandbox
) -> None:
    name = f"hostile-browser-{XSS}\u202egnp.exe"
    key = f"javascript:alert(3)//{XSS}"
    record = _create_record(sandbox, download_file_name=name, is_amazon=True, amazon_key=key)
    page.goto("/accounts/login/")
    sign_in(page, merchant_user)
    download_id = record["download_id"]
    for url in (
        f"/downloads/?q={download_id}",
        f"/downloads/{download_id}/edit/",
        f"/downloads/{download_id}/delete/",
    ):
        page.goto(url)
        expect(page.locator("main#main")).to_contain_text("hostile-browser-")
        # The markup from the data is text on the page, never elements.
        assert page.locator("main img[src='x']").count() == 0, url
        assert page.locator("main script").count() == 0, url
        assert page.locator("main a[href^='javascript:' i]").count() == 0, url
    # The delete page's confirmation works and the audit log shows the snapshot, still inert.
    page.goto("/audit/")
    expect(page.locator("main#main")).to_be_visible()
    assert page.locator("main img[src='x']").count() == 0
    watch.assert_quiet()


def test_a_hostile_order_renders_as_inert_text(
    page: Page, watch: Watch, support_user: User, sandbox: Sandbox
) -> None:
    data_url = "data:text/html,<script>alert(5)</script>"
    order = sandbox.create_order(
        {
            "lines": [
                {
                    "product": {"name": f"hostile-product-{XSS}\u202e", "tags": [XSS], "vendor": XSS},
                    "assets": [
                        {"filename": f"bad-link-{XSS}", "is_link": True, "url": "javascript:alert(4)"},
                        {"filename": "data-link", "is_link": True, "url": data_url},
                        {"filename": "good-link", "is_link": True, "url": "https://files.example.com/ok.pdf"},
                    ],
                }
            ],
            "assets": [{"filename": f"order-file-{XSS}", "is_file": True}],
            "text": {"title": XSS, "text": f"{XSS}\n<iframe src=javascript:alert(6)></iframe>"},
        }
    )
    page.goto("/accounts/login/")
    sign_in(page, support_user)
    for url in (f"/orders/customer/{order['customer_token']}/", f"/orders/{order['id']}/", "/orders/"):
        page.goto(url)
        expect(page.locator("main#main")).to_be_visible()
        assert page.locator("main img, main iframe, main script").count() == 0, url
        assert page.locator("main a[href^='javascript:' i], main a[href^='data:' i]").count() == 0, url
        if url != "/orders/":
            expect(page.locator("main")).to_contain_text("hostile-product-")
            good = page.locator("main a[href='https://files.example.com/ok.pdf']").first
            expect(good).to_have_attribute("rel", re.compile("noreferrer"))
    watch.assert_quiet()


def test_djangos_admin_works_under_the_policy(page: Page, watch: Watch, admin_user: User) -> None:
    page.goto("/accounts/login/")
    sign_in(page, admin_user)
    for url in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{admin_user.pk}/change/"):
        page.goto(url)
        expect(page.locator("#content")).to_be_visible()
    # The admin's own scripts run (its changelist "select all" box ticks every row).
    page.goto("/admin/auth/user/")
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select").first).to_be_checked()
    watch.assert_quiet()


def test_htmx_paging_on_the_orders_page_works_under_the_policy(
    page: Page, watch: Watch, support_user: User
) -> None:
    page.goto("/accounts/login/")
    sign_in(page, support_user)
    page.goto("/orders/")
    first_order = page.locator("#order-results table a").first.inner_text()
    def by_htmx(request: Request) -> bool:
        return "page=2" in request.url and request.headers.get("hx-request") == "true"

    with page.expect_request(by_htmx):  # swapped in place by htmx, not a full page load
        page.get_by_role("link", name="Older →").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(page.locator("#order-results table a").first).not_to_have_text(first_order)
    watch.assert_quiet()
