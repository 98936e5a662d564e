"""Customers at or near their download limit now, from the counts the dashboard last saw (no upstream call).

A record is listed when its last known count (downloads.history.last_counts) is at its file's limit or
within `near` of it, the limit known as the order page knows it (downloads.limits: this order's customer
page, another order's, or the shop's default), newest first (when the count was seen). A record whose
limit is unknown (no customer page seen for its file, no shop default) or unlimited is never listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from downloads.history import last_counts
from downloads.limits import KnownLimit, limits_by_download_id
from downloads.models import SeenLimit
from orders_index.services import order_index_rows


@dataclass(frozen=True)
class AtLimit:
    download_id: str
    order_number: int
    order_id: str | None  # Fileflare's order ID when the index knows it (the order page's address)
    product_id: int
    file_name: str
    count: int
    limit: KnownLimit
    seen_at: datetime
    now: datetime  # when the list was made: how long ago its limit was seen is counted from then

    @property
    def left(self) -> int:
        """Downloads left (0 at or past the limit)."""
        return max((self.limit.limit or 0) - self.count, 0)

    @property
    def limit_source(self) -> str:
        """As the order page says it: "limit seen on this order's customer page, 2 days ago"."""
        return self.limit.source_text(self.now)

    @property
    def reached(self) -> bool:
        return self.limit.reached(self.count)


def _lowest_limit() -> int | None:
    """The lowest limit any file has (a customer page's, or the shop's default): no record counted below
    it minus `near` can be near its own."""
    seen = SeenLimit.objects.filter(limit__isnull=False).aggregate(lowest=Min("limit"))["lowest"]
    default = settings.SHOP_DOWNLOAD_LIMIT
    known = [limit for limit in (seen, default) if limit is not None]
    return int(min(known)) if known else None


def at_limit_now(
    *, near: int = 1, now: datetime | None = None, linked_first: int | None = None
) -> list[AtLimit]:
    """The records at their limit or within `near` downloads of it, newest sighting first; the order ID
    (for the order page's link) of the first `linked_first` only (all when None)."""
    now = now or timezone.now()
    lowest = _lowest_limit()
    if lowest is None:
        return []
    # Only the records counted high enough to be near some limit are weighed one by one.
    known = last_counts(at_least=lowest - near)
    limits = limits_by_download_id({key: (row.order_number, row.file_name) for key, row in known.items()})
    found = [
        (row, limits[key])
        for key, row in known.items()
        if key in limits and limits[key].limit is not None and row.count >= (limits[key].limit or 0) - near
    ]
    found.sort(key=lambda pair: (pair[0].seen_at, pair[0].download_id), reverse=True)
    # The order page's address (Fileflare's order ID, from the order index) of the rows a page links.
    linked = found if linked_first is None else found[:linked_first]
    order_ids: dict[int, str] = {}
    for number, order_id in (
        order_index_rows()
        .filter(order_number__in={row.order_number for row, _ in linked})
        .values_list("order_number", "order_id")
    ):
        order_ids[number] = order_id if number not in order_ids else ""  # two orders with one number: neither
    return [
        AtLimit(
            download_id=row.download_id,
            order_number=row.order_number,
            order_id=order_ids.get(row.order_number) or None,
            product_id=row.product_id,
            file_name=row.file_name,
            count=row.count,
            limit=limit,
            seen_at=row.seen_at,
            now=now,
        )
        for row, limit in found
    ]
