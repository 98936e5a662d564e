"""The order index's background sync, run by the real database worker against the sandbox.

Nobody starts the sync here: the worker does, when it starts (background.keepers). Each wait is for the
state the test expects, with a deadline that holds on a busy machine.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from fileflare_admin.api import fileflare
from orders_index.models import IndexedOrder, OrderSync
from orders_index.services import (
    order_index_get,
    order_index_id_for,
    order_index_lookup,
    order_index_number_for,
    order_index_page,
    order_sync_progress,
)
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def _walked() -> OrderSync | None:
    return OrderSync.objects.filter(walk_finished_at__isnull=False).first()


def test_the_sync_walks_every_order_newest_first_then_keeps_the_newest_page_fresh(
    start_worker, sandbox: Sandbox
) -> None:
    worker = start_worker(ORDER_SYNC_REFRESH_SECONDS=1, UPSTREAM_CACHE_TTL=1)
    state = worker.wait_for("the walk of every order to finish", _walked, timeout=300)

    listed = fileflare.order_list(limit=1).value
    assert state.total == listed.total
    assert IndexedOrder.objects.count() >= state.total  # every order Fileflare counted, each once
    assert state.last_page == -(-state.total // 1000)
    # The documented example, with its number, its ID and its order-attached files, costs no request now.
    example = sandbox.customer(1050)
    found = order_index_lookup(1050)
    assert [view.order.id for view in found] == [example["id"]]
    assert order_index_get(example["id"]).order.order_number == 1050
    assert order_index_id_for(1050) == example["id"] and order_index_number_for(example["id"]) == 1050
    assert found[0].order == fileflare.order_get(order_id=example["id"]).value

    made = sandbox.create_order({"lines": [], "email_sent": False})
    view = worker.wait_for(
        "a new order to reach the index", lambda: order_index_lookup(made["order_number"]), timeout=120
    )[0]
    assert view.order.id == made["id"] and view.order.email_sent_at is None
    progress = order_sync_progress()
    assert not progress.walking and progress.indexed >= state.total + 1
    assert f"All {progress.indexed:,}" in progress.sentence


def test_the_sync_spends_at_most_its_share_of_the_budget_and_waits_for_the_rest(
    start_worker, sandbox: Sandbox
) -> None:
    before = sandbox.stats()["fileflare"]
    worker = start_worker(ORDER_SYNC_BUDGET_PER_MINUTE=3)
    worker.wait_for("three pages read", lambda: OrderSync.objects.filter(calls__gte=3).exists(), timeout=120)
    time.sleep(4)  # ample time for a fourth request, were the share not spent

    state = OrderSync.objects.get()
    assert sandbox.stats()["fileflare"] - before == 3
    assert state.calls == 3 and state.next_page == 4 and state.walk_finished_at is None
    # The next step waits for the share (a sliding minute), in the task queue, not in a sleeping worker.
    assert state.step_due_at is not None
    assert state.step_due_at > timezone.now() + timedelta(seconds=30)
    assert state.lease_until is None
    assert order_sync_progress().sentence.startswith("Indexing the order list: page 4 of")


def test_the_index_answers_the_orders_page_with_filters_the_api_cannot_do(
    start_worker, sandbox: Sandbox
) -> None:
    never = sandbox.create_order({"lines": [], "email_sent": False})
    sent = sandbox.create_order({"lines": [], "email_sent": True})
    assert order_index_page() is None  # nothing read yet: the page asks Fileflare itself
    worker = start_worker()
    worker.wait_for(
        "the newest page to be read",
        lambda: OrderSync.objects.filter(newest_seen_at__isnull=False).exists(),
        timeout=120,
    )

    newest = order_index_page(per_page=2)
    shown = [order.order_number for order in newest.orders.items]
    assert shown == [sent["order_number"], never["order_number"]]
    assert not newest.stale
    unsent = order_index_page(email_never_sent=True, ordered_from=timezone.localdate(), per_page=100)
    numbers = [order.order_number for order in unsent.orders.items]
    assert never["order_number"] in numbers and sent["order_number"] not in numbers
    assert all(order.email_sent_at is None for order in unsent.orders.items)
    assert order_index_page(ordered_to=timezone.localdate() - timedelta(days=3650)).orders.total == 0


def _resend_elsewhere(sandbox: Sandbox, order_id: str) -> None:
    """The shop resends an order's e-mail in Fileflare's own app: the dashboard is not told."""
    answer = requests.put(
        f"{sandbox.fileflare_url}/v1/orders/{order_id}",
        json={},
        headers={"Authorization": f"Bearer {sandbox.key}", "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200


def test_the_newest_pages_kept_fresh_see_a_change_made_elsewhere_and_older_pages_wait_for_the_next_walk(
    start_worker, sandbox: Sandbox
) -> None:
    worker = start_worker(
        ORDER_SYNC_FRESH_PAGES=2,
        ORDER_SYNC_REFRESH_SECONDS=2,
        UPSTREAM_CACHE_TTL=1,
        ORDER_SYNC_BUDGET_PER_MINUTE=50,
    )
    worker.wait_for("the walk of every order to finish", _walked, timeout=300)
    on_page_2 = fileflare.order_list(page=2, limit=1000).value.items[500]
    on_page_3 = fileflare.order_list(page=3, limit=1000).value.items[500]
    before_2 = order_index_get(on_page_2.id).order.email_sent_at
    before_3 = order_index_get(on_page_3.id).order.email_sent_at

    _resend_elsewhere(sandbox, on_page_2.id)
    _resend_elsewhere(sandbox, on_page_3.id)
    seen = worker.wait_for(
        "the change on page 2 to reach the index",
        lambda: order_index_get(on_page_2.id).order.email_sent_at != before_2 or None,
        timeout=120,
    )
    assert seen
    upstream = fileflare.order_get(order_id=on_page_2.id, fresh=True).value
    assert order_index_get(on_page_2.id).order.email_sent_at == upstream.email_sent_at
    # Another whole round later, page 3 still holds what the walk read: it is not among the fresh pages.
    round_started = OrderSync.objects.get().newest_seen_at
    worker.wait_for(
        "another round of the fresh pages",
        lambda: OrderSync.objects.filter(newest_seen_at__gt=round_started, fresh_page=0).exists() or None,
        timeout=120,
    )
    assert order_index_get(on_page_3.id).order.email_sent_at == before_3
