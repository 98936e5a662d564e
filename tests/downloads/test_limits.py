"""downloads.limits: each source of a record's limit, in its order of trust."""

from datetime import UTC, datetime, timedelta

import pytest

from downloads.limits import KnownLimit, limits_for_files, limits_for_records, limits_learn
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
