"""The link-scanner suspects of a period, for the Reports page and the daily digest: the rule of
downloads.suspects over the counts' history (downloads.history), with each order's e-mail times from the
order index (its latest e-mail) and the audit trail (the dashboard's own resends). Three queries, none
upstream, however long the period.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db.models import Sum

from audit.models import AuditEntry
from downloads.history import DOWNLOADED
from downloads.models import CountChange
from downloads.suspects import Suspect, Thresholds, suspects_of
from fileflare_admin import clock
from insights.figures import Cell, Figure, Span, downloads_as_of
from orders.resend import EMAIL_RESEND
from orders_index.services import order_index_rows

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Emails:
    """Each order's e-mail times, and its Fileflare ID where the index knows it (for links)."""

    times: Mapping[int, Sequence[datetime]]
    order_ids: dict[int, str]


def email_times(order_numbers: Iterable[int]) -> Emails:
    """The index's latest e-mail of each order, and every resend the dashboard made (two queries)."""
    numbers = sorted(set(order_numbers))
    times: dict[int, list[datetime]] = {number: [] for number in numbers}
    order_ids: dict[int, str] = {}
    indexed = order_index_rows().filter(order_number__in=numbers)
    for number, order_id, sent in indexed.values_list("order_number", "order_id", "email_sent_at"):
        order_ids[number] = order_id if number not in order_ids else ""  # one number, two orders: no link
        if sent is not None:
            times[number].append(sent)
    resends = AuditEntry.objects.filter(
        action=EMAIL_RESEND, outcome=AuditEntry.Outcome.SUCCESS, order_number__in=numbers
    ).values_list("order_number", "created_at")
    for resent_of, created_at in resends:
        if resent_of is not None:
            times.setdefault(resent_of, []).append(created_at)
    return Emails(
        times={number: sorted(set(moments)) for number, moments in times.items()},
        order_ids={number: order_id for number, order_id in order_ids.items() if order_id},
    )


def _least_in_an_hour(limits: Thresholds) -> int:
    """The fewest downloads some clock hour (CountChange.hour) of a suspect's burst holds: a burst within
    the e-mail's window spans at most window/1h + 1 clock hours, one within an hour at most two. Records
    with no such hour are left out before their changes are read."""
    hours = math.ceil(limits.window / HOUR) + 1
    return max(1, min(math.ceil(limits.burst / hours), math.ceil((limits.per_hour + 1) / 2)))


def suspects_between(start: datetime, end: datetime) -> list[Suspect]:
    """The suspects whose burst was last seen from `start` to `end`, newest first, each with its order's
    Fileflare ID where the index knows it (the contract with the Reports page: its section and CSV)."""
    limits = Thresholds.from_settings()
    reach = max(limits.window, HOUR)  # a burst seen at `start` began at most this long before
    downloads = CountChange.objects.filter(DOWNLOADED, seen_at__gt=start - reach, seen_at__lte=end)
    candidates = set(
        downloads.values("download_id", "hour")
        .annotate(total=Sum("delta"))
        .filter(total__gte=_least_in_an_hour(limits))
        .values_list("download_id", flat=True)
    )
    if not candidates:
        return []
    changes = list(
        CountChange.objects.filter(
            download_id__in=candidates, seen_at__gt=start - 2 * reach, seen_at__lte=end
        ).order_by("seen_at", "pk")
    )
    emails = email_times(change.order_number for change in changes)
    found = suspects_of(changes, emails=emails.times, limits=limits)
    return [
        replace(suspect, order_id=emails.order_ids.get(suspect.order_number, ""))
        for suspect in found
        if start <= suspect.last_seen <= end
    ]


def suspects_figure(span: Span, suspects: list[Suspect]) -> Figure:
    """The suspects of `span` (suspects_between(span.start, span.end)) as the Reports page's figure: its
    sentence, its table (the CSV) and as of when the counts were last seen."""
    count = len(suspects)
    records = len({suspect.download_id for suspect in suspects})
    summary = (
        f"{count} burst{'s' * (count != 1)} of downloads on {records} record{'s' * (records != 1)} "
        f"looked like a link scanner's from {span.text()}."
        if count
        else f"No download looked like a link scanner's from {span.text()}."
    )
    rows: list[tuple[Cell, ...]] = [
        (
            clock.date_time(suspect.last_seen),
            suspect.order_number,
            suspect.file_name,
            suspect.download_id,
            suspect.downloads,
            suspect.sentence,
            "; ".join(f"{seen.count} at {clock.date_time(seen.seen_at)}" for seen in suspect.evidence),
        )
        for suspect in suspects
    ]
    return Figure(
        title="Possible link scanners",
        summary=summary,
        columns=("Last seen", "Order", "File", "Record", "Downloads", "What was seen", "Counts seen"),
        rows=rows,
        as_of=downloads_as_of(),
        csv_name="link-scanner-suspects",
    )
