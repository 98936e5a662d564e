"""What the rest of the dashboard asks the order index. Every function costs no upstream request.

- `order_index_lookup(order_number)`: the orders with that number (search by number).
- `order_index_get(order_id)`: one order by its Fileflare ID (the order page's number ↔ ID).
- `order_index_id_for(number)`, `order_index_number_for(order_id)`: the same, as the API layer's
  `fileflare.order_id_for` / `order_number_for` answer it (None when not exactly one is known).
- `order_index_page(...)`: a page of orders, newest first, with filters the API cannot do.
- `order_index_holding(filename=, url=)`: the orders a file is attached to (search by a pasted file).
- `order_index_note(order)`: our own write changed an order (a resend): keep what the upstream answered.
- `order_index_forget(order_id)`: Fileflare says the order no longer exists.
- `order_sync_progress()`: how far the background sync has got (the status page).
- `order_sync_ensure()`: start the sync, or resume it after its worker was lost: the task worker's
  keeper (registered in OrdersIndexConfig.ready, see background.keepers), and `manage.py order_sync`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from fileflare_admin.api import types
from fileflare_admin.api.errors import NotConfigured
from fileflare_admin.api.http import FILEFLARE
from orders_index import sync, tasks
from orders_index.models import IndexedOrder, OrderSync
from orders_index.store import as_order, rows_as_orders, store_orders


@dataclass(frozen=True)
class IndexedOrderView:
    """An order as the index holds it, and when Fileflare said so."""

    order: types.Order
    seen_at: datetime

    @property
    def stale(self) -> bool:
        """Older than the read cache's lifetime: a page shows "as of" beside it."""
        return _is_stale(self.seen_at)


@dataclass(frozen=True)
class OrderIndexPage:
    """A page of indexed orders. `fetched_at` is the oldest `seen_at` among them; `complete` says the sync
    has walked every order at least once (before that, filters can only see what it has read so far)."""

    orders: types.Page[types.Order]
    fetched_at: datetime | None
    stale: bool
    complete: bool
    shop_total: int | None = None  # orders Fileflare counted at the sync's last read of its list


def _is_stale(seen_at: datetime) -> bool:
    return timezone.now() - seen_at > timedelta(seconds=settings.UPSTREAM_CACHE_TTL)


def _shop() -> str | None:
    try:
        return FILEFLARE.identity()
    except NotConfigured:
        return None


def _rows() -> QuerySet[IndexedOrder]:
    shop = _shop()
    return IndexedOrder.objects.filter(shop=shop) if shop else IndexedOrder.objects.none()


def order_index_lookup(order_number: int) -> list[IndexedOrderView]:
    """The indexed orders with this number (one, normally), newest first."""
    return [IndexedOrderView(as_order(row), row.seen_at) for row in _rows().filter(order_number=order_number)]


def order_index_get(order_id: str) -> IndexedOrderView | None:
    row = _rows().filter(order_id=str(order_id).lower()).first()
    return IndexedOrderView(as_order(row), row.seen_at) if row else None


def order_index_id_for(order_number: int) -> str | None:
    """The Fileflare ID of the one indexed order with this number; None for none or several."""
    ids = list(_rows().filter(order_number=order_number).values_list("order_id", flat=True)[:2])
    return ids[0] if len(ids) == 1 else None


