"""An order a page of Fileflare's list should hold and does not is gone; ties and later notes stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from fileflare_admin.api import types
from orders_index.models import IndexedOrder
from orders_index.store import forget_missing, store_orders

pytestmark = pytest.mark.django_db
SHOP = "forget-shop"
START = datetime(2026, 3, 1, tzinfo=UTC)


def _orders(count: int) -> list[types.Order]:
    """`count` orders, one a minute, newest first (as Fileflare lists them)."""
    made = [types.Order(str(uuid.uuid4()), 100 + n, START + timedelta(minutes=n), None) for n in range(count)]
    return made[::-1]


def _kept() -> set[str]:
    return set(IndexedOrder.objects.filter(shop=SHOP).values_list("order_id", flat=True))


def test_a_page_in_the_middle_of_the_walk_drops_only_what_lies_strictly_inside_it() -> None:
    orders = _orders(10)  # orders[0] newest
    seen = START + timedelta(hours=1)
    store_orders(shop=SHOP, orders=orders, seen_at=seen)
    page = orders[3:7]  # a page of the walk: neither the newest nor the last
    missing = page[1]
    answer = [order for order in page if order is not missing]

    gone = forget_missing(
        shop=SHOP, listed=answer, seen_at=seen + timedelta(minutes=1), first=False, last=False
    )

    assert gone == 1 and _kept() == {order.id for order in orders} - {missing.id}


def test_the_first_and_last_pages_drop_what_lies_beyond_them_but_not_what_was_noted_later() -> None:
    orders = _orders(6)
    seen = START + timedelta(hours=1)
    store_orders(shop=SHOP, orders=orders, seen_at=seen)
    noted_later = orders[0]  # a page read it after the list answered: left alone
    IndexedOrder.objects.filter(order_id=noted_later.id).update(seen_at=seen + timedelta(minutes=5))
    answer = orders[2:4]  # the whole shop, as one page: orders[1] and orders[4:] are gone

    forget_missing(shop=SHOP, listed=answer, seen_at=seen + timedelta(minutes=1), first=True, last=True)

    assert _kept() == {noted_later.id, orders[2].id, orders[3].id}
