"""Background work spends its own share of an upstream's budget, and never the slots kept for staff.

Two checks before each request: the shared budget of every worker (fileflare_admin.api.budget, the one
the request itself will take a slot from) must have room outside the slots kept for staff's writes and
reads (UPSTREAM_WRITE_RESERVE + STAFF_READ_RESERVE, budget.kept_for_staff); then the request takes a slot
from the background's own share (background.shares: its requests a minute). However large the shares,
staff's pages keep their slots: a running job never turns their reads into "as of" copies.
"""

from __future__ import annotations

from django.conf import settings

from fileflare_admin.api import budget
from fileflare_admin.api.http import Api


def headroom_wait(api: Api, *, slots: int = 1) -> int | None:
    """Seconds to wait before `slots` requests fit in the upstream's shared budget outside the slots kept
    for staff's writes and reads (or until the upstream's own 429 lifts); None when they fit now."""
    return budget.headroom_wait(
        api.budget_name(), api.budget_limit(), keep=budget.kept_for_staff(), slots=slots
    )


def budget_headroom_wait(name: str, limit: int, *, slots: int = 1) -> int | None:
    """The same for a budget only writes spend (Fileflare's e-mails): outside the slots kept for staff's
    writes (staff's reads take none of it)."""
    return budget.headroom_wait(name, limit, keep=max(settings.UPSTREAM_WRITE_RESERVE, 0), slots=slots)


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
