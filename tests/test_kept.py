"""Reads of the dashboard's own database kept in the shared cache (fileflare_admin.kept, issue 28): asked
once until a write to their tables, seen by the page that writes, moved on again when the write commits,
never kept while the shared cache is down, made stale by each model's own saves. The warm order page's:
tests/orders/test_readahead.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from audit.models import AuditEntry
from downloads.limits import limits_for_files
from downloads.models import CountChange, SeenLimit
from fileflare_admin import kept, readahead, sharedcache
from fileflare_admin.api import cache as read_cache
from orders.models import ReplyTemplate
from orders.replies import reply_template

pytestmark = pytest.mark.django_db
FAMILY = "db-test"
ACTION = "download_record_count"


def _counted(value: Any = "rows") -> tuple[Callable[[], Any], list[int]]:
    asked: list[int] = []

    def query() -> Any:
        asked.append(1)
        return value

    return query, asked


def test_a_kept_read_is_asked_once_until_its_family_changes() -> None:
    cache.clear()
    query, asked = _counted()
    assert kept.read(FAMILY, ("a",), query) == "rows" and kept.read(FAMILY, ("a",), query) == "rows"
    assert len(asked) == 1
    assert kept.read(FAMILY, ("b",), query) == "rows" and len(asked) == 2  # another name, its own read
    kept.changed(FAMILY)
    assert kept.read(FAMILY, ("a",), query) == "rows" and len(asked) == 3


def test_a_page_that_writes_then_reads_sees_its_own_write() -> None:
    """The generation a page read ahead is forgotten when the page itself changes the family."""
    cache.clear()
    query, asked = _counted()
    kept.read(FAMILY, ("a",), query)
    with readahead.scope():
        kept.read(FAMILY, ("a",), query)
        assert len(asked) == 1
        kept.changed(FAMILY)
        kept.read(FAMILY, ("a",), query)
    assert len(asked) == 2


def test_a_write_in_a_transaction_moves_the_generation_again_when_it_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A read between the write and its commit may have seen the rows before it: what it kept is under
    a generation nobody reads once the commit moves it on."""
    cache.clear()
    before = read_cache.generation(FAMILY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        kept.changed(FAMILY)
        during = read_cache.generation(FAMILY)
    assert len(callbacks) == 1
    after = read_cache.generation(FAMILY)
    assert before < during < after


def test_while_the_shared_cache_is_down_every_read_asks_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.clear()
    monkeypatch.setattr(sharedcache, "degraded", lambda: True)
    query, asked = _counted()
    kept.read(FAMILY, ("a",), query)
    kept.read(FAMILY, ("a",), query)
    assert len(asked) == 2


def test_each_model_s_own_save_changes_its_family(support_user: Any) -> None:
    """A row written through the ORM (a test's, the admin's) makes the kept reads of its table stale."""
    cache.clear()
    now = timezone.now()
    reply_template("ready", "en")
    ReplyTemplate.objects.create(situation="ready", language="en", body="Hello {order_number}, all set.")
    assert reply_template("ready", "en") == "Hello {order_number}, all set."
    before = limits_for_files(order_number=9001, filenames=["guide.pdf"]).get("guide.pdf")
    assert before is None or before.source != "this_order"
    SeenLimit.objects.create(
        order_number=9001, asset_id="a1", filename="guide.pdf", file_key="guide.pdf", limit=7, seen_at=now
    )
    assert limits_for_files(order_number=9001, filenames=["guide.pdf"])["guide.pdf"].limit == 7
    for family, make in (
        (kept.AUDIT, lambda: AuditEntry.objects.create(actor_name="x", action=ACTION, outcome="success")),
        (
            kept.COUNT_HISTORY,
            lambda: CountChange.objects.create(
                download_id="d1", order_number=9001, product_id=1, count=1, delta=1, seen_at=now, hour=now,
                source="read",
            ),
        ),
    ):
        generation = read_cache.generation(family)
        make()
        assert read_cache.generation(family) > generation


def test_a_followed_models_bulk_writes_change_its_family_wherever_they_are_written() -> None:
    """QuerySet.update and bulk_create send no signal: the model's manager (kept.KeptQuerySet) says it."""
    cache.clear()
    now = timezone.now()
    row = SeenLimit(
        order_number=9002, asset_id="b1", filename="map.pdf", file_key="map.pdf", limit=3, seen_at=now
    )
    writes = (
        lambda: SeenLimit.objects.bulk_create([row]),
        lambda: SeenLimit.objects.filter(order_number=9002).update(limit=4),
    )
    for write in writes:
        generation = read_cache.generation(kept.LIMITS)
        write()
        assert read_cache.generation(kept.LIMITS) > generation
    generation = read_cache.generation(kept.LIMITS)
    SeenLimit.objects.filter(order_number=-1).update(limit=5)  # nothing written: nothing changed
    assert read_cache.generation(kept.LIMITS) == generation
