"""One truth after a write (issue 25.1): after any write — a count fix, an edit, a create, a delete, an
attach, a detach, a resend, an undo, a bulk fix's item — every page that shows the fact shows its new
value on the next load, though each was read (and cached) just before.

Each test loads every view of the fact first (so the read cache holds the old value), writes through
the pages as a person does, then loads every view again. Against the in-process sandbox, whose
customer page counts a file's downloads from the order's download records (as a shop that counts
downloads in its records has it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from fileflare_admin.api.http import FILEFLARE
from jobs import runner
from jobs.models import BulkJob
from orders_index import sync
from tests.downloads.conftest import DownloadsApi, downloads_api
from tests.orders.conftest import MadeOrder
from tests.support.forms import form_values
from tests.support.pages import without_own_values

pytestmark = pytest.mark.django_db
FILE = "planner.pdf"
LIMIT = 10
PART_2 = "82664d96-6dfd-4343-96b0-05c46f41000a"  # "My new book - part 2", a file of the seeded shop
PART_2_NAME = "My new book - part 2"
__all__ = ["downloads_api"]  # the downloads tests' fixture, used here too


def _between(page: str, start: str, end: str) -> str:
    assert start in page, f"{start} is not on the page"
    return page.split(start, 1)[1].split(end, 1)[0]


def _get(client: Client, url: str, data: dict[str, Any] | None = None) -> str:
    response = client.get(url, data or {})
    assert response.status_code == 200, url
    return response.content.decode()


def _paste(client: Client, order: MadeOrder) -> None:
    assert client.post(f"/orders/{order.id}/customer-link/", {"link": order.status_url}).status_code == 302


# --- The views of a file's download count ----------------------------------------------------------


def _order_page(client: Client, order: MadeOrder) -> str:
    """The order page loaded twice, both loads saying the same: after a write the first shows its flash
    message and is made afresh; the second has no message and, when the page was kept whole before the
    write (fileflare_admin.kept_pages), is made afresh again rather than handed out as it was."""
    first, second = (_get(client, f"/orders/{order.id}/") for _ in range(2))
    assert without_own_values(second) == without_own_values(first)
    return second


def _count_views(client: Client, order: MadeOrder) -> dict[str, str]:
    """Every view of the order's file count: the order page's "What the customer sees" and its ready
    reply, the customer view, and the order's records (on the order page and in the records list)."""
    page = _order_page(client, order)
    return {
        "what the customer sees": _between(page, 'id="customer-view"', "</section>"),
        "the ready reply": _between(page, 'id="support-reply"', "</textarea>"),
        "the order's records": _between(page, 'id="order-records"', "</section>"),
        "the customer view": _get(client, f"/orders/customer/{order.token}/"),
        "the records list": _between(
            _get(client, "/downloads/", {"q": f"#{order.order_number}"}), "<tbody", "</tbody>"
        ),
    }


def _count_shown(views: dict[str, str], downloaded: int, records: dict[str, int]) -> list[str]:
    """The views that do not show `downloaded` of LIMIT for the file and each record's count (download
    ID → count) in its row; an empty list when every view agrees."""
    wrong = []
    for name in ("what the customer sees", "the customer view"):
        if f"downloaded {downloaded} of {LIMIT}" not in views[name]:
            wrong.append(name)
    if f"{FILE} ({LIMIT - downloaded} downloads left)" not in views["the ready reply"]:
        wrong.append("the ready reply")
    for name in ("the order's records", "the records list"):
        rows = views[name]
        for download_id, count in records.items():
            row = rows.split(f'id="record-{download_id}"', 1)[1].split("</tr>", 1)[0] if (
                f'id="record-{download_id}"' in rows
            ) else ""
            if f'name="count" value="{count}"' not in row:
                wrong.append(f"{name} ({download_id[:8]}…)")
        shown = rows.count('class="record-row"')
        if shown != len(records):
            wrong.append(f"{name} ({shown} rows, not {len(records)})")
    return wrong


@pytest.fixture
def five_used(make_order: Any) -> MadeOrder:
    """An order whose one file was downloaded 5 times of 10, counted on its one download record."""
    order: MadeOrder = make_order({FILE: (5, LIMIT)})
    return order


def _warm(client: Client, order: MadeOrder, downloaded: int, records: dict[str, int]) -> None:
    """Every view loaded twice: the order page's third and fourth loads are the page kept whole
    (fileflare_admin.kept_pages), so the write must make it afresh."""
    _paste(client, order)
    for _ in range(2):
        assert _count_shown(_count_views(client, order), downloaded, records) == []


