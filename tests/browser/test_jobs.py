"""Bulk fixes in a real browser, with the real task worker: a dry run, a job with its progress bar
(htmx polling, no inline script), a cancel, and an undo of what it did."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from jobs.models import BulkJob
from tests.browser.conftest import sign_in
from tests.downloads.conftest import DownloadsApi
from tests.jobs.conftest import downloads_api, make_records, new_order_number, start_worker
from tests.jobs.worker import Worker

__all__ = ["downloads_api", "make_records", "new_order_number", "start_worker"]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch(page: Page) -> list[str]:
    """Failed requests, script errors and CSP reports: each is a defect."""
    problems: list[str] = []
    page.on(
        "response",
        lambda response: problems.append(f"{response.status} {response.url}")
        if response.status >= 400 and not response.url.endswith("/favicon.ico")
        else None,
    )
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security" in message.text else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_a_merchant_dry_runs_a_bulk_reset_runs_it_cancels_it_and_undoes_it(
    page: Page,
    merchant_user: User,
    start_worker: Callable[..., Worker],
    make_records,
    new_order_number,
    downloads_api: DownloadsApi,
) -> None:
    number = new_order_number()
    records = make_records(number, [5, 5, 5, 5, 5, 5])
    # 6 requests a minute: three records (a fresh read and a write each), then a wait for the budget.
    first = start_worker(BULK_DOWNLOADS_BUDGET_PER_MINUTE=6)
    problems = _watch(page)
    sign_in(page, merchant_user)

    page.get_by_role("link", name="Bulk fixes").click()
    page.get_by_role("link", name="New bulk fix").click()
    page.get_by_label("Order numbers").fill(f"#{number}, ")
    page.get_by_label("Reset the download count to 0").check()
    page.get_by_label("Reason").fill("Bot storm, ticket #4821")
    page.get_by_role("button", name="Dry run").click()

    expect(page.locator("#dry-run-summary")).to_contain_text("6 records to change")
    expect(page.locator("#dry-run-summary")).to_contain_text("takes about 2 minutes")
    expect(page.locator("#job-items-table tbody tr")).to_have_count(6)
    expect(page.locator("#job-items-table")).to_contain_text("5 → 0")
    assert [downloads_api.get(r["download_id"])["download_count"] for r in records] == [5] * 6  # nothing yet

    page.get_by_role("button", name="Run").click()
    bar = page.locator("#job-bar")
    expect(page.locator("#job-counts")).to_contain_text("3 of 6 processed", timeout=30_000)  # htmx polling
    expect(bar).to_have_attribute("value", "3")
    expect(page.locator("#job-counts")).to_contain_text("3 remaining")
    expect(page.locator("#job-progress")).to_contain_text("Next item at")
    # Issue 25 (2): the badge and the rows follow the bar with no reload.
    expect(page.locator("#job-state")).to_have_text("Running")
    expect(page.locator("#job-items-table td[data-label='Outcome'] .badge-ok")).to_have_count(3)
    expect(page.locator("#job-items-table")).to_contain_text("Waiting")
    job_url = page.url

    page.reload()  # the page is the job's state, not the browser's: a reload shows the same
    expect(page.locator("#job-counts")).to_contain_text("3 of 6 processed")

    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".flash-success")).to_contain_text("is cancelled")
    expect(page.locator("#job-state")).to_have_text("Cancelled")
    expect(page.locator("#job-counts")).to_contain_text("3 done")
    expect(page.locator("#job-counts")).to_contain_text("3 not run")
    counts = sorted(downloads_api.get(r["download_id"])["download_count"] for r in records)
    assert counts == [0, 0, 0, 5, 5, 5]

    first.stop()
    start_worker(BULK_DOWNLOADS_BUDGET_PER_MINUTE=600)  # a new worker, a fresh minute of budget
    page.get_by_role("link", name="Undo this job").click()
    page.get_by_label("Reason").fill("Wrong ticket")
    page.get_by_role("button", name="Undo this job").click()
    expect(page.locator(".flash-success")).to_contain_text("is queued as bulk fix")
    # The page follows the undo job and reloads itself once it has finished.
    expect(page.locator("#job-state")).to_have_text("Finished", timeout=30_000)
    expect(page.locator("#job-counts")).to_contain_text("3 done")
    assert [downloads_api.get(r["download_id"])["download_count"] for r in records] == [5] * 6
    undo = BulkJob.objects.get(kind=BulkJob.Kind.UNDO)
    assert page.url.endswith(f"/jobs/{undo.pk}/")

    page.goto(job_url)
    expect(page.get_by_role("link", name=re.compile(rf"bulk fix #{undo.pk}"))).to_be_visible()
    expect(page.get_by_role("link", name="Undo this job")).to_have_count(0)
    assert problems == []
