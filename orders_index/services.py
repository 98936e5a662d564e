"""What the rest of the dashboard asks the order index. Every function costs no upstream request.

- `order_index_lookup(order_number)`: the orders with that number (search by number).
- `order_index_get(order_id)`: one order by its Fileflare ID (the order page's number ↔ ID).
- `order_index_id_for(number)`, `order_index_number_for(order_id)`: the same, as the API layer's
  `fileflare.order_id_for` / `order_number_for` answer it (None when not exactly one is known).
- `order_index_page(...)`: a page of orders, newest first, with filters the API cannot do.
- `order_index_holding(filename=, url=)`: the orders a file is attached to (search by a pasted file).
- `order_index_note(order)`: our own write changed an order (a resend): keep what the upstream answered.
- `order_index_saw(orders, fetched_at=, stale=)`: a page read these orders fresh: keep them at once.
- `order_index_forget(order_id)`: Fileflare says the order no longer exists.
- `order_index_recheck(order_ids=)`: read these rows from Fileflare now (the Orders page's button).
- `order_sync_progress()`: how far the background sync has got (the status page).
- `order_sync_ensure()`: start the sync, or resume it after its worker was lost: the task worker's
  keeper (registered in OrdersIndexConfig.ready, see background.keepers), and `manage.py order_sync`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fileflare_admin import readahead
from fileflare_admin.api import deadline, fileflare, types
from fileflare_admin.api.errors import ApiError, NotConfigured, NotFound
from fileflare_admin.api.http import FILEFLARE
from fileflare_admin.filenames import same_file
from fileflare_admin.numbers import grouped
from orders_index import sync, tasks
from orders_index.models import IndexedOrder, OrderSync
from orders_index.store import as_order, forget_missing, rows_as_orders, store_orders

logger = logging.getLogger(__name__)


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


def order_index_shop() -> str | None:
    """The shop this dashboard's index rows belong to (the API identity), None when Fileflare is not
    configured: a query of the index's own (orders.identity's) names it."""
    return _shop()


def _rows() -> QuerySet[IndexedOrder]:
    shop = _shop()
    return IndexedOrder.objects.filter(shop=shop) if shop else IndexedOrder.objects.none()


def order_index_rows() -> QuerySet[IndexedOrder]:
    """This shop's indexed orders (none when Fileflare is not configured), for store-wide reports."""
    return _rows()


def order_index_as_of() -> datetime | None:
    """When the sync last read the newest page of this shop's orders: what the index knows is as of then."""
    shop = _shop()
    state = OrderSync.objects.filter(shop=shop).first() if shop else None
    return state.newest_seen_at if state is not None else None


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


def _holds(item: object, filename: str, url: str) -> bool:
    if not isinstance(item, dict):
        return False
    name, link = str(item.get("filename") or ""), str(item.get("url") or "")
    if url and link and same_file(link.rstrip("/"), url.rstrip("/")):
        return True
    last = link.rstrip("/").rsplit("/", 1)[-1] if link else ""
    return bool(filename) and (same_file(name, filename) or (bool(last) and same_file(last, filename)))


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


def order_index_note(order: types.Order, *, seen_at: datetime | None = None) -> None:
    """Our own write's answer (a resend's order, with its new e-mail time) goes into the index at once;
    `seen_at`: when Fileflare said so (default now). An older answer never overwrites a newer row."""
    shop = _shop()
    if shop:
        with transaction.atomic():  # a failure here must not break the caller's transaction
            store_orders(shop=shop, orders=[order], seen_at=seen_at or timezone.now())


