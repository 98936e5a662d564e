"""One production-like stack (gunicorn, Redis, the sandbox) for every test in tests/faults/ that needs one."""

from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from django.core.cache import cache

from fileflare_admin import sharedcache
from tests.faults.redis_server import RedisServer
from tests.faults.stack import FaultStack
from tests.support.waiting import wait_until

RETRY = 0.3


@pytest.fixture(scope="package")
def stack() -> Iterator[FaultStack]:
    running = FaultStack()
    try:
        running.start()
    except SystemExit as failed:  # bench's way of saying a server did not come up
        running.stop()
        pytest.fail(f"The production-like stack did not start: {failed}")
    yield running
    running.stop()


@pytest.fixture
def calm(stack: FaultStack) -> FaultStack:
    """The stack with no fault, nothing saved and no breaker open."""
    stack.calm()
    return stack


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_cache(settings: LazySettings, redis_server: RedisServer) -> Iterator[RedisServer]:
    """The dashboard's cache is that Redis, with short timeouts; it answers again when the test ends."""
    settings.CACHES = {
        "default": {
            "BACKEND": "fileflare_admin.sharedcache.ResilientRedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.CACHE_RETRY_SECONDS = RETRY
    sharedcache._health.last_logged = 0.0  # each test sees its own outage's one line
    cache.clear()
    yield redis_server
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()
    redis_server.resume()
    recovered(redis_server)


def recovered(server: RedisServer) -> None:
    """Wait until this process uses Redis again (the next try after CACHE_RETRY_SECONDS)."""

    def back_on_redis() -> bool:
        cache.get("anything")  # an operation is what tries Redis again
        return not sharedcache.degraded()

    wait_until("the cache to go back to Redis", back_on_redis, every=RETRY / 3)
