"""Reading and writing index rows: one Fileflare order in, one typed order out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fileflare_admin.api import types
from fileflare_admin.storable import storable
from orders_index.models import IndexedOrder

CHUNK = 500  # ids per IN (…) query: well under every engine's limit on parameters


def asset_json(asset: types.Asset) -> dict[str, Any]:
    return {
        "id": asset.id,
        "filename": asset.filename,
        "size": asset.size_text,
        "size_bytes": asset.size_bytes,
        "is_file": asset.is_file,
        "is_link": asset.is_link,
        "url": asset.url,
    }


def as_order(row: IndexedOrder) -> types.Order:
    """The row as the API client's own type, so a page shows an indexed order like a fetched one."""
    assets = tuple(
        types.Asset(
            id=str(item.get("id", "")),
            filename=str(item.get("filename", "")),
            size_text=str(item.get("size") or ""),
            size_bytes=item.get("size_bytes") if isinstance(item.get("size_bytes"), int) else None,
            is_file=bool(item.get("is_file")),
            is_link=bool(item.get("is_link")),
            url=item.get("url") if isinstance(item.get("url"), str) else None,
        )
        for item in row.assets
        if isinstance(item, dict)
    )
    return types.Order(
        id=row.order_id,
        order_number=row.order_number,
        ordered_at=row.ordered_at,
        email_sent_at=row.email_sent_at,
        assets=assets,
        assets_loaded=True,
    )


def _fields(order: types.Order, *, keep_assets: list[Any] | None = None) -> dict[str, Any]:
    return {
        "order_number": order.order_number,
        "ordered_at": order.ordered_at,
        "email_sent_at": order.email_sent_at,
        "assets": [storable(asset_json(asset)) for asset in order.assets]
        if order.assets_loaded or keep_assets is None
        else keep_assets,
    }


def store_orders(*, shop: str, orders: Sequence[types.Order], seen_at: datetime) -> int:
    """Keep what Fileflare said at `seen_at` about these orders; returns how many were new.

    A row that holds something newer (our own write noted after this answer was fetched) is left alone:
    each row's update is conditional on its `seen_at`, so no older answer overwrites a newer one.
    """
    unique = {order.id: order for order in orders}
    existing: dict[str, IndexedOrder] = {}
    ids = list(unique)
    for start in range(0, len(ids), CHUNK):
        for row in IndexedOrder.objects.filter(shop=shop, order_id__in=ids[start : start + CHUNK]):
            existing[row.order_id] = row
    new = [
        IndexedOrder(shop=shop, order_id=order.id, seen_at=seen_at, **_fields(order))
        for order in unique.values()
        if order.id not in existing
    ]
    IndexedOrder.objects.bulk_create(new, ignore_conflicts=True, batch_size=CHUNK)
    unchanged: list[int] = []
    for order_id, row in existing.items():
        fields = _fields(unique[order_id], keep_assets=row.assets)
        if all(getattr(row, name) == value for name, value in fields.items()):
            unchanged.append(row.pk)
        else:
            IndexedOrder.objects.filter(pk=row.pk, seen_at__lte=seen_at).update(seen_at=seen_at, **fields)
    for start in range(0, len(unchanged), CHUNK):
        IndexedOrder.objects.filter(pk__in=unchanged[start : start + CHUNK], seen_at__lt=seen_at).update(
            seen_at=seen_at
        )
    return len(new)


def rows_as_orders(rows: Iterable[IndexedOrder]) -> tuple[types.Order, ...]:
    return tuple(as_order(row) for row in rows)


def forget_missing(
    *, shop: str, listed: Sequence[types.Order], seen_at: datetime, first: bool, last: bool
) -> int:
    """A page of Fileflare's list (newest first) answered at `seen_at`: the indexed orders it should have
    held but did not are gone at Fileflare; drop them. Returns how many.

    An order placed strictly between the page's newest and oldest order is on that page in the same
    answer, whatever arrived meanwhile; on the first page nothing is newer than its newest, and on the
    last nothing older than its oldest. Orders noted after `seen_at` are left alone, and so are ties with
    the page's ends (their order is the list's to choose)."""
    dates = [order.ordered_at for order in listed if order.ordered_at is not None]
    if not dates:
        return 0
    rows = IndexedOrder.objects.filter(shop=shop, seen_at__lt=seen_at, ordered_at__isnull=False)
    if not first:
        rows = rows.filter(ordered_at__lt=max(dates))
    if not last:
        rows = rows.filter(ordered_at__gt=min(dates))
    listed_ids = {order.id for order in listed}
    gone = [pk for pk, order_id in rows.values_list("pk", "order_id") if order_id not in listed_ids]
    for start in range(0, len(gone), CHUNK):
        IndexedOrder.objects.filter(pk__in=gone[start : start + CHUNK]).delete()
    return len(gone)