def order_index_number_for(order_id: str) -> int | None:
    return _rows().filter(order_id=str(order_id).lower()).values_list("order_number", flat=True).first()


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def order_index_page(
    *,
    page: int = 1,
    per_page: int = 25,
    email_never_sent: bool = False,
    ordered_from: date | None = None,
    ordered_to: date | None = None,
) -> OrderIndexPage | None:
    """Newest first, like Fileflare's list. Dates are days in the current time zone, both included.

    None when the index cannot answer yet (the sync has not read the newest page of this shop): ask
    Fileflare instead.
    """
    shop = _shop()
    state = OrderSync.objects.filter(shop=shop).first() if shop else None
    if state is None or state.newest_seen_at is None:
        return None
    rows = IndexedOrder.objects.filter(shop=shop)
    if email_never_sent:
        rows = rows.filter(email_sent_at__isnull=True)
    if ordered_from is not None:
        rows = rows.filter(ordered_at__gte=_day_start(ordered_from))
    if ordered_to is not None:
        rows = rows.filter(ordered_at__lt=_day_start(ordered_to + timedelta(days=1)))
    total = rows.count()
    per_page = max(int(per_page), 1)
    last_page = max(-(-total // per_page), 1)
    page = min(max(int(page), 1), last_page)
    shown = list(rows.order_by("-ordered_at", "-order_number")[(page - 1) * per_page : page * per_page])
    oldest = min((row.seen_at for row in shown), default=None)
    return OrderIndexPage(
        orders=types.Page(
            items=rows_as_orders(shown), page=page, per_page=per_page, total=total, last_page=last_page
        ),
        fetched_at=oldest,
        stale=oldest is not None and _is_stale(oldest),
        complete=state.walk_finished_at is not None,
        shop_total=state.total,
    )


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _holds(item: object, filename: str, url: str) -> bool:
    if not isinstance(item, dict):
        return False
    name, link = str(item.get("filename") or ""), str(item.get("url") or "")
    if url and link and _same_text(link.rstrip("/"), url.rstrip("/")):
        return True
    last = link.rstrip("/").rsplit("/", 1)[-1] if link else ""
    return bool(filename) and (_same_text(name, filename) or (bool(last) and _same_text(last, filename)))


HOLDING_LIMIT = 50  # orders listed for one file: enough to see who has it, a page's worth


def order_index_holding(*, filename: str = "", url: str = "") -> list[IndexedOrderView]:
    """The indexed orders that have this file attached to the order itself (not through a product),
    newest first: by its name (any case and spacing; a link's last part counts as its name) or by its
    link. Only orders with files attached are read, in Python, so every database engine answers alike."""
    if not filename and not url:
        return []
    found: list[IndexedOrderView] = []
    rows = _rows().exclude(assets=[]).order_by("-ordered_at", "-order_number")
    for row in rows.iterator(chunk_size=500):
        if any(_holds(item, filename, url) for item in row.assets or ()):
            found.append(IndexedOrderView(as_order(row), row.seen_at))
            if len(found) >= HOLDING_LIMIT:
                break
    return found


def order_index_note(order: types.Order) -> None:
    """Our own write's answer (a resend's order, with its new e-mail time) goes into the index at once."""
    shop = _shop()
    if shop:
        with transaction.atomic():  # a failure here must not break the caller's transaction
            store_orders(shop=shop, orders=[order], seen_at=timezone.now())


def order_index_forget(order_id: str) -> None:
    _rows().filter(order_id=str(order_id).lower()).delete()


@dataclass(frozen=True)
class OrderSyncProgress:
    indexed: int  # orders in the index
    total: int | None  # orders Fileflare counted at the last read
    walking: bool  # a walk of the whole list is under way
    next_page: int | None
    last_page: int | None
    walk_finished_at: datetime | None
    newest_seen_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    next_step_at: datetime | None
    calls: int
    budget_per_minute: int

    @property
    def sentence(self) -> str:
        """One line for the status page."""
        if self.newest_seen_at is None and not self.last_error:
            return "The order index has not started yet: it starts with the task worker."
        counted = f"{self.indexed:,} of {self.total:,}" if self.total is not None else f"{self.indexed:,}"
        if self.walking and self.next_page and self.last_page:
            return (
                f"Indexing the order list: page {self.next_page} of {self.last_page} next, "
                f"{counted} orders indexed."
            )
        return f"All {counted} orders indexed; {fresh_orders_sentence()}"


def fresh_orders_sentence() -> str:
    """How fresh the newest orders are kept, from the settings the sync runs on (ORDER_SYNC_FRESH_PAGES,
    ORDER_SYNC_REFRESH_SECONDS): "the newest 2,000 are re-read every 25 seconds."."""
    newest = settings.ORDER_SYNC_FRESH_PAGES * sync.PAGE_SIZE
    seconds = settings.ORDER_SYNC_REFRESH_SECONDS
    return (
        f"the newest {newest:,} are re-read every {seconds} second{'s' if seconds != 1 else ''}."
    )


def order_sync_progress() -> OrderSyncProgress:
    shop = _shop()
    state = OrderSync.objects.filter(shop=shop).first() if shop else None
    rows = IndexedOrder.objects.filter(shop=shop) if shop else IndexedOrder.objects.none()
    return OrderSyncProgress(
        indexed=rows.count(),
        total=state.total if state else None,
        walking=bool(state and state.next_page),
        next_page=state.next_page if state and state.next_page else None,
        last_page=state.last_page if state else None,
        walk_finished_at=state.walk_finished_at if state else None,
        newest_seen_at=state.newest_seen_at if state else None,
        last_error=state.last_error if state else "",
        last_error_at=state.last_error_at if state else None,
        next_step_at=state.step_due_at if state else None,
        calls=state.calls if state else 0,
        budget_per_minute=settings.ORDER_SYNC_BUDGET_PER_MINUTE,
    )


def order_sync_ensure() -> bool:
    """Start the sync, or queue it again when its step was lost with a worker; True when a step was
    queued. Safe any time: a step running or due is left alone."""
    return sync.ensure(enqueue=tasks.enqueue)


__all__ = [
    "IndexedOrderView",
    "OrderIndexPage",
    "OrderSyncProgress",
    "order_index_forget",
    "order_index_get",
    "order_index_id_for",
    "order_index_lookup",
    "order_index_note",
    "order_index_number_for",
    "order_index_page",
    "order_sync_ensure",
    "order_sync_progress",
]
