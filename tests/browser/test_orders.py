"""Support's main flows in a real headless Chromium, as a new user would click through them."""

import re

import pytest
import requests
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
NO_SCRIPT_ORDER = 3301  # resent only by the test without JavaScript
PLANNER = "Budget Planner - Bonus edition"  # order #1013's used-up file


def test_search_1050_open_the_order_copy_a_link_and_resend_the_email(
    page: Page, support_user: User, sandbox: Sandbox
) -> None:
    sign_in(page, support_user)
    questions: list[str] = []

    def accept(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.locator("body").press("/")
    page.keyboard.type("1050")
    page.keyboard.press("Enter")  # click 1: one match goes straight to the order
    expect(page).to_have_url(re.compile(f"/orders/{EXAMPLE_ID}/$"))
    expect(page.get_by_role("heading", name="Order #1050")).to_be_visible()

    page.get_by_role("button", name="Copy link").first.click()  # click 2
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert (
        page.evaluate("navigator.clipboard.readText()")
        == "https://www.my-website.com/download/my-book-part-2.pdf"
    )

    sent_before = len(sandbox.outbox())
    page.get_by_label("Reason (optional)").fill("customer lost the e-mail")
    page.get_by_role("button", name="Resend download e-mail").click()  # click 3, then confirm
    expect(
        page.get_by_role("status").filter(has_text="Download e-mail sent to the customer of order #1050")
    ).to_be_visible()
    assert questions == ["Resend the download e-mail to the customer of order #1050?"]
    assert len(sandbox.outbox()) == sent_before + 1
    expect(page.locator("#email-sent-at")).not_to_have_text("never")
    expect(page.locator("#order-timeline")).to_contain_text("Resent download e-mail")


def test_pasting_an_order_status_url_shows_what_the_customer_sees(page: Page, support_user: User) -> None:
    sign_in(page, support_user)
    page.locator("#site-search-q").fill(
        "https://my-store.com/account/orders/0c732eb6fd9802a0821a9d29888baee8"
    )
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="What the customer sees: order #1050")).to_be_visible()
    expect(page.get_by_text("downloaded 5 of 10")).to_be_visible()
    expect(page.get_by_text("No files for this product.")).to_be_visible()
    page.get_by_role("link", name="Open order #1050").click()
    expect(page.get_by_role("heading", name="Order #1050")).to_be_visible()
    expect(page.locator("#customer-view")).to_contain_text("downloaded 5 of 10")


def test_search_results_update_while_typing_on_the_orders_page(page: Page, support_user: User) -> None:
    sign_in(page, support_user)
    page.goto("/orders/")
    page.evaluate("window.stayedOnPage = true")
    page.locator("#site-search-q").fill("99999999")
    expect(page.locator("#order-results")).to_contain_text("No order has the number 99999999.")
    assert page.evaluate("window.stayedOnPage") is True
    expect(page).to_have_url(re.compile(r"/orders/\?q=99999999$"))


def test_without_javascript_resend_goes_through_the_confirmation_page(
    browser: Browser, live_server: object, support_user: User, sandbox: Sandbox
) -> None:
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        sign_in(page, support_user)
        page.locator("#site-search-q").fill(str(NO_SCRIPT_ORDER))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=f"Order #{NO_SCRIPT_ORDER}")).to_be_visible()
        sent_before = len(sandbox.outbox())
        page.get_by_label("Reason (optional)").fill("no script here")
        page.get_by_role("button", name="Resend download e-mail").click()
        expect(
            page.get_by_role("heading", name=f"Resend the download e-mail for order #{NO_SCRIPT_ORDER}?")
        ).to_be_visible()
        expect(page.get_by_label("Reason")).to_have_value("no script here")
        assert len(sandbox.outbox()) == sent_before  # asking sent nothing
        page.get_by_role("button", name="Resend e-mail").click()
        expect(page.get_by_role("heading", name=f"Order #{NO_SCRIPT_ORDER}")).to_be_visible()
        sent = page.get_by_text(f"Download e-mail sent to the customer of order #{NO_SCRIPT_ORDER} at")
        expect(sent).to_be_visible()
        assert len(sandbox.outbox()) == sent_before + 1
    finally:
        context.close()


