"""An order's identity: which Fileflare order ID an order number names, and back. The one resolver the
search box, the customer's view, the order page, the writes' audit entries and bulk fixes ask.

Number → ID asks, cheapest first:
1. the order index (orders_index: no call), when it holds exactly one order with the number;
2. the API layer's read cache (no call), when an earlier answer showed the order;
3. Fileflare (one list call filtered by the number; its answer primes the cache for the order page,
   and goes into the index at once).
ID → number asks the index, then the read cache, never Fileflare: reading the order itself tells it.

Text → number is fileflare_admin.order_numbers' (pure, and used by apps below this one too). This module
lives in `orders` because it needs both the index and the API: `orders_index` must not import `orders`,
and `jobs` sits above both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection

from fileflare_admin import kept
from fileflare_admin.api import fileflare, types
from orders.models import KnownCustomerToken
from orders_index.models import IndexedOrder
from orders_index.services import (
    order_index_id_for,
    order_index_number_for,
    order_index_saw,
    order_index_shop,
)


@dataclass(frozen=True)
class NumberLookup:
    """What is known of an order number: `order_id` is the one order with it (None for none, or for
    several); `listed` is Fileflare's answer when it had to be asked (None when the index or the
    cache knew)."""

    number: int
    order_id: str | None
    listed: types.Fetched[types.Page[types.Order]] | None = None

    @property
    def matches(self) -> list[types.Order]:
        """The listed orders with exactly this number (the API's filter may match more)."""
        listed = self.listed.value.items if self.listed is not None else ()
        return [order for order in listed if order.order_number == self.number]


def order_lookup_by_number(number: int) -> NumberLookup:
    """The order(s) with this number: index, read cache, then one call. Raises the API's errors when
    Fileflare had to be asked and did not answer."""
    known = order_index_id_for(number) or fileflare.order_id_for(number)
    if known is not None:
        return NumberLookup(number, known)
    listed = fileflare.order_list(order_number=number, with_assets=True)
    order_index_saw(listed.value.items, fetched_at=listed.fetched_at, stale=listed.stale)
    lookup = NumberLookup(number, None, listed)
    matches = lookup.matches
    return NumberLookup(number, matches[0].id, listed) if len(matches) == 1 else lookup


def order_id_for_number(number: int) -> str | None:
    """The Fileflare ID of the one order with this number; None when there is none or several. Raises
    the API's errors when Fileflare had to be asked and did not answer."""
    return order_lookup_by_number(number).order_id


def order_number_for_id(order_id: str) -> int | None:
    """The order number of this order ID when the index or an earlier answer knows it (no call)."""
    return order_index_number_for(order_id) or fileflare.order_number_for(order_id)


def order_number_and_link(order_id: str) -> tuple[int | None, tuple[str, str] | None]:
    """order_number_for_id, and the customer's (token, status URL) pasted for that number
    (KnownCustomerToken.link_for): the order page's first read, no query when the index holds the order
    and neither table was written since (`indexed_number_and_link`)."""
    indexed = indexed_number_and_link(order_id)
    if indexed is not None:
        return indexed
    number = fileflare.order_number_for(order_id)
    return number, (KnownCustomerToken.link_for(number) if number is not None else None)


def indexed_number_and_link(order_id: str) -> tuple[int, tuple[str, str] | None] | None:
    """The order's number as the index holds it, and the customer's link pasted for it; None when the index
    does not hold the order. One query, kept until either table is written (fileflare_admin.kept: an order
    page kept whole sees either change). Written as SQL: compiling the two ORM queries cost more than
    running them (issue 28)."""
    shop = order_index_shop()
    if not shop:
        return None
    order_id = str(order_id).lower()
    named = ("number and link", shop, order_id)
    row = kept.read(kept.IDENTITY, named, lambda: _number_and_link(shop, order_id))
    if row is None or not row[0]:
        return None
    return int(row[0]), ((row[1], row[2] or "") if row[1] is not None else None)


def _number_and_link(shop: str, order_id: str) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(_number_and_link_sql(), [shop, order_id])
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


@functools.cache
def _number_and_link_sql() -> str:
    quote = connection.ops.quote_name
    index, tokens = quote(IndexedOrder._meta.db_table), quote(KnownCustomerToken._meta.db_table)
    return (
        f"SELECT i.order_number, t.token, t.status_url FROM {index} i"  # noqa: S608  # values as parameters
        f" LEFT JOIN {tokens} t ON t.order_number = i.order_number"
        " WHERE i.shop = %s AND i.order_id = %s"
    )
