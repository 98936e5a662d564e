"""Bulk fixes of records chosen one by one (the Reports page's "give N more downloads to these records"):
the selection by download IDs, the form a link fills in, and the dry run a POST lands on."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from jobs import services
from jobs.models import BulkJob
from jobs.selection import Selection, parse_download_ids

Kind = BulkJob.Kind


def test_download_ids_are_read_from_a_list_and_the_rest_named() -> None:
    ids, rejected = parse_download_ids("abc123 def456, abc123\n'ghi789' not-an-id")
    assert ids == ("abc123", "def456", "ghi789")
    assert rejected == ("not-an-id",)


def test_a_dry_run_by_download_ids_lists_exactly_those_records_and_leaves_out_a_deleted_one(
    merchant_user: User, make_records, new_order_number, downloads_api
) -> None:
    number = new_order_number()
    chosen, other = make_records(number, [5, 2])
    gone = make_records(new_order_number(), [1])[0]
    downloads_api.session.delete(f"{downloads_api.base}/{gone['download_id']}", timeout=30).raise_for_status()

    job = services.job_plan(
        actor=merchant_user,
        selection=Selection(download_ids=(chosen["download_id"], gone["download_id"])),
        kind=Kind.COUNT_GIVE,
        amount=3,
        reason="At their limit",
    )
    assert [(item.download_id, item.count_before, item.count_after) for item in job.items.all()] == [
        (chosen["download_id"], 5, 2)
    ]
    assert other["download_id"] not in {item.download_id for item in job.items.all()}
    assert job.filter_text == "2 records chosen by download ID"


def test_a_get_only_fills_the_form_in_and_plans_nothing(merchant_client: Client) -> None:
    response = merchant_client.get(
        reverse("jobs:new"),
        {"download_ids": "abc123 def456", "action": Kind.COUNT_GIVE, "amount": "3", "reason": "At the limit"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "abc123 def456" in page and 'value="3"' in page and "At the limit" in page
    assert re.search(r'<input type="radio" name="action" value="count_give"[^>]* checked', page)
    assert not BulkJob.objects.exists()


def test_a_post_from_the_reports_page_lands_on_the_dry_run(
    merchant_client: Client, make_records, new_order_number
) -> None:
    first, second = make_records(new_order_number(), [4, 5])
    response = merchant_client.post(
        reverse("jobs:new"),
        {
            "download_ids": f"{first['download_id']} {second['download_id']}",
            "action": Kind.COUNT_GIVE,
            "amount": "3",
            "reason": "Customers at their limit",
        },
    )
    job = BulkJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", kwargs={"pk": job.pk})
    assert job.state == BulkJob.State.DRAFT
    assert sorted((item.count_before, item.count_after) for item in job.items.all()) == [(4, 1), (5, 2)]


def test_text_that_is_not_a_download_id_is_named_and_kept(merchant_client: Client) -> None:
    response = merchant_client.post(
        reverse("jobs:new"),
        {"download_ids": "abc123 no-way!", "action": Kind.COUNT_GIVE, "amount": "1", "reason": "r"},
    )
    page = response.content.decode()
    assert "These are not download IDs: “no-way!”." in page and "abc123 no-way!" in page
    assert not BulkJob.objects.exists()
