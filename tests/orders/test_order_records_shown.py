"""The order page shows an order's newest records (orders.pages.RECORDS_SHOWN) and says when it has more,
with the way to the records list; a read the downloads API cut short says so too (nothing lost silently).
Against the in-process sandbox."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from orders import pages
from sandbox.models import DownloadRecord as SandboxRecord
from tests.conftest import Sandbox
from tests.orders.conftest import MadeOrder, SandboxHttp
from tests.orders.test_order_hub import section

pytestmark = pytest.mark.django_db


def _rows(records: str) -> int:
    return records.count('class="record-row')


def _more_records(upstream: SandboxHttp, order: MadeOrder, count: int) -> None:
    for index in range(count):
        upstream.create_record(
            product_id=4242,
            order_id=order.order_number,
            download_count=0,
            download_file_name=f"extra-{index}.pdf",
        )


def test_an_order_with_more_records_than_shown_says_how_many_and_leads_to_the_list(
    support_client: Client, make_order: object, upstream: SandboxHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "RECORDS_SHOWN", 2)
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})  # type: ignore[operator]
    _more_records(upstream, order, 2)
    records = section(support_client.get(f"/orders/{order.id}/").content.decode(), "order-records")
    assert _rows(records) == 2
    assert "The newest 2 of this order's 3 download records are shown here." in records
    assert f'href="/downloads/?q=order:{order.order_number}">Open them in the records list</a>' in records
    names = ("planner.pdf", "extra-0.pdf", "extra-1.pdf")
    assert sum(f'title="{name}"' in records for name in names) == 2  # two of the three


def test_the_records_shown_are_the_newest_so_one_just_added_is_there(
    support_client: Client,
    make_order: object,
    upstream: SandboxHttp,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pages, "RECORDS_SHOWN", 2)
    order: MadeOrder = make_order({"planner.pdf": (1, 10), "sheet.xlsx": (0, None)})  # type: ignore[operator]
    old = datetime(2026, 1, 1, tzinfo=UTC)  # the order's first record, made long ago
    pool = sandbox.pool  # type: ignore[attr-defined]  # the in-process sandbox's own thread writes its tables
    first = SandboxRecord.objects.filter(pk=order.records["planner.pdf"])
    pool.submit(lambda: first.update(date_created=old)).result()
    upstream.create_record(
        product_id=4242, order_id=order.order_number, download_count=0, download_file_name="added.pdf"
    )
    records = section(support_client.get(f"/orders/{order.id}/").content.decode(), "order-records")
    assert 'title="added.pdf"' in records and 'title="sheet.xlsx"' in records
    assert 'title="planner.pdf"' not in records
    assert "The newest 2 of this order's 3 download records are shown here." in records


def test_an_order_with_no_more_records_than_shown_says_nothing_of_it(
    support_client: Client, make_order: object, upstream: SandboxHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "RECORDS_SHOWN", 2)
    order: MadeOrder = make_order({"planner.pdf": (1, 10), "sheet.xlsx": (0, None)})  # type: ignore[operator]
    records = section(support_client.get(f"/orders/{order.id}/").content.decode(), "order-records")
    assert _rows(records) == 2
    assert "are shown here" not in records and "Open them in the records list" not in records


def test_a_read_the_downloads_api_cut_short_says_some_records_may_be_missing(
    support_client: Client, make_order: object, upstream: SandboxHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One call reads downloads.reads.ORDER_RECORDS_LIMIT matches: past it the page cannot know them all."""
    monkeypatch.setattr("downloads.reads.ORDER_RECORDS_LIMIT", 3)
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})  # type: ignore[operator]
    _more_records(upstream, order, 4)
    records = section(support_client.get(f"/orders/{order.id}/").content.decode(), "order-records")
    assert _rows(records) <= 3  # the first three matches: other records may hold the order's digits too
    assert "some of this order's may be missing here." in records
    assert "This order has no download records." not in records
    assert "Open them in the records list" in records