def test_reset_to_0_on_a_row_shows_0_everywhere_on_the_next_load(
    support_client: Client, five_used: MadeOrder
) -> None:
    record = five_used.records[FILE]
    _warm(support_client, five_used, 5, {record: 5})

    response = support_client.post(
        reverse("downloads:count", args=[record]),
        {"reset": "1", "expected": 5, "context": "order", "next": f"/orders/{five_used.id}/"},
    )

    assert response.status_code == 302
    assert _count_shown(_count_views(support_client, five_used), 0, {record: 0}) == []


def test_the_order_pages_count_fix_shows_everywhere_on_the_next_load(
    merchant_client: Client, five_used: MadeOrder
) -> None:
    record = five_used.records[FILE]
    _warm(merchant_client, five_used, 5, {record: 5})

    response = merchant_client.post(
        f"/orders/{five_used.id}/fix-count/",
        {"file": FILE, "record": f"{record}:5", "reason": "ticket 9"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert _count_shown(_count_views(merchant_client, five_used), 0, {record: 0}) == []


def test_an_edit_shows_everywhere_on_the_next_load(merchant_client: Client, five_used: MadeOrder) -> None:
    record = five_used.records[FILE]
    _warm(merchant_client, five_used, 5, {record: 5})
    url = reverse("downloads:edit", args=[record])
    form = form_values(_get(merchant_client, url))

    assert merchant_client.post(url, {**form, "download_count": "2"}).status_code == 302
    assert _count_shown(_count_views(merchant_client, five_used), 2, {record: 2}) == []


def test_a_create_shows_everywhere_on_the_next_load(
    merchant_client: Client, five_used: MadeOrder, downloads_api: DownloadsApi
) -> None:
    record = five_used.records[FILE]
    _warm(merchant_client, five_used, 5, {record: 5})
    form = form_values(_get(merchant_client, reverse("downloads:create")))

    response = merchant_client.post(
        reverse("downloads:create"),
        {
            "submission": form["submission"],
            "product_id": "31",
            "order_id": str(five_used.order_number),
            "download_count": "3",
            "download_file_name": FILE,
            "amazon_key": "",
        },
    )

    assert response.status_code == 302
    listed = downloads_api.for_order(five_used.order_number)
    (created,) = [item for item in listed if item["download_id"] != record]
    views = _count_views(merchant_client, five_used)
    assert _count_shown(views, 8, {record: 5, created["download_id"]: 3}) == []


def test_a_delete_shows_everywhere_on_the_next_load(
    merchant_client: Client, five_used: MadeOrder, downloads_api: DownloadsApi
) -> None:
    record = five_used.records[FILE]
    fields = {"product_id": 31, "download_file_name": FILE, "is_amazon": False, "amazon_key": ""}
    extra = downloads_api.create(order_id=five_used.order_number, download_count=3, **fields)["download_id"]
    _warm(merchant_client, five_used, 8, {record: 5, extra: 3})
    url = reverse("downloads:delete", args=[extra])

    assert merchant_client.post(url, form_values(_get(merchant_client, url))).status_code == 302
    assert _count_shown(_count_views(merchant_client, five_used), 5, {record: 5}) == []


def test_an_undo_from_the_audit_log_shows_everywhere_on_the_next_load(
    merchant_client: Client, five_used: MadeOrder
) -> None:
    record = five_used.records[FILE]
    _paste(merchant_client, five_used)
    merchant_client.post(reverse("downloads:count", args=[record]), {"reset": "1", "expected": 5})
    fix = AuditEntry.objects.get(action="download_record_count", download_id=record)
    assert _count_shown(_count_views(merchant_client, five_used), 0, {record: 0}) == []
    assert _get(merchant_client, "/audit/", {"order_number": five_used.order_number})

    assert merchant_client.post(f"/audit/{fix.pk}/undo/").status_code == 302
    assert _count_shown(_count_views(merchant_client, five_used), 5, {record: 5}) == []


def test_a_bulk_fix_item_shows_everywhere_on_the_next_load(
    merchant_client: Client, five_used: MadeOrder
) -> None:
    record = five_used.records[FILE]
    _warm(merchant_client, five_used, 5, {record: 5})
    planned = merchant_client.post(
        reverse("jobs:new"),
        {"order_numbers": f"#{five_used.order_number}", "action": BulkJob.Kind.COUNT_RESET, "reason": "Bots"},
    )
    job = BulkJob.objects.get()
    assert planned.status_code == 302
    merchant_client.post(reverse("jobs:run", kwargs={"pk": job.pk}))
    job.refresh_from_db()

    runner.run_step(job.pk, job.step_token, enqueue=lambda token, run_after: None)  # the worker's step

    assert BulkJob.objects.get(pk=job.pk).state == BulkJob.State.DONE
    assert _count_shown(_count_views(merchant_client, five_used), 0, {record: 0}) == []


# --- The views of an order's own files and of its e-mail ---------------------------------------------


def _index_newest_orders() -> None:
    """The order index filled as the background sync's first step fills it."""
    state = sync.sync_row(FILEFLARE.identity())
    sync.read_once(state, sync.Read(page=1, refresh=True))
    cache.clear()


def _orders_list_row(client: Client, order: MadeOrder) -> str:
    page = _get(client, "/orders/", {"per_page": 100})
    return _between(page, f">#{order.order_number}</a>", "</tr>")


def _file_views(client: Client, order: MadeOrder) -> dict[str, str]:
    page = _order_page(client, order)
    return {
        "the order's files": _between(page, 'id="order-assets"', "</section>"),
        "what the customer sees": _between(page, 'id="customer-view"', "</section>"),
        "the ready reply": _between(page, 'id="support-reply"', "</textarea>"),
        "the customer view": _get(client, f"/orders/customer/{order.token}/"),
        "the Orders list": _between(_orders_list_row(client, order), 'data-label="Files">', "</td>"),
    }


def _file_shown(views: dict[str, str], attached: bool) -> list[str]:
    """The views that disagree with whether PART_2 is on the order."""
    wrong = [
        name
        for name, text in views.items()
        if name != "the Orders list" and (PART_2_NAME in text) != attached
    ]
    if views["the Orders list"].startswith("1 on the order") != attached:
        wrong.append("the Orders list")
    return wrong


@pytest.mark.parametrize("indexed", [True, False], ids=["from the index", "from Fileflare's list"])
def test_an_attach_shows_everywhere_on_the_next_load(
    support_client: Client, make_order: Any, indexed: bool
) -> None:
    order: MadeOrder = make_order({FILE: (1, LIMIT)})
    if indexed:
        _index_newest_orders()
    _paste(support_client, order)
    assert _file_shown(_file_views(support_client, order), attached=False) == []

    assert support_client.post(f"/orders/{order.id}/attach/", {"asset": [PART_2]}).status_code == 302
    assert _file_shown(_file_views(support_client, order), attached=True) == []


@pytest.mark.parametrize("indexed", [True, False], ids=["from the index", "from Fileflare's list"])
def test_a_detach_and_its_undo_show_everywhere_on_the_next_load(
    merchant_client: Client, make_order: Any, indexed: bool
) -> None:
    order: MadeOrder = make_order({FILE: (1, LIMIT)})
    merchant_client.post(f"/orders/{order.id}/attach/", {"asset": [PART_2]})
    if indexed:
        _index_newest_orders()
    _paste(merchant_client, order)
    assert _file_shown(_file_views(merchant_client, order), attached=True) == []

    assert merchant_client.post(f"/orders/{order.id}/detach/", {"asset": [PART_2]}).status_code == 302
    assert _file_shown(_file_views(merchant_client, order), attached=False) == []

    detach = AuditEntry.objects.get(action="order_assets_detach", undo_of=None)
    assert merchant_client.post(f"/audit/{detach.pk}/undo/").status_code == 302
    assert _file_shown(_file_views(merchant_client, order), attached=True) == []


@pytest.mark.parametrize("indexed", [True, False], ids=["from the index", "from Fileflare's list"])
def test_a_resend_shows_everywhere_on_the_next_load(
    support_client: Client, make_order: Any, indexed: bool
) -> None:
    order: MadeOrder = make_order({FILE: (1, LIMIT)}, email_sent=False)
    if indexed:
        _index_newest_orders()

    def never_sent() -> dict[str, bool]:
        page = _get(support_client, f"/orders/{order.id}/")
        row = _between(_orders_list_row(support_client, order), 'data-label="Download e-mail">', "</td>")
        return {
            "the order page": "never" in _between(page, 'id="email-sent-at"', "</dd>"),
            # From the index a row says what it last read: "not sent as of …" (issue 27.3).
            "the Orders list": ("not sent" if indexed else "never sent") in row,
        }

    assert never_sent() == {"the order page": True, "the Orders list": True}
    assert support_client.post(f"/orders/{order.id}/resend/", {"reason": "ticket 3"}).status_code == 302
    assert never_sent() == {"the order page": False, "the Orders list": False}
