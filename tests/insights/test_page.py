"""The Reports page through the test client: who sees what, the range picker, CSV, charts, the at-limit
list and its prefilled bulk fix, and that opening it asks no upstream anything."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from downloads.history import note_counts
from downloads.models import SeenLimit
from fileflare_admin.api import types
from insights.limits import at_limit_now
from jobs.models import BulkJob
from orders.resend import order_resend_email
from staff.models import StaffPreferences
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db
PAGE = "/reports/"


def _record(
    download_id: str, count: int, *, order: int = 5001, file: str = "guide.pdf"
) -> types.DownloadRecord:
    return types.DownloadRecord(download_id, None, 11, order, count, file, False, "")


def _text(response: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_a_merchant_sees_every_figure_each_with_its_summary_table_csv_and_as_of(
    merchant_client: Client, merchant_user: User, sandbox: Sandbox
) -> None:
    now = timezone.now()
    note_counts([_record("r1", 0)], seen_at=now - timedelta(hours=2), source="snapshot")
    note_counts([_record("r1", 2)], seen_at=now - timedelta(minutes=5), source="snapshot")
    order_resend_email(actor=merchant_user, order_id=sandbox.create_order({"lines": []})["id"])
    response = merchant_client.get(PAGE, {"range": "7d"})
    page = response.content.decode()
    assert response.status_code == 200
    for name in (
        "downloads",
        "downloads-by-product",
        "downloads-by-file",
        "never-emailed",
        "resends",
        "staff-per-person",
    ):
        assert f'src="/reports/{name}.svg?' in page
    for name in ("downloads", "at-limit", "never-emailed", "resends", "staff-activity"):
        assert f'href="/reports/{name}.csv' in page
    text = _text(response)
    assert "2 downloads from" in text and "1 download e-mail resent from" in text
    assert text.count("As of ") == 6  # every figure says when its data was seen…
    assert "The order index has not read any orders yet." in text  # …or that it was not yet
    assert 'aria-current="page">Reports</a>' in page
    assert "<caption" in page and 'data-label="Downloads"' in page


def test_support_sees_the_customer_lists_but_not_staff_activity(support_client: Client) -> None:
    page = support_client.get(PAGE).content.decode()
    assert "Customers at or near their download limit now" in page and "Downloads per day" in page
    assert "Staff activity" not in page and "Resends per day" not in page
    assert support_client.get("/reports/staff-activity.csv").status_code == 403
    assert support_client.get("/reports/resends.svg").status_code == 403
    assert support_client.get("/reports/at-limit.csv").status_code == 200


def test_an_account_without_a_role_is_refused(db: None) -> None:
    nobody = User.objects.create_user(username="nobody", password="a-long-password-1234")
    client = Client()
    client.force_login(nobody)
    assert client.get(PAGE).status_code == 403
    assert client.get("/reports/downloads.csv").status_code == 403


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, "The “To” day is before the “From” day."),
        ({"start": "2025-01-01", "end": "2026-03-01"}, "A report covers at most a year (366 days)"),
        ({"start": "2026-02-31", "end": "2026-03-01"}, "“2026-02-31” in the “From” box is not a date."),
        ({"start": "2026-03-01"}, "Give both days, or choose a range above."),
    ],
)
def test_a_wrong_range_is_a_sentence_beside_its_box_and_keeps_what_was_typed(
    merchant_client: Client, query: dict[str, str], sentence: str
) -> None:
    response = merchant_client.get(PAGE, query)
    page = response.content.decode()
    assert response.status_code == 200
    assert sentence in page
    for typed in query.values():
        assert f'value="{typed}"' in page
    assert "the page shows the last 30 days" in page


def test_a_typed_range_and_the_presets_choose_the_days(merchant_client: Client) -> None:
    text = _text(merchant_client.get(PAGE, {"start": "2026-03-01", "end": "2026-03-31"}))
    assert "From 1 Mar 2026 to 31 Mar 2026." in text
    today = timezone.localdate()
    assert f"From {today.day} {today:%b %Y}." in _text(merchant_client.get(PAGE, {"range": "today"}))
    year = merchant_client.get(PAGE, {"range": "year"})
    first = today - timedelta(days=365)
    assert f"From {first.day} {first:%b %Y} to" in _text(year)
    page = year.content.decode()  # the date boxes show the preset's days, ready to change
    assert f'value="{first.isoformat()}"' in page and f'value="{today.isoformat()}"' in page


def test_each_figure_downloads_as_csv_with_its_table_and_no_cell_runs_as_a_formula(
    merchant_client: Client,
) -> None:
    now = timezone.now()
    note_counts(
        [_record("r1", 0, file="=HYPERLINK(1).pdf")], seen_at=now - timedelta(hours=1), source="snapshot"
    )
    note_counts([_record("r1", 4, file="=HYPERLINK(1).pdf")], seen_at=now, source="snapshot")
    response = merchant_client.get("/reports/downloads-by-file.csv", {"range": "today"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="downloads-by-file-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [["File", "Downloads"], ["'=HYPERLINK(1).pdf", "4"]]
    per_day = merchant_client.get("/reports/downloads.csv", {"range": "7d"})
    lines = list(csv.reader(io.StringIO(b"".join(per_day.streaming_content).decode())))
    assert lines[0] == ["Day", "Downloads"] and len(lines) == 8 and lines[-1][1] == "4"
    assert merchant_client.get("/reports/no-such-figure.csv").status_code == 404


def test_a_chart_is_an_svg_that_runs_nothing(merchant_client: Client) -> None:
    response = merchant_client.get("/reports/downloads.svg", {"range": "30d"})
    svg = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert svg.startswith("<?xml") and "<svg" in svg and "<script" not in svg.lower()
    assert "script-src" not in response["Content-Security-Policy"]
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert merchant_client.get("/reports/at-limit.svg").status_code == 404  # a list has no chart


def test_the_page_its_csv_and_its_charts_ask_no_upstream_anything(
    merchant_client: Client, sandbox: Sandbox
) -> None:
    note_counts([_record("r1", 3)], seen_at=timezone.now(), source="snapshot")
    before = sandbox.stats()
    merchant_client.get(PAGE, {"range": "year"})
    for name in ("downloads", "downloads-by-product", "never-emailed", "resends", "staff-per-person"):
        merchant_client.get(f"/reports/{name}.svg", {"range": "year"})
    merchant_client.get("/reports/at-limit.csv")
    assert sandbox.stats() == before


def test_customers_at_or_near_their_limit_newest_first_with_the_limits_source_and_their_order(
    merchant_client: Client, settings: Any
) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = 3
    now = timezone.now()
    SeenLimit.objects.create(
        order_number=7001, asset_id="a1", filename="Song.mp3", file_key="song.mp3", limit=5, seen_at=now
    )
    note_counts([_record("over", 4, order=7002)], seen_at=now - timedelta(hours=3), source="snapshot")
    note_counts([_record("near", 2, order=7003)], seen_at=now - timedelta(hours=2), source="snapshot")
    note_counts([_record("fine", 1, order=7004)], seen_at=now - timedelta(hours=1), source="snapshot")
    note_counts([_record("own", 5, order=7001, file="song.mp3")], seen_at=now, source="snapshot")

    listed = at_limit_now()
    assert [(item.download_id, item.count, item.limit.limit, item.reached) for item in listed] == [
        ("own", 5, 5, True),
        ("near", 2, 3, False),
        ("over", 4, 3, True),
    ]
    assert listed[0].limit_source.startswith("limit seen on this order's customer page")
    assert listed[1].limit_source == "shop default"
    text = _text(merchant_client.get(PAGE))
    assert "2 records at the limit and 1 within one download of it" in text
    assert "#7001" in text and "5 of 5 At the limit" in text and "2 of 3 1 left" in text
    assert f'href="{reverse("orders:list")}?q=7003"' in merchant_client.get(PAGE).content.decode()


def test_the_at_limit_button_opens_the_prefilled_bulk_fix_and_support_sees_no_button(
    merchant_client: Client, support_client: Client, settings: Any
) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = 3
    note_counts(
        [_record("abc1", 3), _record("abc2", 2, order=5002)], seen_at=timezone.now(), source="snapshot"
    )
    page = merchant_client.get(PAGE).content.decode()
    form = page.split('id="at-limit-fix"', 1)[1].split("</form>", 1)[0]
    assert f'action="{reverse("jobs:new")}"' in page.split('id="at-limit-fix"', 1)[0].rsplit("<form", 1)[1]
    assert 'name="download_ids" value="abc1 abc2"' in form or 'name="download_ids" value="abc2 abc1"' in form
    assert 'name="action" value="count_give"' in form and 'name="amount" value="3"' in form
    assert "more downloads to these 2 records: dry run" in form
    assert 'id="at-limit-fix"' not in support_client.get(PAGE).content.decode()


def test_the_days_are_the_persons_own_in_their_time_zone(
    merchant_client: Client, merchant_user: User
) -> None:
    StaffPreferences.objects.update_or_create(user=merchant_user, defaults={"time_zone": "Pacific/Auckland"})
    seen = datetime(2026, 3, 1, 13, 30, tzinfo=UTC)  # 1 March in UTC, 2 March 02:30 in Auckland
    note_counts([_record("tz1", 0)], seen_at=seen - timedelta(hours=2), source="snapshot")
    note_counts([_record("tz1", 3)], seen_at=seen, source="snapshot")
    response = merchant_client.get("/reports/downloads.csv", {"start": "2026-03-01", "end": "2026-03-02"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [["Day", "Downloads"], ["2026-03-01", "0"], ["2026-03-02", "3"]]  # ISO days in a CSV


def test_the_at_limit_button_posts_a_dry_run_of_exactly_those_records(
    merchant_client: Client, make_record: Any, settings: Any
) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = 3
    at_limit, near = make_record(download_count=3), make_record(download_count=2)
    make_record(download_count=0)  # far from its limit: not chosen
    merchant_client.get(reverse("downloads:list"), {"q": str(at_limit["order_id"])})  # the list notes counts
    page = merchant_client.get(PAGE).content.decode()
    form = page.split('id="at-limit-fix"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    assert fields["download_ids"].split() and fields["action"] == "count_give"
    response = merchant_client.post(reverse("jobs:new"), {**fields, "amount": "2"})
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "jobs:detail", kwargs={"pk": job.pk}
    )
    items = {item.download_id: (item.count_before, item.count_after) for item in job.items.all()}
    assert items == {at_limit["download_id"]: (3, 1), near["download_id"]: (2, 0)}
    assert job.reason.startswith("Customers at or near their download limit (Reports, ")
