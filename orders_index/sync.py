"""The background sync that fills the order index, one short step at a time.

It walks the order list newest first (`limit=1000`, `with_assets=true`: one request brings 1,000 orders
with their files), then keeps re-reading the newest ORDER_SYNC_FRESH_PAGES pages every
ORDER_SYNC_REFRESH_SECONDS (past the read cache, whose copies of those orders each read renews), and walks
everything again every ORDER_SYNC_REWALK_HOURS (orders changed elsewhere, e.g. a resend in Fileflare's
own app). Each read first checks the shared budget has room outside the reserve kept for staff's writes,
then takes one of the sync's ORDER_SYNC_BUDGET_PER_MINUTE (background.shares.ORDER_SYNC); when either says
wait, the next step is queued for then. New orders arriving during a walk push older ones to later pages,
so a walk re-reads a few but never misses one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from background import chain, pacing, shares
from fileflare_admin.api import fileflare
from fileflare_admin.api.errors import NotConfigured, Unavailable
from fileflare_admin.api.http import FILEFLARE
from orders_index.models import IndexedOrder, OrderSync
from orders_index.store import forget_missing, store_orders

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000  # the most one list request returns
STEP_SECONDS = 5.0  # a step stops after this long, so a worker asked to stop is free soon
MAX_BACKOFF = 600


def sync_row(shop: str) -> OrderSync:
    return OrderSync.objects.get_or_create(shop=shop)[0]


@dataclass(frozen=True)
class Read:
    page: int
    refresh: bool  # the newest page, read to keep it fresh
    fresh: bool = False  # one of the other pages kept fresh, read right after the newest

    @property
    def keeps_fresh(self) -> bool:
        """One of the newest pages, read past the cache."""
        return self.refresh or self.fresh


def next_read(state: OrderSync, now: datetime) -> Read | None:
    """What the sync reads next, or None when nothing is due."""
    refresh_due = state.newest_seen_at is None or now - state.newest_seen_at >= timedelta(
        seconds=settings.ORDER_SYNC_REFRESH_SECONDS
    )
    if refresh_due:
        return Read(page=1, refresh=True)
    if state.fresh_page:
        return Read(page=state.fresh_page, refresh=False, fresh=True)
    if state.next_page:
        return Read(page=state.next_page, refresh=False)
    return None


def seconds_until_due(state: OrderSync, now: datetime) -> float:
    """Nothing to read now: until the newest page is due again (or a new walk starts)."""
    refresh_at = (state.newest_seen_at or now) + timedelta(seconds=settings.ORDER_SYNC_REFRESH_SECONDS)
    return max((refresh_at - now).total_seconds(), 1.0)


def _start_walk_if_due(state: OrderSync, now: datetime) -> None:
    finished = state.walk_finished_at
    if state.next_page == 0 and (
        finished is None or now - finished >= timedelta(hours=settings.ORDER_SYNC_REWALK_HOURS)
    ):
        state.next_page, state.walk_started_at = 2, now  # page 1 is the newest page, read anyway
        state.save(update_fields=["next_page", "walk_started_at"])


def _after_page(state: OrderSync, page: int, *, items: int, now: datetime) -> None:
    """The walk moves past `page`, or ends with it."""
    last = state.last_page or (page if items < PAGE_SIZE else page + 1)
    if page >= last:
        state.next_page, state.walk_finished_at = 0, now
    else:
        state.next_page = page + 1


def _next_fresh_page(state: OrderSync, page: int) -> None:
    """After reading `page` of the newest ones: the next to keep fresh, or 0 when the round is done."""
    following = page + 1
    last = state.last_page or following
    state.fresh_page = following if following <= min(settings.ORDER_SYNC_FRESH_PAGES, last) else 0


def read_once(state: OrderSync, read: Read) -> None:
    """One list request (or its cached answer), stored; the walk moves on. Raises ApiError."""
    fetched = fileflare.order_list(page=read.page, limit=PAGE_SIZE, with_assets=True, fresh=read.keeps_fresh)
    listed = fetched.value
    known_before = IndexedOrder.objects.filter(shop=state.shop).exists()
    new = store_orders(shop=state.shop, orders=listed.items, seen_at=fetched.fetched_at)
    state.calls += 1
    if fetched.stale:
        # A saved copy: the budget was spent or Fileflare did not answer. Kept, but the walk waits.
        raise Unavailable(_("Fileflare did not answer the sync in time; it will try again."))
    # Orders the page should hold and does not were deleted at Fileflare: the index forgets them.
    last = len(listed.items) < PAGE_SIZE or (listed.last_page is not None and read.page >= listed.last_page)
    forget_missing(
        shop=state.shop, listed=listed.items, seen_at=fetched.fetched_at, first=read.page == 1, last=last
    )
    now = timezone.now()
    if listed.total is not None:
        state.total = listed.total
    if listed.last_page is not None:
        state.last_page = listed.last_page
    if read.keeps_fresh:
        _next_fresh_page(state, read.page)
    if read.refresh:
        state.newest_seen_at = fetched.fetched_at
        if state.next_page == 1:  # the very first read starts the first walk
            state.walk_started_at = now
            _after_page(state, 1, items=len(listed.items), now=now)
        elif state.next_page == 0 and known_before and listed.items and new == len(listed.items):
            # A whole page of orders arrived since the last look: walk on until the known ones.
            state.next_page, state.walk_started_at = 2, now
    elif read.page == state.next_page:
        _after_page(state, read.page, items=len(listed.items), now=now)
    state.failures, state.last_error = 0, ""
    state.save()


def run_step(token: str, *, enqueue: chain.Enqueue) -> None:
    """One step of the chain: read while something is due and the budget allows, then queue the next."""
    try:
        shop = FILEFLARE.identity()
    except NotConfigured:
        return  # no Fileflare configured: nothing to index (a step is queued again once there is)
    rows = OrderSync.objects.filter(shop=shop)
    sync_row(shop)
    chain.chain_run(rows, token, work=lambda: _work(shop, token), enqueue=enqueue)


def _work(shop: str, token: str) -> float:
    """Returns the seconds until the next step."""
    return chain.paced_reads(
        lambda: OrderSync.objects.get(shop=shop),
        token,
        begin_if_due=_start_walk_if_due,
        next_read=next_read,
        seconds_until_due=seconds_until_due,
        budget_wait=lambda: pacing.headroom_wait(FILEFLARE) or shares.ORDER_SYNC.wait(),
        read_once=read_once,
        label="order sync",
        log=logger,
        most_backoff=MAX_BACKOFF,
        step_seconds=STEP_SECONDS,
    )


def ensure(*, enqueue: chain.Enqueue, force: bool = False) -> bool:
    """Queue a step unless one is running or due: starts the sync, or resumes it after a lost worker."""
    try:
        shop = FILEFLARE.identity()
    except NotConfigured:
        return False
    sync_row(shop)
    return chain.chain_start(OrderSync.objects.filter(shop=shop), enqueue=enqueue, force=force)
