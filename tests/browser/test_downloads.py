"""A merchant's day with download records, in a real browser: create, fix a count in place, delete."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from audit.models import AuditEntry
from tests.browser.conftest import sign_in
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi, _order_numbers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _mark_page(page: Page) -> None:
    """A value that lives only as long as this document: a full page load would lose it."""
    page.evaluate("window.__samePage = 'still here'")


def _same_page(page: Page) -> bool:
    return page.evaluate("window.__samePage") == "still here"


def test_a_merchant_creates_a_record_fixes_its_count_in_place_and_deletes_it(
    page: Page, merchant_user: User, sandbox: Sandbox
) -> None:
    api = DownloadsApi(sandbox)
    order_number = next(_order_numbers)
    sign_in(page, merchant_user)

    page.goto("/downloads/new/")
    page.get_by_label("Order number").fill(str(order_number))
    page.get_by_label("Product ID").fill("512")
    page.get_by_label("Download count").fill("4")
    page.get_by_label("File name").fill("Field guide (2nd edition).pdf")
    page.get_by_role("button", name="Create record").click()

    expect(page.locator(".flash-success")).to_contain_text("Created download record")
    [created] = api.for_order(order_number)
    # Back on this order's records only, at the new row, highlighted (:target, no inline style).
    landing = rf"/downloads/\?q=order%3A{order_number}&sort=-date_created#record-{created['download_id']}$"
    expect(page).to_have_url(re.compile(landing))
    row = page.locator(f"#record-{created['download_id']}")
    expect(row).to_contain_text("Field guide (2nd edition).pdf")
    expect(row.locator("td").first).to_have_css("background-color", "rgb(230, 244, 234)")
    expect(page.locator("#order-records-summary")).to_contain_text(f"Records of order #{order_number}")

    _mark_page(page)
    count = row.get_by_label(re.compile("Download count of"))
    count.fill("7")
    row.get_by_role("button", name="Save").click()
    row = page.locator(f"#record-{created['download_id']}")
    expect(row.get_by_role("status")).to_have_text("Saved: download count is 7.")
    expect(row.get_by_label(re.compile("Download count of"))).to_have_value("7")
    assert _same_page(page), "the page reloaded instead of updating the row"
    assert api.get(created["download_id"])["download_count"] == 7

    row.get_by_role("button", name="Reset to 0").click()
    expect(row.get_by_role("status")).to_have_text("Saved: download count is 0.")
    expect(row.get_by_label(re.compile("Download count of"))).to_have_value("0")
    assert _same_page(page)
    assert api.get(created["download_id"])["download_count"] == 0

    row.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete this download record?")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Field guide (2nd edition).pdf")
    page.get_by_role("button", name="Delete record").click()
    expect(page.locator(".flash-success")).to_contain_text("Deleted download record")
    assert api.get(created["download_id"]) is None

    actions = list(AuditEntry.objects.order_by("pk").values_list("action", "outcome"))
    assert actions == [
        ("download_record_create", "success"),
        ("download_record_count", "success"),
        ("download_record_count", "success"),
        ("download_record_delete", "success"),
    ]


def test_search_as_you_type_and_sorting_update_the_list_without_a_reload(
    page: Page, merchant_user: User, sandbox: Sandbox
) -> None:
    api = DownloadsApi(sandbox)
    order_number = next(_order_numbers)
    for count, name in ((5, "alpha"), (1, "beta"), (3, "gamma")):
        api.create(
            product_id=9,
            order_id=order_number,
            download_count=count,
            download_file_name=f"{name}-{order_number}.pdf",
            is_amazon=False,
            amazon_key="",
        )
    sign_in(page, merchant_user)
    page.goto("/downloads/")
    _mark_page(page)

    page.get_by_label("Search records").fill(str(order_number))
    expect(page.locator("tr.record-row")).to_have_count(3)
    expect(page).to_have_url(re.compile(rf"q={order_number}"))

    page.get_by_role("link", name="Downloads").click()
    expect(page).to_have_url(re.compile(r"sort=download_count"))
    expect(page.locator("tr.record-row input[name=count]").first).to_have_value("1")
    page.get_by_role("link", name=re.compile("Downloads")).click()
    expect(page).to_have_url(re.compile(r"sort=-download_count"))
    expect(page.locator("tr.record-row input[name=count]").first).to_have_value("5")
    # The search box keeps the sort: typing more narrows within the same order.
    page.get_by_label("Search records").fill(f"gamma-{order_number}")
    expect(page.locator("tr.record-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"sort=-download_count"))
    assert _same_page(page)


def test_support_fixes_a_count_in_place_on_the_order_page_within_the_step(
    page: Page, support_user: User, sandbox: Sandbox, settings: object
) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5  # type: ignore[attr-defined]
    api = DownloadsApi(sandbox)
    order = sandbox.create_order({})
    record = api.create(
        product_id=9,
        order_id=order["order_number"],
        download_count=8,
        download_file_name="order-page.pdf",
        is_amazon=True,
        amazon_key="private/order-page.pdf",
    )
    sign_in(page, support_user)
    page.goto(f"/orders/{order['id']}/")
    row = page.locator(f"#record-{record['download_id']}")
    expect(row).to_contain_text("order-page.pdf")
    expect(row).to_contain_text("key hidden")
    expect(row.get_by_role("button", name="Reset to 0")).to_be_disabled()  # 8 is beyond Support's step
    _mark_page(page)

    row.get_by_label(re.compile("Download count of")).fill("3")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_role("status")).to_have_text("Saved: download count is 3.")
    assert _same_page(page)
    assert api.get(record["download_id"])["download_count"] == 3
    expect(page.locator("#order-records")).not_to_contain_text("private/order-page.pdf")
    # Now within the step, "Reset to 0" is offered.
    row.get_by_role("button", name="Reset to 0").click()
    expect(row.get_by_role("status")).to_have_text("Saved: download count is 0.")
    assert api.get(record["download_id"])["download_count"] == 0
    assert _same_page(page)
