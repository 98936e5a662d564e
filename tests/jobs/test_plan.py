"""The dry run: which records a filter chooses, each item's before → after, and the time it will take."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from fileflare_admin.api import downloads as downloads_api
from jobs import services
from jobs.models import BulkJob, BulkJobItem
from jobs.plan import count_after
from jobs.selection import PAGE_SIZE, Selection, SelectionError, parse_order_numbers
from staff.roles import NotAllowed
from tests.jobs.conftest import reset_plan

Kind = BulkJob.Kind


def test_order_numbers_pasted_from_a_ticket_export_are_read_and_the_rest_named() -> None:
    numbers, rejected = parse_order_numbers('#1050, 1051\n"#1052";1050 | 0001053\n\nn/a 12.5')
    assert numbers == (1050, 1051, 1052, 1053)
    assert rejected == ("n/a", "12.5")


@pytest.mark.parametrize(
    ("kind", "before", "amount", "after"),
    [
        (Kind.COUNT_RESET, 7, None, 0),
        (Kind.COUNT_SET, 7, 3, 3),
        (Kind.COUNT_GIVE, 7, 3, 4),
        (Kind.COUNT_GIVE, 2, 5, 0),  # N more downloads never makes a count negative
    ],
)
def test_each_action_says_what_count_a_record_ends_with(
    kind: str, before: int, amount: int | None, after: int
) -> None:
    assert count_after(kind, before, amount) == after


def _items(job: BulkJob) -> list[tuple[str, int | None, int | None, str]]:
    return [(item.download_id, item.count_before, item.count_after, item.state) for item in job.items.all()]


@pytest.mark.engine
def test_a_dry_run_lists_every_record_of_the_pasted_orders_with_its_before_and_after(
    merchant_user: User, make_records, new_order_number
) -> None:
    first, second, untouched = new_order_number(), new_order_number(), new_order_number()
    records = make_records(first, [5, 0]) + make_records(second, [9])
    make_records(untouched, [4])

    job = services.job_plan(
        actor=merchant_user,
        selection=Selection(order_numbers=(first, second)),
        kind=Kind.COUNT_RESET,
        amount=None,
        reason="Bot storm, ticket #4821",
    )

    assert job.state == BulkJob.State.DRAFT
    assert sorted(_items(job)) == sorted(
        [
            (records[0]["download_id"], 5, 0, BulkJobItem.State.PENDING),
            (records[1]["download_id"], 0, 0, BulkJobItem.State.SKIPPED),  # already 0: nothing to send
            (records[2]["download_id"], 9, 0, BulkJobItem.State.PENDING),
        ]
    )
    summary = services.plan_summary(job)
    assert (summary.items, summary.to_send, summary.unchanged) == (3, 2, 1)


@override_settings(BULK_DOWNLOADS_BUDGET_PER_MINUTE=20)
def test_the_dry_run_says_how_long_the_run_takes_inside_its_budget_share(
    merchant_user: User, make_records, new_order_number
) -> None:
    number = new_order_number()
    make_records(number, [3] * 25)
    job = services.job_plan(
        actor=merchant_user, selection=Selection(order_numbers=(number,)), kind=Kind.COUNT_RESET, amount=None,
        reason="r",
    )
    summary = services.plan_summary(job)
    # Each record is a fresh read and a write: 20 requests a minute is 10 records a minute.
    assert summary.per_minute == 10
    assert summary.seconds == 150 and summary.minutes_text == "about 2 minutes"


def test_every_criterion_must_hold(merchant_user: User, make_records, new_order_number) -> None:
    number = new_order_number()
    often, _rarely, most = make_records(number, [6, 2, 8], product_id=777_001)
    job = services.job_plan(
        actor=merchant_user,
        selection=Selection(product_id=777_001, file_name=f"BULK-{number}-", count_at_least=5),
        kind=Kind.COUNT_SET,
        amount=1,
        reason="r",
    )
    assert {item.download_id for item in job.items.all()} == {often["download_id"], most["download_id"]}
    assert {item.count_after for item in job.items.all()} == {1}


def test_a_count_filter_alone_walks_the_list_by_count_and_dates_narrow_it(
    merchant_user: User, make_records, new_order_number
) -> None:
    number = new_order_number()
    made = make_records(number, [987_654_321, 987_654_320])
    today = timezone.localdate()
    job = services.job_plan(
        actor=merchant_user,
        selection=Selection(count_at_least=987_654_320, created_from=today, created_to=today),
        kind=Kind.COUNT_GIVE,
        amount=10,
        reason="r",
    )
    assert sorted(_items(job)) == sorted(
        [
            (made[0]["download_id"], 987_654_321, 987_654_311, "pending"),
            (made[1]["download_id"], 987_654_320, 987_654_310, "pending"),
        ]
    )
    yesterday = today - timedelta(days=1)
    empty = services.job_plan(
        actor=merchant_user,
        selection=Selection(count_at_least=987_654_320, created_to=yesterday),
        kind=Kind.COUNT_RESET,
        amount=None,
        reason="r",
    )
    assert empty.items.count() == 0


@override_settings(BULK_MAX_ITEMS=2)
def test_a_filter_choosing_more_than_the_limit_is_refused_with_a_sentence(
    merchant_user: User, make_records, new_order_number
) -> None:
    number = new_order_number()
    make_records(number, [1, 1, 1])
    with pytest.raises(SelectionError, match=r"More than 2 records match\. Narrow the filter"):
        services.job_plan(
            actor=merchant_user, selection=Selection(order_numbers=(number,)), kind=Kind.COUNT_RESET,
            amount=None, reason="r",
        )
    assert not BulkJob.objects.exists()


def test_a_resend_dry_run_lists_the_chosen_orders_with_when_their_email_was_last_sent(
    merchant_user: User, sandbox, make_records
) -> None:
    never = sandbox.create_order({"lines": [], "email_sent": False})
    sent = sandbox.create_order({"lines": [], "email_sent": True})
    make_records(sent["order_number"], [2])
    job = services.job_plan(
        actor=merchant_user,
        selection=Selection(order_numbers=(never["order_number"], sent["order_number"])),
        kind=Kind.EMAIL_RESEND,
        amount=None,
        reason="The shop's mail server lost them",
    )
    items = list(job.items.all())
    assert [item.order_number for item in items] == [never["order_number"], sent["order_number"]]
    assert all(item.state == BulkJobItem.State.PENDING for item in items)
    # Not indexed yet: looked up (one request each) when the run gets to them; the estimate counts it.
    assert [item.order_id for item in items] == ["", ""] and not items[0].email_known
    assert services.plan_summary(job).lookups == 2


def test_only_a_merchant_may_plan_a_bulk_fix(support_user: User) -> None:
    with pytest.raises(NotAllowed, match=r"Only a Merchant can run bulk fixes\."):
        services.job_plan(
            actor=support_user,
            selection=Selection(order_numbers=(1050,)),
            kind=Kind.COUNT_RESET,
            amount=None,
            reason="r",
        )


@pytest.mark.engine
def test_a_record_whose_file_name_holds_a_nul_is_planned_with_the_nul_shown_as_unreadable(
    merchant_user: User, make_records, new_order_number
) -> None:
    number = new_order_number()
    make_records(number, [4], download_file_name="report\x00.pdf")

    job = reset_plan(merchant_user, (number,))

    item = job.items.get()
    assert (item.file_name, item.count_before, item.count_after) == ("report\ufffd.pdf", 4, 0)


def _downloads_calls(sandbox) -> int:
    return sandbox.stats()["downloads"]


def test_many_pasted_order_numbers_are_read_in_one_walk_of_the_list_not_one_search_each(
    merchant_user: User, sandbox, make_records, new_order_number
) -> None:
    ours = [new_order_number() for _ in range(3)]
    records = [record for number in ours for record in make_records(number, [2])]
    # 300 numbers: ours, and 297 no order has (new_order_number() gives multiples of 10 only)
    pasted = (*ours, *[ours[0] + step for step in range(1, 400) if step % 10][:297])
    assert len(set(pasted)) == 300
    total = downloads_api.record_list(per_page=1).value.total
    assert total is not None
    pages = -(-total // PAGE_SIZE)

    before = _downloads_calls(sandbox)
    job = reset_plan(merchant_user, pasted)
    calls = _downloads_calls(sandbox) - before

    assert {item.download_id for item in job.items.all()} == {record["download_id"] for record in records}
    assert calls <= pages < len(pasted)  # at most the whole list once, never 300 searches


def test_a_few_pasted_order_numbers_are_searched_one_by_one_when_that_is_fewer_requests(
    merchant_user: User, sandbox, make_records, new_order_number, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = [new_order_number() for _ in range(3)]
    records = [record for number in ours for record in make_records(number, [2])]
    monkeypatch.setattr("jobs.selection.PAGE_SIZE", 1)  # the sorted list is now far more pages than 3

    before = _downloads_calls(sandbox)
    job = reset_plan(merchant_user, tuple(ours))

    assert {item.download_id for item in job.items.all()} == {record["download_id"] for record in records}
    assert _downloads_calls(sandbox) - before == 1 + 3  # the page sizing the walk, then a search each


@override_settings(BULK_MAX_ORDER_NUMBERS=5)
def test_more_pasted_order_numbers_than_the_limit_are_refused_before_any_request(
    merchant_user: User, sandbox
) -> None:
    before = _downloads_calls(sandbox)
    with pytest.raises(SelectionError) as refused:
        reset_plan(merchant_user, tuple(range(1001, 1007)))
    assert refused.value.user_message.startswith("Paste at most 5 order numbers at a time; you pasted 6.")
    assert _downloads_calls(sandbox) == before and not BulkJob.objects.exists()
