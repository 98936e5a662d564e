"""What a bulk fix's pages call it: its N filled in, an undo named by what it undoes, its filter as a
sentence (issue 25, item 7)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from jobs.models import BulkJob

pytestmark = pytest.mark.django_db
Kind = BulkJob.Kind


def _job(user: User, **values: object) -> BulkJob:
    return BulkJob.objects.create(reason="Bot storm", created_by=user, created_by_name="m", **values)


def test_a_job_says_its_n_and_an_undo_names_the_fix_it_undoes(
    merchant_client: Client, merchant_user: User
) -> None:
    set_two = _job(merchant_user, kind=Kind.COUNT_SET, amount=2, state="done")
    give_one = _job(merchant_user, kind=Kind.COUNT_GIVE, amount=1, state="done")
    undo = _job(merchant_user, kind=Kind.UNDO, undo_of=set_two, state="done")
    listed = merchant_client.get(reverse("jobs:list")).content.decode()
    assert "Set the download count to 2<br>" in listed and "Give 1 more download<br>" in listed
    assert f"Undo bulk fix #{set_two.pk}<br>" in listed
    assert "N = " not in listed and "Undo of a bulk fix" not in listed
    page = merchant_client.get(reverse("jobs:detail", kwargs={"pk": set_two.pk})).content.decode()
    assert f"<h1>Bulk fix #{set_two.pk}: set the download count to 2</h1>" in page
    page = merchant_client.get(reverse("jobs:detail", kwargs={"pk": undo.pk})).content.decode()
    assert f"<h1>Bulk fix #{undo.pk}: undo bulk fix #{set_two.pk}</h1>" in page
    assert give_one.title == "Give 1 more download"


def test_the_filter_line_joins_its_criteria_and_ends_without_a_semicolon(
    merchant_client: Client, merchant_user: User
) -> None:
    job = _job(
        merchant_user,
        kind=Kind.COUNT_RESET,
        state="done",
        selection={"order_numbers": [1050, 1051], "file_name": "tabs", "count_at_least": 3,
                   "product_id": None, "created_from": None, "created_to": None},
    )
    page = merchant_client.get(reverse("jobs:detail", kwargs={"pk": job.pk})).content.decode()
    assert "<dt>Filter</dt><dd>orders 1050, 1051; file name contains “tabs”; count at least 3</dd>" in page


def test_a_jobs_counts_are_written_with_thousands_on_its_page_and_in_the_list(
    merchant_client: Client, merchant_user: User
) -> None:
    from jobs.models import BulkJobItem

    job = _job(merchant_user, kind=Kind.COUNT_RESET, state="done")
    BulkJobItem.objects.bulk_create(
        BulkJobItem(job=job, position=n, download_id=f"r{n}", count_before=1, count_after=0, state="done")
        for n in range(1, 1201)
    )
    page = merchant_client.get(reverse("jobs:detail", kwargs={"pk": job.pk})).content.decode()
    assert "<strong>1,200 of 1,200</strong> processed" in page and "1,200 done" in page
    assert "1200" not in re.sub(r"<[^>]*>", " ", page)  # as text; attributes (the bar's max) stay numbers
    listed = merchant_client.get(reverse("jobs:list")).content.decode()
    assert "<strong>1,200 of 1,200</strong> processed" in listed