def order_index_saw(
    orders: Sequence[types.Order], *, fetched_at: datetime, stale: bool, once_sent: bool = False
) -> None:
    """A page read these orders from Fileflare (the order page, a search, a list): the index keeps what
    it was told at once, so no filter answers from an older copy than a page has shown. A saved copy
    ("as of", `stale`) tells nothing new. The index failing never breaks the page that read them.
    `once_sent`: the page shows nothing the index holds of these orders, so they are kept once its response
    is sent (deadline.once_sent: the order page's cold load, issue 28), not while the person waits."""
    kept = _stored_key(orders, fetched_at=fetched_at, stale=stale)
    shop = _shop()
    if kept is None or shop is None:
        return
    if not once_sent:
        if not readahead.get(kept):  # else a cached copy read again: stored already
            _store_seen(shop, orders, fetched_at=fetched_at, kept=kept)
        return
    # The page shows nothing of it: whether it was stored already is what the page read ahead (a warm
    # load), else asked after the response.
    read, stored = readahead.peek(kept)
    if not read or stored is readahead.MISSING or not stored:
        store = functools.partial(_store_seen, shop, orders, fetched_at=fetched_at, kept=kept, ask=not read)
        deadline.once_sent(store)


def _store_seen(
    shop: str, orders: Sequence[types.Order], *, fetched_at: datetime, kept: str, ask: bool = False
) -> None:
    if ask and readahead.get(kept):  # stored already
        return
    try:
        with transaction.atomic():
            store_orders(shop=shop, orders=orders, seen_at=fetched_at)
    except DatabaseError as error:
        logger.warning("order index not updated from a page's read: %s", type(error).__name__)
        return
    # Noted only once it is committed (a rolled-back store is made again by the next page that reads it),
    # with the page's other writes once its response is sent (readahead.set_later: nobody waits for it).
    transaction.on_commit(lambda: readahead.set_later({kept: True}, settings.UPSTREAM_STALE_TTL))


def _stored_key(orders: Sequence[types.Order], *, fetched_at: datetime, stale: bool) -> str | None:
    """The cache key that says order_index_saw stored this answer already (None: it stores nothing)."""
    shop = _shop()
    if not shop or stale or not orders:
        return None
    return _answer_kept_key(shop, orders, fetched_at)


def _answer_kept_key(shop: str, orders: Sequence[types.Order], fetched_at: datetime) -> str:
    """Names one upstream answer (when it was fetched, which orders, with or without their files): a warm
    page reads the same cached answer again and again, and storing it again changes nothing (its rows are
    as new or newer), so it is stored once (issue 28: the Orders list stored ~1,000 rows on every load)."""
    listed = "|".join(f"{order.id}:{int(order.assets_loaded)}" for order in orders)
    digest = hashlib.sha256(f"{shop}|{fetched_at.isoformat()}|{listed}".encode()).hexdigest()[:32]
    return f"ffa:index-kept:{digest}"


def order_index_forget(order_id: str) -> None:
    _rows().filter(order_id=str(order_id).lower()).delete()


# The Orders page's "Re-check these N orders now": at most this many list reads (1,000 orders each) and
# single-order reads (for an order no list read placed), from staff's own budget like any page.
RECHECK_LIST_READS = 3
RECHECK_SINGLE_READS = 10


@dataclass(frozen=True)
class Recheck:
    """What re-checking indexed orders at Fileflare found: `checked` of `asked` read now, `changed`
    of them differed from the index, `gone` no longer exist there; `calls` requests made; `error` the
    sentence of a read that failed (the rest then wait for the next press)."""

    asked: int
    checked: int
    changed: int
    gone: int
    calls: int
    error: str = ""


def _position(rows: QuerySet[IndexedOrder], row: IndexedOrder) -> int | None:
    """Where the order stands in Fileflare's list, newest first, as far as the index knows."""
    if row.ordered_at is None:
        return None
    newer = Q(ordered_at__gt=row.ordered_at) | Q(ordered_at=row.ordered_at, order_number__gt=row.order_number)
    return rows.filter(newer).count()


def _snapshot(row: IndexedOrder) -> tuple[object, ...]:
    return (row.email_sent_at, row.assets, row.order_number, row.ordered_at)


