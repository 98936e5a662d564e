"""How fast a bulk job may go: what one item spends at each upstream, and the shares all jobs take.

Every running job together spends at most its shares (background.shares): BULK_DOWNLOADS_BUDGET_PER_MINUTE
requests a minute at the downloads API, BULK_FILEFLARE_BUDGET_PER_MINUTE at Fileflare and
BULK_EMAIL_BUDGET_PER_MINUTE e-mails;
before each item the shared budgets must also have room outside the slots kept for staff's own writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from background import pacing, shares
from fileflare_admin.api.fileflare import email_budget
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE
from jobs.models import BulkJob


@dataclass(frozen=True)
class Cost:
    """Requests one item makes at each upstream."""

    downloads: int = 0
    fileflare: int = 0
    emails: int = 0


# A count change reads the record fresh, then writes it. A resend reads the order (often from the
# read cache), then sends the e-mail (one request at Fileflare that counts against both of its limits).
COUNT_COST = Cost(downloads=2)
RESEND_COST = Cost(fileflare=2, emails=1)
LOOKUP_COST = Cost(fileflare=1)  # finding an order's Fileflare ID the index does not know yet


def cost_of(kind: str) -> Cost:
    return RESEND_COST if kind == BulkJob.Kind.EMAIL_RESEND else COUNT_COST


def _shares(cost: Cost) -> list[tuple[int, int]]:
    """(requests one item makes, requests a minute allowed) for each upstream the item uses."""
    pairs = [
        (cost.downloads, shares.BULK_DOWNLOADS.per_minute()),
        (cost.fileflare, shares.BULK_FILEFLARE.per_minute()),
        (cost.emails, shares.BULK_EMAIL.per_minute()),
    ]
    return [(used, allowed) for used, allowed in pairs if used > 0 and allowed > 0]


def items_per_minute(cost: Cost) -> float | None:
    """How many such items the shares allow a minute; None when no share limits them."""
    rates = [allowed / used for used, allowed in _shares(cost)]
    return min(rates) if rates else None


def seconds_for(*, items: int, cost: Cost, lookups: int = 0) -> int:
    """How long `items` (and `lookups` order-ID lookups) take inside the shares, at least."""
    total = 0.0
    for count, each in ((items, cost), (lookups, LOOKUP_COST)):
        rate = items_per_minute(each)
        if count and rate:
            total += count / rate * 60
    return math.ceil(total)


def take(cost: Cost) -> int | None:
    """Spend one item's requests from the shares, after checking the shared budgets have room outside
    staff's reserve. None when the item may go now, else the seconds to wait."""
    if cost.downloads:
        wait = pacing.headroom_wait(DOWNLOADS, slots=cost.downloads) or shares.BULK_DOWNLOADS.wait(
            slots=cost.downloads
        )
        if wait is not None:
            return wait
    if cost.fileflare or cost.emails:
        emails, emails_per_minute = email_budget()
        wait = (
            pacing.headroom_wait(FILEFLARE, slots=cost.fileflare)
            or pacing.budget_headroom_wait(emails, emails_per_minute if cost.emails else 0, slots=cost.emails)
            or shares.BULK_FILEFLARE.wait(slots=cost.fileflare)
            or shares.BULK_EMAIL.wait(slots=cost.emails)
        )
        if wait is not None:
            return wait
    return None
