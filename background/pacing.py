"""Background work spends its own share of an upstream's budget, and never the slots kept for staff.

Two checks before each request: the shared budget of every worker (fileflare_admin.api.budget, the one
the request itself will take a slot from) must have room outside the reserve kept for staff's writes;
then the request takes a slot from the background's own share (background.shares: its requests a minute).
"""

from __future__ import annotations

import math
import time

from django.conf import settings

from fileflare_admin.api import budget
from fileflare_admin.api.http import Api


def headroom_wait(api: Api, *, slots: int = 1) -> int | None:
    """Seconds to wait before `slots` requests fit in the upstream's shared budget outside the reserve
    kept for staff's writes (or until the upstream's own 429 lifts); None when they fit now."""
    return budget_headroom_wait(api.budget_name(), api.budget_limit(), slots=slots)


def budget_headroom_wait(name: str, limit: int, *, slots: int = 1) -> int | None:
    """The same for any shared budget `name` of `limit` a minute (the e-mail budget, say)."""
    used, blocked_until = budget.usage(name)
    if blocked_until:
        return max(1, math.ceil(blocked_until - time.time()))
    if limit > 0 and used + slots > limit - max(settings.UPSTREAM_WRITE_RESERVE, 0):
        return budget.BUCKET_SECONDS  # the window slides every bucket: look again then
    return None


def share_wait(name: str, per_minute: int, *, slots: int = 1) -> int | None:
    """Take `slots` requests from the background share `name`; None when taken, else seconds to wait.

    A share with no limit (0) always has room. Slots taken before a refusal are not given back: the
    share then spends a little less than it may, never more.
    """
    for _ in range(slots):
        wait = budget.acquire(name, per_minute) if per_minute > 0 else None
        if wait is not None:
            return wait
    return None
