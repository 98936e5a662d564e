"""The dry run: which items a bulk fix would touch, each with its before → after, and how long it takes.

Nothing is written upstream here: the records are read (the downloads API), the orders' Fileflare IDs
and e-mail times come from the order index (no request). The plan is kept as a draft job, so "Run"
runs exactly what the person saw, and each item is checked again just before its write.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fileflare_admin.api import types
from fileflare_admin.counts import count_lowered
from fileflare_admin.numbers import grouped
from fileflare_admin.storable import storable
from jobs import notes, pace
from jobs.models import BulkJob, BulkJobItem
from jobs.selection import Selection, records_matching
from orders_index.services import order_index_lookup

Kind = BulkJob.Kind
COUNT_KINDS = (Kind.COUNT_RESET, Kind.COUNT_SET, Kind.COUNT_GIVE)


def count_after(kind: str, before: int, amount: int | None) -> int:
    """The count an item ends with: reset to 0, set to N, or N more downloads (the used count lowered
    by N, never below 0)."""
    if kind == Kind.COUNT_RESET:
        return 0
    if kind == Kind.COUNT_SET:
        return int(amount or 0)
    return count_lowered(before, by=int(amount or 0))


def _count_items(job: BulkJob, records: list[types.DownloadRecord]) -> list[BulkJobItem]:
    items = []
    for position, record in enumerate(records, start=1):
        after = count_after(job.kind, record.download_count, job.amount)
        same = after == record.download_count
        already = notes.note("already", count=after)
        items.append(
            BulkJobItem(
                job=job,
                position=position,
                download_id=record.download_id,
                order_number=record.order_id,
                file_name=storable(record.download_file_name),  # a NUL cannot be kept by PostgreSQL
                product_id=record.product_id,
                count_before=record.download_count,
                count_after=after,
                state=BulkJobItem.State.SKIPPED if same else BulkJobItem.State.PENDING,
                note=notes.english(already) if same else "",
                said=already if same else {},
            )
        )
    return items


def _order_numbers(selection: Selection, records: list[types.DownloadRecord]) -> list[int]:
    """The chosen orders: those of the chosen records, and every pasted number when numbers are the only
    criterion (an order with no download record still has an e-mail to resend)."""
    numbers = dict.fromkeys(record.order_id for record in records if record.order_id > 0)
    if selection.order_numbers and selection == Selection(order_numbers=selection.order_numbers):
        numbers = dict.fromkeys([*selection.order_numbers, *numbers])
    return list(numbers)


def _resend_items(job: BulkJob, numbers: list[int]) -> list[BulkJobItem]:
    items = []
    for position, number in enumerate(numbers, start=1):
        known = order_index_lookup(number)
        order = known[0].order if len(known) == 1 else None
        items.append(
            BulkJobItem(
                job=job,
                position=position,
                order_number=number,
                order_id=order.id if order else "",
                email_sent_before=order.email_sent_at if order else None,
                email_known=order is not None,
            )
        )
    return items


def job_plan_create(
    *, actor: User, selection: Selection, kind: str, amount: int | None, reason: str
) -> BulkJob:
    """Read what the filter chooses and keep it as a draft job. Raises SelectionError and the API's
    errors (nothing is kept then)."""
    records = records_matching(selection)
    with transaction.atomic():
        job = BulkJob.objects.create(
            kind=kind,
            amount=amount if kind in (Kind.COUNT_SET, Kind.COUNT_GIVE) else None,
            reason=reason.strip(),
            selection=selection.as_json(),
            created_by=actor,
            created_by_name=actor.get_username(),
        )
        items = (
            _resend_items(job, _order_numbers(selection, records))
            if kind == Kind.EMAIL_RESEND
            else _count_items(job, records)
        )
        BulkJobItem.objects.bulk_create(items, batch_size=500)
    return job


@dataclass(frozen=True)
class PlanSummary:
    items: int
    to_send: int  # items with a write to make
    unchanged: int  # already as asked: nothing to send
    lookups: int  # orders whose Fileflare ID the index does not know yet (one request each)
    seconds: int  # at least, inside the budget shares
    per_minute: float | None  # items a minute the shares allow

    @property
    def minutes_text(self) -> str:
        if self.seconds < 60:
            return _("under a minute")
        minutes = round(self.seconds / 60)
        about = ngettext("about %(count)s minute", "about %(count)s minutes", minutes)
        return about % {"count": grouped(minutes)}


def plan_summary(job: BulkJob) -> PlanSummary:
    items = job.items.all()
    total = items.count()
    to_send = items.filter(state__in=BulkJobItem.OPEN).count()
    lookups = items.filter(state__in=BulkJobItem.OPEN, order_id="").count() if job.is_email else 0
    cost = pace.cost_of(job.kind)
    return PlanSummary(
        items=total,
        to_send=to_send,
        unchanged=total - to_send,
        lookups=lookups,
        seconds=pace.seconds_for(items=to_send, cost=cost, lookups=lookups),
        per_minute=pace.items_per_minute(cost),
    )
