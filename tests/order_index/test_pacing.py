"""The sync never takes the slots of the shared budget kept for staff's writes (run in this process)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from background import pacing
from fileflare_admin.api import budget, fileflare
from fileflare_admin.api.http import FILEFLARE
from orders_index import sync
from orders_index.models import OrderSync
from orders_index.services import order_index_forget, order_index_get, order_index_note


def test_the_sync_waits_while_staff_have_left_only_the_slots_kept_for_writes(
    db: None, settings, sandbox, django_capture_on_commit_callbacks
) -> None:
    settings.FILEFLARE_BUDGET_PER_MINUTE = 20
    settings.UPSTREAM_WRITE_RESERVE = 5
    shared = FILEFLARE.budget_name()
    for _ in range(15):  # staff's reads have used all but the 5 requests kept for writes
        assert budget.acquire(shared, 20) is None
    assert pacing.headroom_wait(FILEFLARE) == budget.BUCKET_SECONDS
    queued: list[tuple[str, datetime | None]] = []
    with django_capture_on_commit_callbacks(execute=True):
        assert sync.ensure(enqueue=lambda token, run_after: queued.append((token, run_after)))
    before = sandbox.stats()["fileflare"]

    with django_capture_on_commit_callbacks(execute=True):
        sync.run_step(queued[0][0], enqueue=lambda token, run_after: queued.append((token, run_after)))

    assert sandbox.stats()["fileflare"] == before  # nothing was read
    state = OrderSync.objects.get()
    assert state.calls == 0 and state.newest_seen_at is None
    # The next step is queued for when the window has slid, not run in a sleeping worker.
    assert len(queued) == 2 and queued[1][1] is not None and queued[1][1] > timezone.now()
    assert budget.usage(shared)[0] == 15  # and the sync took nothing


@pytest.mark.django_db
@pytest.mark.engine
def test_our_own_write_goes_into_the_index_and_a_vanished_order_can_be_forgotten(sandbox) -> None:
    made = sandbox.create_order({"lines": [], "email_sent": False})
    order = fileflare.order_get(order_id=made["id"]).value
    order_index_note(order)
    assert order_index_get(made["id"]).order == order
    order_index_forget(made["id"])
    assert order_index_get(made["id"]) is None