def order_index_recheck(*, order_ids: Sequence[str]) -> Recheck:
    """Read these indexed orders from Fileflare now and keep what it says (the Orders page's rows).

    The pages of the list that hold them are read (1,000 orders with their files a request, so a page of
    the Orders list costs one read, seldom two or three); an order no such read placed is read alone,
    and one Fileflare no longer has leaves the index. Every read takes a slot of staff's budget: when it
    is spent the rest wait, and `error` says so."""
    shop = _shop()
    rows = _rows()
    wanted = {row.order_id: row for row in rows.filter(order_id__in=[str(i).lower() for i in order_ids])}
    before = {order_id: _snapshot(row) for order_id, row in wanted.items()}
    if not shop or not wanted:
        return Recheck(asked=len(order_ids), checked=0, changed=0, gone=0, calls=0)
    positions = [_position(rows, row) for row in wanted.values()]
    pages = sorted({position // sync.PAGE_SIZE + 1 for position in positions if position is not None})
    seen: set[str] = set()
    calls, error = 0, ""
    try:
        for page in pages[:RECHECK_LIST_READS]:
            fetched = fileflare.order_list(page=page, limit=sync.PAGE_SIZE, with_assets=True, fresh=True)
            calls += 1
            listed = fetched.value
            store_orders(shop=shop, orders=listed.items, seen_at=fetched.fetched_at)
            last = len(listed.items) < sync.PAGE_SIZE
            forget_missing(
                shop=shop, listed=listed.items, seen_at=fetched.fetched_at, first=page == 1, last=last
            )
            seen |= {order.id for order in listed.items}
        still = set(rows.filter(order_id__in=list(wanted)).values_list("order_id", flat=True))
        left = [order_id for order_id in wanted if order_id not in seen and order_id in still]
        for order_id in left[:RECHECK_SINGLE_READS]:
            calls += 1
            try:
                single = fileflare.order_get(order_id=order_id, fresh=True)
            except NotFound:
                order_index_forget(order_id)
                continue
            store_orders(shop=shop, orders=[single.value], seen_at=single.fetched_at)
            seen.add(order_id)
    except ApiError as failed:
        error = failed.user_message
    now = {row.order_id: _snapshot(row) for row in rows.filter(order_id__in=list(wanted))}
    gone = len(wanted) - len(now)  # left the index: Fileflare no longer has them
    checked = [order_id for order_id in now if order_id in seen]
    changed = sum(1 for order_id in checked if now[order_id] != before[order_id])
    return Recheck(
        asked=len(order_ids),
        checked=len(checked) + gone,
        changed=changed,
        gone=gone,
        calls=calls,
        error=error,
    )


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
            return _("The order index has not started yet: it starts with the task worker.")
        values = {
            "indexed": grouped(self.indexed),
            "total": grouped(self.total or 0),
            "next": grouped(self.next_page or 0),
            "last": grouped(self.last_page or 0),
            "fresh": fresh_orders_sentence(),
        }
        if self.walking and self.next_page and self.last_page:
            if self.total is not None:
                return _(
                    "Indexing the order list: page %(next)s of %(last)s next, %(indexed)s of %(total)s "
                    "orders indexed."
                ) % values
            return _(
                "Indexing the order list: page %(next)s of %(last)s next, %(indexed)s orders indexed."
            ) % values
        if self.total is not None:
            return _("All %(indexed)s of %(total)s orders indexed; %(fresh)s") % values
        return _("All %(indexed)s orders indexed; %(fresh)s") % values


def fresh_orders_sentence() -> str:
    """How fresh the newest orders are kept, from the settings the sync runs on (ORDER_SYNC_FRESH_PAGES,
    ORDER_SYNC_REFRESH_SECONDS): "the newest 2,000 are re-read every 25 seconds."."""
    newest = settings.ORDER_SYNC_FRESH_PAGES * sync.PAGE_SIZE
    seconds = settings.ORDER_SYNC_REFRESH_SECONDS
    return ngettext(
        "the newest %(newest)s are re-read every %(seconds)s second.",
        "the newest %(newest)s are re-read every %(seconds)s seconds.",
        seconds,
    ) % {"newest": grouped(newest), "seconds": grouped(seconds)}


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
        last_error=_(state.last_error) if state and state.last_error else "",  # stored in English
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
    "Recheck",
    "order_index_forget",
    "order_index_get",
    "order_index_id_for",
    "order_index_lookup",
    "order_index_note",
    "order_index_number_for",
    "order_index_page",
    "order_index_recheck",
    "order_index_saw",
    "order_sync_ensure",
    "order_sync_progress",
]
