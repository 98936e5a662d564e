"""The Orders page's "ordered from … to …" filter (issue 19.1): answered by the order index alone.

The index is filled by its own sync's read (one real list request to the sandbox, as the worker makes it);
what the filter should list is worked out from Fileflare's own list, read straight from the sandbox, in
the person's time zone. Fileflare's requests are counted by the sandbox itself."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from fileflare_admin.api import types
from fileflare_admin.api.http import FILEFLARE
from orders_index import sync
from orders_index.models import IndexedOrder, OrderSync
from orders_index.services import order_index_note
from staff.models import StaffPreferences
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db
AUCKLAND = zoneinfo.ZoneInfo("Pacific/Auckland")  # 13 hours ahead of UTC in November: days differ


def _index_newest_orders() -> OrderSync:
    """The sync's first step, as the worker runs it: the newest 1,000 orders read into the index."""
    state = sync.sync_row(FILEFLARE.identity())
    sync.read_once(state, sync.Read(page=1, refresh=True))
    cache.clear()  # forget every answer: only the index knows the orders now
    return state


def _fileflare_calls(sandbox: Sandbox) -> int:
    return sandbox.stats()["fileflare"]


def _newest_upstream(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Fileflare's newest 1,000 orders, read straight from the sandbox (not through the dashboard)."""
    response = requests.get(
        f"{sandbox.fileflare_url}/v1/orders",
        params={"limit": 1000, "page": 1},
        headers={"Authorization": f"Bearer {sandbox.key}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["data"]


def _local_day(order: dict[str, Any], zone: zoneinfo.ZoneInfo) -> date:
    return datetime.fromtimestamp(order["ordered_at"], tz=UTC).astimezone(zone).date()


def _listed_numbers(page: str) -> list[int]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [int(number) for number in re.findall(r">#(\d+)</a>", body)]


def _older_link(page: str) -> str | None:
    found = re.search(r'<a class="btn btn-small" href="([^"]+)"[^>]*>Older →</a>', page)
    return unescape(found.group(1)) if found else None


def _input(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert found, f"no {name} box on the page"
    return found.group(0)


def _in_auckland(user: User) -> None:
    StaffPreferences.objects.create(user=user, time_zone="Pacific/Auckland")


def _two_seeded_days(newest: list[dict[str, Any]]) -> tuple[date, date]:
    """Two days a few days back, in Auckland, inside the newest 1,000 (orders made by tests are newer)."""
    cutoff = (timezone.now() - timedelta(days=3)).timestamp()
    older = [order for order in newest if order["ordered_at"] < cutoff]
    assert len(older) > 200, "the seeded shop has orders from before the last three days"
    return _local_day(older[80], AUCKLAND), _local_day(older[40], AUCKLAND)


@pytest.mark.engine
def test_the_date_filter_lists_exactly_the_orders_of_those_days_in_the_persons_zone_without_a_call(
    support_client: Client, support_user: User, sandbox: Sandbox
) -> None:
    _in_auckland(support_user)
    newest = _newest_upstream(sandbox)
    start, end = _two_seeded_days(newest)
    utc = zoneinfo.ZoneInfo("UTC")
    expected = {order["order_number"] for order in newest if start <= _local_day(order, AUCKLAND) <= end}
    in_utc = {order["order_number"] for order in newest if start <= _local_day(order, utc) <= end}
    assert in_utc != expected, "the test means something only if the person's days differ from UTC's"
    assert len(expected) > 25, "more than one page"
    _index_newest_orders()

    before = _fileflare_calls(sandbox)
    url: str | None = f"/orders/?ordered_from={start.isoformat()}&ordered_to={end.isoformat()}"
    listed: list[int] = []
    pages = 0
    while url:
        response = support_client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        if not pages:
            counted = f"{len(expected):,} orders were placed between {start.day} {start:%b %Y} and {end.day}"
            assert counted in page
            assert f'value="{start.isoformat()}"' in _input(page, "ordered_from")
            assert f'value="{end.isoformat()}"' in _input(page, "ordered_to")
            assert "Days in your time zone (Pacific/Auckland), both included." in page
        listed += _listed_numbers(page)
        url = _older_link(page)
        if url:
            # Paging keeps the filter: the next page is of the same days.
            assert f"ordered_from={start.isoformat()}" in url and f"ordered_to={end.isoformat()}" in url
            url = f"/orders/{url}" if url.startswith("?") else url
        pages += 1
    assert pages >= 2
    assert len(listed) == len(set(listed)) and set(listed) == expected
    assert _fileflare_calls(sandbox) == before


@pytest.mark.engine
def test_days_begin_and_end_at_the_persons_midnight(support_client: Client, support_user: User) -> None:
    """Orders a minute either side of New York's midnights (years ahead: no real order is there)."""
    StaffPreferences.objects.create(user=support_user, time_zone="America/New_York")
    OrderSync.objects.create(shop=FILEFLARE.identity(), newest_seen_at=timezone.now())
    new_york = zoneinfo.ZoneInfo("America/New_York")
    moments = {
        900_000_001: datetime(2031, 5, 1, 23, 59, tzinfo=new_york),  # the day before
        900_000_002: datetime(2031, 5, 2, 0, 0, tzinfo=new_york),
        900_000_003: datetime(2031, 5, 3, 23, 59, 59, tzinfo=new_york),
        900_000_004: datetime(2031, 5, 4, 0, 0, tzinfo=new_york),  # the day after
    }
    for number, moment in moments.items():
        order_index_note(
            types.Order(id=str(uuid.uuid4()), order_number=number, ordered_at=moment, email_sent_at=moment)
        )
    page = support_client.get("/orders/", {"ordered_from": "2031-05-02", "ordered_to": "2031-05-03"})
    assert sorted(_listed_numbers(page.content.decode())) == [900_000_002, 900_000_003]
    only_to = support_client.get("/orders/", {"ordered_to": "2031-05-01"}).content.decode()
    assert 900_000_001 in _listed_numbers(only_to) and 900_000_002 not in _listed_numbers(only_to)
    only_from = support_client.get("/orders/", {"ordered_from": "2031-05-04"}).content.decode()
    assert _listed_numbers(only_from) == [900_000_004]
    assert "1 order was placed on or after 4 May 2031." in only_from


def test_never_sent_and_the_dates_combine_and_each_link_keeps_the_other(
    support_client: Client, support_user: User, sandbox: Sandbox
) -> None:
    _in_auckland(support_user)
    newest = _newest_upstream(sandbox)
    start, end = _two_seeded_days(newest)
    never = {
        order["order_number"]
        for order in newest
        if start <= _local_day(order, AUCKLAND) <= end and order["email_sent_at"] is None
    }
    _index_newest_orders()
    days = {"ordered_from": start.isoformat(), "ordered_to": end.isoformat()}
    before = _fileflare_calls(sandbox)
    everything = support_client.get("/orders/", days).content.decode()
    link = re.search(r'<a href="([^"]+)"[^>]*>Only orders whose e-mail was never sent</a>', everything)
    assert link and "email=never" in link.group(1) and f"ordered_from={start.isoformat()}" in link.group(1)
    page = support_client.get("/orders/", {**days, "email": "never", "per_page": "100"}).content.decode()
    assert set(_listed_numbers(page)) == never
    counted = f"{len(never):,} order{'s' if len(never) != 1 else ''}" if never else "No order"
    assert f"{counted} placed between {start.day} {start:%b %Y}" in page
    assert "had no download e-mail sent as of " in page
    # The date form keeps "never sent" (a hidden field) and the way back keeps the dates.
    form = page.split('id="order-dates"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="email" value="never">' in form
    assert '<input type="hidden" name="per_page" value="100">' in form
    back = re.search(r'<a href="([^"]+)"[^>]*>Show all orders of these days</a>', page)
    assert back and "email" not in back.group(1) and f"ordered_to={end.isoformat()}" in back.group(1)
    assert _fileflare_calls(sandbox) == before


@pytest.mark.parametrize(
    ("asked", "sentence"),
    [
        (
            {"ordered_from": "2026-02-30"},
            "“2026-02-30” in the “Ordered from” box is not a date. Pick a day from the calendar, or type "
            "it as year-month-day, for example 2026-03-31.",
        ),
        (
            {"ordered_to": "last tuesday"},
            "“last tuesday” in the “to” box is not a date. Pick a day from the calendar",
        ),
        (
            {"ordered_from": "0226-03-01"},
            "The “Ordered from” day is 1 Mar 226: choose a day between 1 Jan 1970 and 31 Dec 2999 "
            "(check the year).",
        ),
        (
            {"ordered_from": "2026-03-31", "ordered_to": "2026-03-01"},
            "“Ordered from” (31 Mar 2026) is after “to” (1 Mar 2026): choose a “to” day on or after the "
            "“from” day, or swap the two.",
        ),
    ],
)
def test_a_bad_date_is_a_sentence_beside_the_boxes_which_keep_what_was_typed(
    support_client: Client, sandbox: Sandbox, asked: dict[str, str], sentence: str
) -> None:
    before = _fileflare_calls(sandbox)
    for headers in ({}, {"HX-Request": "true"}):
        response = support_client.get("/orders/", asked, headers=headers)
        assert response.status_code == 200
        page = unescape(response.content.decode())
        assert sentence in page
        assert 'role="alert" id="order-dates-error"' in page
        assert "<tbody>" not in page  # no list passes for the filtered one
        for name, typed in asked.items():
            box = _input(page, name)
            assert f'value="{typed}"' in box
            assert 'aria-describedby="order-dates-help order-dates-error"' in box
        if "2026-03-01" not in asked.get("ordered_to", ""):
            assert 'aria-invalid="true"' in _input(page, next(iter(asked)))
    assert _fileflare_calls(sandbox) == before


def test_a_search_still_finds_its_order_whatever_the_date_boxes_hold(support_client: Client) -> None:
    page = support_client.get("/orders/", {"q": "99999999", "ordered_from": "nonsense"}).content.decode()
    assert "No order has the number 99999999." in page and "is not a date" not in page


def _index_partly_walked() -> tuple[OrderSync, int]:
    """The newest 1,000 indexed, the walk still going, and Fileflare counting 15,608 orders; with the
    number of orders the index holds."""
    state = _index_newest_orders()
    OrderSync.objects.filter(pk=state.pk).update(walk_finished_at=None, next_page=2, total=15_608)
    return state, IndexedOrder.objects.filter(shop=state.shop).count()


def test_before_the_index_has_every_order_the_page_says_which_it_has_read(
    support_client: Client, sandbox: Sandbox
) -> None:
    state, indexed = _index_partly_walked()
    before = _fileflare_calls(sandbox)
    page = support_client.get("/orders/", {"ordered_from": "2025-01-01"}).content.decode()
    assert (
        f"The order index has read {indexed:,} of about 15,608 orders so far, newest first; orders it has "
        "not reached yet are not in this list." in unescape(page)
    )
    assert "(among the orders the index has read)" in page
    OrderSync.objects.filter(pk=state.pk).update(walk_finished_at=timezone.now(), next_page=0)
    page = support_client.get("/orders/", {"ordered_from": "2025-01-01"}).content.decode()
    assert "The order index has read" not in page and "(in the whole shop)" in page
    assert _fileflare_calls(sandbox) == before


def test_before_the_index_has_read_anything_the_date_filter_says_so_and_asks_nothing(
    support_client: Client, sandbox: Sandbox
) -> None:
    before = _fileflare_calls(sandbox)
    page = support_client.get("/orders/", {"ordered_from": "2026-01-01"}).content.decode()
    assert (
        "Only the dashboard&#x27;s order index can list orders by date, and it has not read this shop&#x27;s "
        "orders yet. Try again in a minute" in page
    )
    assert 'value="2026-01-01"' in _input(page, "ordered_from")
    assert _fileflare_calls(sandbox) == before


def test_while_the_index_is_still_filling_the_orders_page_says_what_is_known_not_a_false_total(
    support_client: Client, sandbox: Sandbox
) -> None:
    """Issue 25 (3): "Page 1 of 40 · 1000 orders" while the shop had more: the index's count is a floor."""
    state, indexed = _index_partly_walked()
    before = _fileflare_calls(sandbox)
    pager = _pager(support_client.get("/orders/").content.decode())
    assert pager == f"Page 1 · at least {indexed:,} orders so far; 15,608 at Fileflare"

    dated = _pager(support_client.get("/orders/", {"ordered_from": "2000-01-01"}).content.decode())
    assert dated == f"Page 1 · at least {indexed:,} orders so far"  # no shop count for a date range

    OrderSync.objects.filter(pk=state.pk).update(walk_finished_at=timezone.now(), next_page=0)
    pages = -(-indexed // 25)
    whole = _pager(support_client.get("/orders/").content.decode())
    assert whole == f"Page 1 of {pages} · {indexed:,} orders"
    assert _fileflare_calls(sandbox) == before


def _pager(page: str) -> str:
    found = re.search(r'<span class="muted" id="order-pages">(.*?)</span>', page)
    assert found, "the Orders page shows its pager"
    return unescape(found.group(1))
