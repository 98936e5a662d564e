"""The Reports page's download figures against the sandbox's ground truth: the shop's trickle of customer
downloads and link-scanner bursts (`/_sandbox/download-events`), seen by two snapshots of every record's
count taken the way the snapshot chain takes them (each page of the records list, its counts noted)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from fileflare_admin.api import fileflare
from fileflare_admin.api.http import FILEFLARE
from insights import figures
from insights.figures import Span
from insights.limits import at_limit_now
from orders_index.services import order_index_lookup
from orders_index.store import store_orders
from tests.conftest import Sandbox
from tests.insights.snapshot import snapshot_every_count
from tests.support.fileflare_says import email_sent_at

FIXED_DAY = datetime(2099, 12, 27, 6, tzinfo=UTC)  # ahead of any test's shop (the sandbox forgets it after)

pytestmark = pytest.mark.django_db


def _trickled(sandbox: Sandbox, *, steps: int, seed: int) -> tuple[datetime, datetime, list[dict[str, Any]]]:
    """A first snapshot, `steps` minutes of the shop's life, a second snapshot; the downloads made between
    them (refusals left out) of the records the first snapshot saw."""
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    known = snapshot_every_count(start)
    first = start + timedelta(minutes=1)
    sandbox.trickle(steps=steps, at=first.isoformat(), every=60, seed=seed)
    end = first + timedelta(minutes=steps + 1)
    snapshot_every_count(end)
    events = sandbox.download_events(since=start.isoformat(), until=end.isoformat())
    made = [event for event in events if not event["refused"] and event.get("download_id") in known]
    return start, end, made


def test_downloads_per_day_product_and_file_are_what_the_customers_and_scanners_downloaded(
    sandbox: Sandbox,
) -> None:
    start, end, made = _trickled(sandbox, steps=40, seed=2901)
    assert len(made) >= 10  # the trickle downloaded (a seed chosen so that it did)
    span = Span(start.astimezone(UTC).date() - timedelta(days=1), end.astimezone(UTC).date(), UTC)
    per_day = figures.downloads_per_period(span)
    assert sum(row[1] for row in per_day.rows if isinstance(row[1], int)) == len(made)
    # All the changes were seen by the second snapshot: on its day.
    assert dict((row[0], row[1]) for row in per_day.rows if row[1]) == {
        end.astimezone(UTC).date(): len(made)  # a row's day is a date (written when shown)
    }
    by_file = figures.downloads_by(span, by="file")
    assert dict(by_file.rows) == dict(Counter(event["file_name"] for event in made))
    by_product = figures.downloads_by(span, by="product")
    expected = Counter(f"#{event['product_id']})" for event in made)
    assert sorted(count for _, count in by_product.rows) == sorted(expected.values())
    assert by_product.as_of == end


def test_a_customer_refused_at_their_limit_is_listed_at_it_with_the_limit_their_order_page_shows(
    sandbox: Sandbox, merchant_client: Client, merchant_user: User
) -> None:
    _trickled(sandbox, steps=60, seed=2902)
    refused = [
        event
        for event in sandbox.download_events()
        if event["refused"] and event.get("download_id") and event["kind"] == "customer"
    ]
    assert refused, "the trickle refused a customer at their limit (a seed chosen so that it did)"
    event = refused[-1]
    token = sandbox.customer(event["order_number"])["customer_token"]
    assert merchant_client.get(f"/orders/customer/{token}/").status_code == 200  # what the customer sees
    listed = {item.download_id: item for item in at_limit_now()}
    assert event["download_id"] in listed
    item = listed[event["download_id"]]
    assert item.reached and item.order_number == event["order_number"]
    assert item.limit_source.startswith("limit seen on this order's customer page")


def test_orders_never_e_mailed_per_day_are_the_shops_new_orders_whose_e_mail_was_not_sent(
    sandbox: Sandbox,
) -> None:
    # A fixed day ahead: the trickle's draws follow its seed and the moment of each step, so a day that
    # moved with the calendar left some days without an order whose e-mail was not sent.
    first = FIXED_DAY
    made = sandbox.trickle(steps=80, at=first.isoformat(), every=900, seed=2903)["orders"]
    unsent = [number for number in made if email_sent_at(sandbox, number) is None]
    assert made and unsent, "the trickle made orders, some never e-mailed (a seed chosen so that it did)"
    # What the order index's sync stores of Fileflare's newest page (orders_index.sync's own store).
    newest = fileflare.order_list(page=1, limit=200, fresh=True)
    store_orders(shop=FILEFLARE.identity(), orders=newest.value.items, seen_at=newest.fetched_at)
    ordered = {view.order.order_number: view.order.ordered_at for view in _indexed(made)}
    span = Span(first.date(), (first + timedelta(minutes=15 * 80)).date(), UTC)
    days = [ordered[number].astimezone(UTC).date() for number in unsent]
    expected = Counter(days)  # a row's day is a date (written when shown)
    figure = figures.never_emailed_per_day(span)
    assert {label: count for label, count in figure.rows if count} == dict(expected)


def _indexed(numbers: list[int]) -> list[Any]:
    return [view for number in numbers for view in order_index_lookup(number)]
