"""Support's main flows in a real headless Chromium, as a new user would click through them."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
NO_SCRIPT_ORDER = 3301  # resent only by the test without JavaScript


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
