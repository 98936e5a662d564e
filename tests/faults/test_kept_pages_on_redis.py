"""The whole order page kept in a process (fileflare_admin.kept_pages) on a real redis-server: once one
read found its keys as they were, Redis itself tells the process when any of them changes
(sharedcache.Watch), so a warm load costs no round trip at all; a write by another process, a FLUSHALL,
a Redis restarted empty or stalled never lets a page from before be handed out."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import cache
from django.test import Client

from fileflare_admin import sharedcache
from fileflare_admin.api import cache as read_cache
from tests.faults.conftest import recovered
from tests.faults.redis_server import RedisServer
from tests.support.pages import order_renders

pytestmark = pytest.mark.django_db
ORDER = "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/"  # order #1050 of the seeded shop
ORDER_ID = ORDER.split("/")[2]
__all__ = ["order_renders"]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every command this process sends to Redis from now on (each connection's, a pipeline's too)."""
    commands: list[bytes] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counted(connection: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        commands.append(bytes(command[0] if isinstance(command, list) else command)[:40])
        return original(connection, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    yield commands


def _load(client: Client) -> str:
    response = client.get(ORDER)
    assert response.status_code == 200
    return response.content.decode()


def _watched(client: Client, renders: list[str]) -> None:
    """Loaded until the page is kept (a cold load, a warm one) and its keys found as they were (the
    third), so Redis watches them."""
    for _ in range(3):
        _load(client)
    renders.clear()


def test_a_warm_load_of_a_watched_page_costs_no_round_trip(
    redis_cache: RedisServer, support_client: Client, order_renders: list[str], sent: list[bytes]
) -> None:
    _watched(support_client, order_renders)
    sent.clear()
    page = _load(support_client)
    assert order_renders == [] and sent == []
    assert "Order #1050" in page


def test_a_write_by_another_process_is_on_the_next_load(
    redis_cache: RedisServer, support_client: Client, order_renders: list[str]
) -> None:
    _watched(support_client, order_renders)
    other = redis.Redis.from_url(redis_cache.url)  # another worker, another machine
    other.incr(cache.make_and_validate_key(read_cache.generation_keys("downloads")[0]))
    _load(support_client)
    assert order_renders == [ORDER_ID]
    order_renders.clear()
    _load(support_client)  # kept again, and its keys read again to be watched anew
    _load(support_client)
    assert order_renders == []


def test_after_a_flushall_nothing_from_before_is_handed_out(
    redis_cache: RedisServer, support_client: Client, order_renders: list[str]
) -> None:
    _watched(support_client, order_renders)
    redis.Redis.from_url(redis_cache.url).flushall()
    _load(support_client)
    assert order_renders == [ORDER_ID]


def test_a_redis_restarted_empty_hands_out_nothing_from_before(
    redis_cache: RedisServer, support_client: Client, order_renders: list[str]
) -> None:
    """The connection Redis was watching on is gone with it: every key counts as changed."""
    _watched(support_client, order_renders)
    redis_cache.stop()
    redis_cache.start()
    recovered(redis_cache)
    _load(support_client)
    assert order_renders == [ORDER_ID]


def test_a_stalled_redis_hands_out_nothing_and_the_page_still_answers(
    redis_cache: RedisServer, support_client: Client, order_renders: list[str]
) -> None:
    """Once another process's write could have timed out on it and been kept in that process's own
    memory (the cache's socket timeout after the stall began), the watch asks Redis before it trusts its
    silence: no answer, and the page is made afresh (from this worker's own memory) until Redis answers."""
    _watched(support_client, order_renders)
    redis_cache.stall()
    time.sleep(0.25)  # the fixture's socket timeout: 0.2 s
    try:
        for _ in range(2):
            assert "Order #1050" in _load(support_client)
        assert sharedcache.degraded()
        assert order_renders == [ORDER_ID, ORDER_ID]
    finally:
        redis_cache.resume()
