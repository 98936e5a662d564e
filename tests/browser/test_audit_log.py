"""The audit log in a real browser: filter without reloading, undo asks first, and the row then says who
undid it."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Dialog, Page, expect

from audit.models import AuditEntry
from downloads import services as downloads
from tests.browser.conftest import sign_in
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi, _order_numbers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_merchant_finds_a_deletion_in_the_log_and_restores_it_after_confirming(
    page: Page,
    merchant_user: User,
    sandbox: Sandbox,
) -> None:
    api = DownloadsApi(sandbox)
    order_number = next(_order_numbers)
    record = api.create(
        product_id=77, order_id=order_number, download_count=2, download_file_name="back-again.pdf"
    )
    downloads.download_record_delete(actor=merchant_user, download_id=record["download_id"], reason="oops")
    AuditEntry.objects.create(
        actor=merchant_user,
        actor_name="mia-merchant",
        action="email_resend",
        order_number=1,
        outcome="success",
    )
    deletion = AuditEntry.objects.get(action="download_record_delete")
    problems: list[str] = []
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security" in message.text else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, merchant_user)

    page.goto("/audit/")
    page.evaluate("window.__samePage = 'yes'")
    page.get_by_label("Action").select_option("download_record_delete")  # htmx: the results swap in place
    expect(page).to_have_url(re.compile(r"/audit/\?.*action=download_record_delete"))
    expect(page.locator("#audit-entries tbody tr")).to_have_count(1)
    assert page.evaluate("window.__samePage") == "yes", "filtering reloaded the page"
    row = page.locator(f"#entry-{deletion.pk}")
    expect(row).to_contain_text("back-again.pdf")

    questions: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    row.get_by_role("button", name="Restore").click()
    expect(row.get_by_role("button", name="Restore")).to_be_visible()
    assert api.for_order(order_number) == []

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    row.get_by_role("button", name="Restore").click()
    expect(page.locator(".flash-success")).to_contain_text("Restored the deleted record as")
    [restored] = api.for_order(order_number)
    assert restored["download_file_name"] == "back-again.pdf"
    expect(page.locator(f"#entry-{deletion.pk}")).to_contain_text("Undone by mia-merchant at")
    expect(page).to_have_url(re.compile(r"/audit/\?.*action=download_record_delete"))  # back where they were
    assert all("Create record" in question and "new download ID" in question for question in questions)
    assert len(questions) == 2
    assert problems == [], problems