def test_support_takes_1013_from_cant_download_to_can_download_with_the_reply_copied(
    page: Page, support_user: User, sandbox: Sandbox
) -> None:
    """The ticket: "order #1013: I can't download". From the search box to a customer who can download
    and a reply on the clipboard, without leaving the order page, in at most 4 clicks."""
    customer = sandbox.customer(1013)
    downloads = requests.Session()
    downloads.headers["Authorization"] = f"Bearer {sandbox.token}"
    found = downloads.get(f"{sandbox.downloads_url}/downloads", params={"search": "1013"}, timeout=10).json()
    record = next(
        row for row in found if row["order_id"] == 1013 and row["download_file_name"] == PLANNER
    )
    sign_in(page, support_user)
    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    order_page = re.compile(f"/orders/{customer['id']}/(#.*)?$")
    clicks = 0
    try:
        page.locator("#site-search-q").fill("Order #1013")  # as the ticket says it
        page.keyboard.press("Enter")
        expect(page).to_have_url(order_page)

        page.get_by_label("Customer's order-status link").fill(customer["order_status_url"])
        page.get_by_role("button", name="Show what they see").click()
        clicks += 1
        expect(page).to_have_url(order_page)
        expect(page.locator("#customer-view")).to_contain_text("downloaded 10 of 10")
        diagnosis = page.locator("#diagnosis")
        expect(diagnosis).to_contain_text(f"“{PLANNER}” has used 10 of 10 downloads")

        diagnosis.get_by_role("button", name="Give 5 more downloads").click()
        clicks += 1
        expect(page).to_have_url(order_page)
        expect(page.locator(".flash-success")).to_contain_text(
            f"Set the download count of “{PLANNER}” to 5. The customer now sees 5 of 10: they can download."
        )
        assert questions == [f"Give 5 more downloads for “{PLANNER}”? The customer should then see 5 of 10."]
        expect(page.locator("#customer-view")).to_contain_text("downloaded 5 of 10")
        expect(diagnosis).not_to_contain_text("has used")
        reply = page.locator("#support-reply")
        expect(reply).to_have_value(re.compile(f"I've reset your downloads for “{PLANNER}”"))
        expect(reply).to_have_value(re.compile(re.escape(customer["order_status_url"])))

        page.get_by_role("button", name="Copy support reply").click()
        clicks += 1
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == reply.input_value().strip()
        assert clicks <= 4
        url = f"{sandbox.downloads_url}/downloads/{record['download_id']}"
        assert downloads.get(url, timeout=10).json()["download_count"] == 5
    finally:  # the seeded order is shared by the whole run: put its count back
        url = f"{sandbox.downloads_url}/downloads/{record['download_id']}"
        downloads.patch(url, json={"download_count": 10}, timeout=10)


def test_a_merchant_attaches_part_2_sees_it_everywhere_and_undoes_it_from_the_audit_log(
    page: Page, merchant_user: User, sandbox: Sandbox
) -> None:
    made = sandbox.create_order(
        {"lines": [{"product": {"name": "Course"}, "assets": [{"filename": "course.pdf", "limit": 5}]}]}
    )
    sign_in(page, merchant_user)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"/orders/{made['id']}/")
    page.get_by_label("Customer's order-status link").fill(made["order_status_url"])
    page.get_by_role("button", name="Show what they see").click()

    page.get_by_label("File name contains").fill("part 2")  # htmx: the results come while typing
    first = page.locator("#asset-picker tbody tr").first
    expect(first.get_by_role("checkbox")).to_be_visible()
    name = first.locator("label").inner_text().strip()
    assert "part 2" in name.lower()
    first.get_by_role("checkbox").check()
    page.get_by_label("Reason (optional)", exact=True).last.fill("ticket 12: file added later")
    page.get_by_role("button", name="Attach chosen files").click()

    flash = page.locator(".flash-success")
    expect(flash).to_contain_text(f"Attached “{name}” to order #{made['order_number']}.")
    expect(flash).to_contain_text("The customer's page shows it now.")
    expect(flash.get_by_role("link", name="Resend the download e-mail")).to_be_visible()
    expect(page.locator("#order-assets")).to_contain_text(name)
    expect(page.locator("#customer-view")).to_contain_text(name)

    audit_link = flash.get_by_role("link", name=re.compile(r"Audit entry #\d+"))
    entry_id = (audit_link.get_attribute("href") or "").rsplit("#", 1)[-1]
    audit_link.click()
    expect(page).to_have_url(re.compile(r"/audit/\?order_number="))
    page.locator(f"#{entry_id}").get_by_role("button", name="Undo").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Detached “{name}”")
    page.goto(f"/orders/{made['id']}/")
    expect(page.locator("#order-assets")).not_to_contain_text(name)
    expect(page.locator("#customer-view")).not_to_contain_text(name)
