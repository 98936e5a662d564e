"""downloads.limits: each source of a record's limit, in its order of trust."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from downloads.limits import NEWEST_SIGHTINGS, KnownLimit, limits_for_files, limits_for_records, limits_learn
from downloads.models import SeenLimit
from fileflare_admin.api import types

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _view(order_number: int, *files: tuple[str, str, int | None]) -> types.CustomerView:
    items = tuple(
        types.CustomerAsset(
            asset=types.Asset(asset_id, name, "1MB", None, True, False, None),
            limits=types.AssetLimit(0, limit),
        )
        for asset_id, name, limit in files
    )
    return types.CustomerView(order_number=order_number, lines=(), assets=items, title=None, text=None)


def _record(order_number: int, name: str, count: int = 0) -> types.DownloadRecord:
    return types.DownloadRecord(f"r{order_number}", NOW, 1, order_number, count, name, False, "")


def test_this_orders_own_page_comes_first(settings: object) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = 99  # type: ignore[attr-defined]
    limits_learn(view=_view(7, ("a1", "Book.pdf", 10)), seen_at=NOW - timedelta(days=3))
    limits_learn(view=_view(8, ("a1", "Book.pdf", 3)), seen_at=NOW)  # order 8 overrides
    [known] = limits_for_files(order_number=8, filenames=["  book.PDF "]).values()
    assert known == KnownLimit(3, "this_order", 8, NOW)
    assert known.source_text(NOW) == "limit seen on this order's customer page, just now"


def test_another_orders_limit_is_learned_and_the_limit_most_orders_showed_wins() -> None:
    limits_learn(view=_view(7, ("a1", "Book.pdf", 10)), seen_at=NOW - timedelta(days=3))
    limits_learn(view=_view(9, ("a1", "Book.pdf", 10)), seen_at=NOW - timedelta(days=5))
    limits_learn(view=_view(8, ("a1", "Book.pdf", 50)), seen_at=NOW)  # one order's override
    known = limits_for_records([_record(1050, "Book.pdf", 5)])["r1050"]
    assert known.limit == 10 and known.learned and known.order_number == 7 and known.orders == 2
    assert known.source_text(NOW) == "limit seen on order #7's customer page (and 1 other order), 3 days ago"
    assert known.used(5) == "5 of 10" and not known.reached(5) and known.reached(10)


def test_a_page_seen_again_replaces_what_it_showed_and_no_limit_is_kept_as_none() -> None:
    limits_learn(view=_view(7, ("a1", "Book.pdf", 10)), seen_at=NOW - timedelta(days=3))
    limits_learn(view=_view(7, ("a1", "Book.pdf", None)), seen_at=NOW)
    known = limits_for_files(order_number=1, filenames=["Book.pdf"])["book.pdf"]
    assert known.limit is None and known.used(4) == "4 (no limit)" and not known.reached(1000)


def test_the_shop_default_is_the_last_resort_and_nothing_known_is_absent(settings: object) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = 5  # type: ignore[attr-defined]
    known = limits_for_records([_record(1, "Other.zip", 5)])["r1"]
    assert known == KnownLimit(5, "shop_default") and known.source_text(NOW) == "shop default"
    assert known.reached(5)
    settings.SHOP_DOWNLOAD_LIMIT = None  # type: ignore[attr-defined]
    assert limits_for_records([_record(1, "Other.zip", 5)]) == {}


def _sightings(first_order: int, count: int, limit: int, seen_at: datetime) -> None:
    SeenLimit.objects.bulk_create(
        SeenLimit(
            order_number=first_order + index,
            asset_id="a1",
            filename="Book.pdf",
            file_key="book.pdf",
            limit=limit,
            seen_at=seen_at - timedelta(seconds=index),
        )
        for index in range(count)
    )


@pytest.mark.engine  # a window function written as SQL
def test_a_page_reads_only_a_files_newest_sightings_and_its_own_orders(
    django_assert_num_queries: Any,
) -> None:
    """Issue 28: a popular file seen on many orders' pages costs a page no more than its newest
    NEWEST_SIGHTINGS; the limit most of them showed wins (a limit changed on the product shows there
    first), and an order's own page, however old, still comes first."""
    _sightings(10_000, NEWEST_SIGHTINGS + 100, 10, NOW - timedelta(days=30))  # more orders, older
    _sightings(20_000, NEWEST_SIGHTINGS, 3, NOW)  # the newest
    with django_assert_num_queries(1):
        known = limits_for_records([_record(1050, "Book.pdf"), _record(10_299, "Book.pdf")])
    assert known["r1050"].limit == 3 and known["r1050"].orders == NEWEST_SIGHTINGS
    assert known["r10299"] == KnownLimit(10, "this_order", 10_299, NOW - timedelta(days=30, seconds=299))
    [own] = limits_for_files(order_number=10_299, filenames=["Book.pdf"]).values()
    assert own.source == "this_order" and own.limit == 10


def test_a_sighting_known_already_or_older_than_the_kept_one_is_not_written(
    django_assert_num_queries: Any,
) -> None:
    """The same customer's page read again from the read cache (a warm order page) writes nothing, and a
    saved copy shown "as of" never overwrites what a later read saw (fileflare_admin.kept keeps the rows)."""
    limits_learn(view=_view(7, ("a1", "Book.pdf", 10)), seen_at=NOW)
    limits_learn(view=_view(7, ("a1", "Book.pdf", 10)), seen_at=NOW)  # read it once: the rows kept since
    with django_assert_num_queries(0):
        limits_learn(view=_view(7, ("a1", "Book.pdf", 10)), seen_at=NOW)
    limits_learn(view=_view(7, ("a1", "Book.pdf", 4)), seen_at=NOW - timedelta(hours=1))  # an older copy
    assert limits_for_files(order_number=7, filenames=["Book.pdf"])["book.pdf"].limit == 10
    limits_learn(view=_view(7, ("a1", "Book.pdf", 4)), seen_at=NOW + timedelta(minutes=1))  # a newer read
    assert limits_for_files(order_number=7, filenames=["Book.pdf"])["book.pdf"].limit == 4
