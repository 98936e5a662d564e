"""Staff's reads keep their slots of the shared budget while background work is busy (run in this process).

A bulk job with a share as large as the whole budget reads as fast as the pacing lets it; staff opening
orders meanwhile still get fresh answers, never "as of" copies: the background stops short of the slots
kept for staff's writes (UPSTREAM_WRITE_RESERVE) and reads (STAFF_READ_RESERVE).
"""

from __future__ import annotations

import pytest

from background import pacing
from fileflare_admin.api import budget, fileflare
from fileflare_admin.api.http import FILEFLARE
from jobs import pace

pytestmark = pytest.mark.django_db


def test_a_busy_background_share_leaves_staff_reads_their_slots(settings, sandbox) -> None:
    settings.FILEFLARE_BUDGET_PER_MINUTE = 55
    settings.UPSTREAM_WRITE_RESERVE = 5
    settings.STAFF_READ_RESERVE = 20
    settings.BULK_FILEFLARE_BUDGET_PER_MINUTE = 1000  # a share that alone would take the whole budget
    orders = [sandbox.create_order({"lines": [], "email_sent": False}) for _ in range(15)]

    background_reads = 0
    while pace.take(pace.LOOKUP_COST) is None and background_reads < 60:  # how a job paces each request
        fileflare.order_list(page=1, limit=1, fresh=True)  # the job's read, past the cache
        background_reads += 1
    assert background_reads == 55 - 5 - 20  # it stopped short of what staff keep
    assert pacing.headroom_wait(FILEFLARE) == budget.BUCKET_SECONDS

    views = [fileflare.order_get(order_id=order["id"]) for order in orders]  # 15 staff order views

    assert [view.stale for view in views] == [False] * 15  # every one fresh, none "as of" a copy
    assert budget.usage(FILEFLARE.budget_name())[0] == background_reads + 15
