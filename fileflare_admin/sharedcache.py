"""The shared cache (Redis) is an accelerator, not a dependency.

`ResilientRedisCache` is Django's Redis backend with a fallback: when Redis does not answer within its short
socket timeouts (CACHE_CONNECT_TIMEOUT, CACHE_TIMEOUT), every operation is served by this process's own
memory instead, so pages keep working (reads go upstream, the budget counts per process, locks hold per
process). While Redis is down nobody waits on it again: one request a few seconds later tries it once
(CACHE_RETRY_SECONDS); when it answers, everything goes back to Redis by itself and the recovery hooks
run (the read cache marks what it kept as no longer fresh, the budget hands over what it counted
meanwhile).

One error line a minute at most while it is down, not one per request. `degraded()` tells the status page
and the response header (fileflare_admin.middleware) that the dashboard is running without it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol, cast

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import ConnectionPool, Redis
from redis.exceptions import RedisError

logger = logging.getLogger("fileflare_admin.cache")

LOG_EVERY_SECONDS = 60.0
UNREACHABLE = (RedisError, OSError)


class _Health:
    """Whether this process currently reaches the shared cache. One per process, shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.probing = False
        self.last_logged = 0.0
        self.hooks: list[Callable[[], None]] = []

    def should_try(self) -> bool:
        """Up: always. Down: only one thread, once RETRY_SECONDS have passed (the probe)."""
        if self.down_since is None:
            return True
        with self.lock:
            if self.down_since is None:
                return True
            if self.probing or time.monotonic() < self.retry_at:
                return False
            self.probing = True
            return True

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            self.probing = False
            self.retry_at = now + float(settings.CACHE_RETRY_SECONDS)
            if self.down_since is None:
                self.down_since = time.time()
            log = now - self.last_logged >= LOG_EVERY_SECONDS or not self.last_logged
            if log:
                self.last_logged = now
        if log:
            logger.error(
                "Shared cache unavailable (%s: %s): this worker uses its own memory and its share of the "
                "upstream budget until Redis answers again.",
                type(error).__name__,
                str(error)[:200],
            )

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            if self.down_since is None:
                return
            outage = time.time() - self.down_since
            self.down_since, self.probing = None, False
            hooks = list(self.hooks)
        logger.warning("Shared cache answers again after %.0f s: back to Redis.", outage)
        for hook in hooks:
            try:
                hook()
            except Exception:  # a hook must never break the request that noticed the recovery
                logger.exception("A shared-cache recovery step failed")


_health = _Health()
_local_lock = threading.Lock()
_local: LocMemCache | None = None
_strict = threading.local()


class Unreachable(Exception):
    """Raised inside `strict()` instead of falling back: the shared cache did not answer."""


@contextmanager
def strict() -> Iterator[None]:
    """Within the block, an operation the shared cache cannot answer raises Unreachable instead of
    being answered from this worker's memory (for callers that count differently without it)."""
    before = getattr(_strict, "on", False)
    _strict.on = True
    try:
        yield
    finally:
        _strict.on = before


def degraded() -> bool:
    """True while this process runs without the shared cache."""
    return _health.down_since is not None


def degraded_now() -> bool:
    """`degraded()`, after trying the shared cache again when it is time to: a page that uses no cache
    at all (the audit log) still notices that Redis is back."""
    if _health.down_since is not None and in_use():
        caches["default"].has_key("ffa:probe")
    return degraded()


def down_since() -> float | None:
    """When this process last found the shared cache unreachable (epoch seconds), or None when it answers."""
    return _health.down_since


def on_recovery(hook: Callable[[], None]) -> None:
    """Run `hook` (once per outage, in the request that notices) when the shared cache answers again."""
    if hook not in _health.hooks:
        _health.hooks.append(hook)


def local() -> LocMemCache:
    """This process's own memory: the fallback while the shared cache is down."""
    global _local
    if _local is None:
        with _local_lock:
            if _local is None:
                # Bounded: during a long outage a worker keeps its most recent answers, not every one.
                _local = _Memory("fileflare-admin-fallback", {"OPTIONS": {"MAX_ENTRIES": 5000}})
    return _local


def set_many_then_delete(data: dict[str, Any], *, timeout: int, gone: list[str]) -> None:
    """`data` kept and `gone` deleted, in that order, in the default cache: in one round trip to Redis (one
    pipeline) when it is the shared one. An answer stored and the lock of its fetch released (issue 28:
    two round trips after every upstream answer, and a moment between them with neither)."""
    target: BaseCache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(target, ResilientRedisCache | _Memory):
        target.set_many_then_delete(data, timeout, gone)
    else:
        target.set_many(data, timeout)
        target.delete_many(gone)


def add_then_get_many(
    key: str, value: Any, *, timeout: int, keys: list[str]
) -> tuple[bool, dict[str, Any] | None]:
    """`key` added (as the cache's `add`) and `keys` read, in one round trip to Redis (one pipeline) when
    the default cache is the shared one: a fetch's lock taken with the breaker's and budgets' reads of its
    call (issue 28: two round trips before the call went out). The values are None while the shared cache
    does not answer (what was found is then this worker's own memory, which each reader reads itself)."""
    target: BaseCache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(target, ResilientRedisCache | _Memory):
        added, found = target.add_then_get_many(key, value, timeout, keys)
    else:
        added, found = target.add(key, value, timeout=timeout), target.get_many(keys)
    return added, None if degraded() else found


def counted(store: BaseCache, key: str, delta: int, *, timeout: int | None) -> int:
    """`key` raised by `delta` and its new value, made first (0, kept `timeout` seconds, None: for good) when
    missing: in one
    round trip to Redis (one pipeline) when `store` is the shared cache. Django's own `incr` asks whether the
    key exists before it counts, and fails when it does not (issue 28: a budget's count cost two round trips
    before every upstream call, four for the first call of a bucket)."""
    # `store` may be django.core.cache.cache, a proxy of the default cache: asked for the method, it answers.
    add_then_incr: Callable[[str, int, int | None], int] | None = getattr(store, "add_then_incr", None)
    if add_then_incr is not None:
        return add_then_incr(key, delta, timeout)
    try:
        return store.incr(key, delta)
    except ValueError:
        store.add(key, 0, timeout=timeout)
        return store.incr(key, delta)


class _Memory(LocMemCache):
    def set_many_then_delete(self, data: dict[str, Any], timeout: Any, gone: list[str]) -> None:
        self.set_many(data, timeout)
        self.delete_many(gone)

    def add_then_get_many(
        self, key: str, value: Any, timeout: int, keys: list[str]
    ) -> tuple[bool, dict[str, Any]]:
        return self.add(key, value, timeout=timeout), self.get_many(keys)

    def add_then_incr(self, key: str, delta: int, timeout: int | None) -> int:
        self.add(key, 0, timeout=timeout)
        return self.incr(key, delta)


class _Serializer(Protocol):
    def dumps(self, obj: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class _KeptClient(RedisCacheClient):
    """Django's Redis client maker, which makes a new redis.Redis (a dozen attributes, a lock, a callback
    table) for every call: this one keeps one per connection pool and hands it out again. redis-py's
    clients are safe to share between threads (each command borrows a connection from the pool), and a
    connection Redis dropped is replaced by the pool, so a kept client outlives an outage."""

    # Django's own, set or defined by RedisCacheClient but missing from its stubs.
    _serializer: _Serializer
    if TYPE_CHECKING:

        def _get_connection_pool(self, write: bool) -> ConnectionPool: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}  # by id of the pool, which lives as long as this

    def get_client(self, key: Any = None, *, write: bool = False) -> Redis:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), Redis(connection_pool=pool))
        return client


class _PipelinedRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _KeptClient

    def set_many_then_delete(self, data: dict[str, Any], timeout: Any, gone: list[str]) -> None:
        kept = cast(_KeptClient, self._cache)  # made by self._class
        pipeline = kept.get_client(None, write=True).pipeline()
        dumps = kept._serializer.dumps
        seconds = self.get_backend_timeout(timeout)
        for key, value in data.items():
            name = self.make_and_validate_key(key)
            if seconds == 0:  # as Django's set: kept for no time at all
                pipeline.delete(name)
            else:
                pipeline.set(name, dumps(value), ex=None if seconds is None else int(seconds))
        if gone:
            pipeline.delete(*(self.make_and_validate_key(key) for key in gone))
        pipeline.execute()

    def add_then_get_many(
        self, key: str, value: Any, timeout: int, keys: list[str]
    ) -> tuple[bool, dict[str, Any]]:
        kept = cast(_KeptClient, self._cache)
        pipeline = kept.get_client(None, write=True).pipeline(transaction=False)
        name = self.make_and_validate_key(key)
        pipeline.set(name, kept._serializer.dumps(value), ex=max(int(timeout), 1), nx=True)
        names = {self.make_and_validate_key(each): each for each in keys}
        if names:
            pipeline.mget(list(names))
        answers = pipeline.execute()
        values = answers[1] if names else []
        loads = kept._serializer.loads
        found = {names[name]: loads(raw) for name, raw in zip(names, values, strict=True) if raw is not None}
        return bool(answers[0]), found

    def add_then_incr(self, key: str, delta: int, timeout: int | None) -> int:
        kept = cast(_KeptClient, self._cache)
        name = self.make_and_validate_key(key)
        pipeline = kept.get_client(None, write=True).pipeline()  # MULTI … EXEC: nothing comes between
        expiry = max(int(timeout), 1) if timeout is not None else None
        pipeline.set(name, kept._serializer.dumps(0), ex=expiry, nx=True)
        pipeline.incrby(name, delta)
        return int(pipeline.execute()[1])


class ResilientRedisCache(_PipelinedRedisCache):
    """Django's Redis cache that falls back to the process's own memory while Redis does not answer."""

    def _run(self, operation: str, *args: Any) -> Any:
        if _health.should_try():
            try:
                result = getattr(super(), operation)(*args)
            except UNREACHABLE as error:
                _health.failed(error)
            except Exception:
                _health.succeeded()  # Redis answered (no such key to increment, say): that answer stands
                raise
            else:
                _health.succeeded()
                return result
        if getattr(_strict, "on", False):
            raise Unreachable(operation)
        return getattr(local(), operation)(*args)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._run("add", key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._run("get", key, default, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._run("set", key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._run("touch", key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._run("delete", key, version)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._run("get_many", list(keys), version)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._run("has_key", key, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # ValueError (no such key) is an answer, not an outage: it reaches the caller either way.
        return self._run("incr", key, delta, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return self._run("set_many", data, timeout, version)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._run("delete_many", list(keys), version)

    def clear(self) -> None:
        self._run("clear")

    def set_many_then_delete(self, data: dict[str, Any], timeout: Any, gone: list[str]) -> None:
        self._run("set_many_then_delete", data, timeout, gone)

    def add_then_incr(self, key: str, delta: int, timeout: int | None) -> int:
        return int(self._run("add_then_incr", key, delta, timeout))

    def add_then_get_many(
        self, key: str, value: Any, timeout: int, keys: list[str]
    ) -> tuple[bool, dict[str, Any]]:
        added, found = self._run("add_then_get_many", key, value, timeout, keys)
        return bool(added), found


class Watch:
    """Keys this process is told of when they change, by Redis itself (its client-side caching: CLIENT
    TRACKING on a connection of this process's own, in RESP3): `read` reads keys and has Redis note them,
    `unchanged` says whether any was written, expired or evicted since, by any process, without a round
    trip. Redis queues the notice as it carries out the write, before the writer hears back, and a notice
    for a key read on this connection is never lost while the connection lives; whatever may have been
    missed (a lost connection, a FLUSHALL, Redis's own tracking table full) counts as every key changed.

    A Redis that stalls sends no notice, and a process whose write found it stalled keeps the write in
    its own memory once its timeout (the cache's socket timeout) has passed: `unchanged` trusts the
    notices only while Redis answered this connection within that timeout, and asks it (a PING) when
    not. One that does not answer marks the shared cache down for this process (`degraded`).

    Thread-safe; one per process (`watch()`). While the connection fails it is tried again at most every
    CACHE_RETRY_SECONDS, and `read` answers None meanwhile."""

    def __init__(self, cache: ResilientRedisCache) -> None:
        self.cache = cache
        self.lock = threading.Lock()
        self.connection: Any = None
        self.pid = 0
        self.retry_at = 0.0
        self.seq = 0  # moves on with every notice
        self.reset_at = 0  # the seq since which nothing was missed
        self.changed: dict[str, int] = {}  # key → the seq of its latest notice
        self.changed_most = 100_000
        self.heard_at = 0.0  # time.monotonic() when Redis last answered this connection
        options = cast(Any, cache._cache)._pool_options
        self.timeout = float(options.get("socket_timeout") or settings.CACHE_TIMEOUT)
        self.connect_timeout = float(options.get("socket_connect_timeout") or settings.CACHE_CONNECT_TIMEOUT)

    def read(self, keys: list[str]) -> tuple[dict[str, Any], int] | None:
        """The keys' values (as the cache's get_many) and a mark to ask `unchanged` with; None when Redis
        cannot be asked. From now on any change to them is noticed."""
        names = [self.cache.make_and_validate_key(key) for key in keys]
        loads = cast(Any, self.cache)._cache._serializer.loads  # Django's RedisSerializer (not in its stubs)
        with self.lock:
            if not self._connected():
                return None
            try:
                self.connection.send_command("MGET", *names)
                raw = self.connection.read_response()  # notices before it are handled first
            except UNREACHABLE as error:
                self._lost(error)
                return None
            self.heard_at = time.monotonic()
            mark = self.seq
        found = {key: loads(value) for key, value in zip(keys, raw, strict=True) if value is not None}
        return found, mark

    def unchanged(self, keys: list[str], mark: int) -> bool:
        """No notice for any of `keys` since `read` gave `mark`, and none may have been missed."""
        names = [self.cache.make_and_validate_key(key) for key in keys]
        with self.lock:
            if not self._connected():
                return False
            try:
                while self.connection.can_read(timeout=0):
                    self.connection.read_response(push_request=True)
                if not self._silent(names, mark):
                    return False  # a notice came: no need to ask whether Redis is there
                if time.monotonic() - self.heard_at >= self.timeout:
                    self.connection.send_command("PING")  # notices before its answer are handled first
                    self.connection.read_response()
                    self.heard_at = time.monotonic()
            except UNREACHABLE as error:
                self._lost(error)
                return False
            return self._silent(names, mark)

    def _silent(self, names: list[str], mark: int) -> bool:
        """No notice for these keys since `mark`, and none missed."""
        changed = self.changed
        return mark >= self.reset_at and all(changed.get(name, -1) <= mark for name in names)

    def _noticed(self, push: list[Any]) -> None:
        """A notice: ["invalidate", [key, …]], or ["invalidate", None] when everything went (FLUSHALL)."""
        self.seq += 1
        names = push[1] if len(push) > 1 else None
        if names is None or len(self.changed) > self.changed_most:
            self.changed.clear()
            self.reset_at = self.seq
            return
        for name in names:
            self.changed[name.decode() if isinstance(name, bytes) else str(name)] = self.seq

    def _connected(self) -> bool:
        if self.connection is not None and self.pid == os.getpid():
            return True
        if time.monotonic() < self.retry_at:
            return False
        self.connection = None  # a connection made before a fork is the parent's
        try:
            connection = ConnectionPool.from_url(
                cast(Any, self.cache)._servers[0],  # Django's RedisCache's, not in its stubs
                protocol=3,
                socket_connect_timeout=self.connect_timeout,
                socket_timeout=self.timeout,
            ).make_connection()
            connection.connect()
            cast(Any, connection)._parser.set_invalidation_push_handler(self._noticed)
            connection.send_command("CLIENT", "TRACKING", "ON")
            connection.read_response()
        except UNREACHABLE as error:
            self._lost(error)
            return False
        self.connection, self.pid = connection, os.getpid()
        self.heard_at = time.monotonic()
        self.seq += 1
        self.reset_at = self.seq  # nothing read on another connection is watched on this one
        self.changed.clear()
        return True

    def _lost(self, error: BaseException) -> None:
        _health.failed(error)  # the rest of the page uses this worker's memory, without waiting again
        if self.connection is not None:
            with suppress(Exception):
                self.connection.disconnect()
        self.connection = None
        self.seq += 1
        self.reset_at = self.seq
        self.changed.clear()
        self.retry_at = time.monotonic() + float(settings.CACHE_RETRY_SECONDS)


_watches: dict[int, Watch] = {}
_watches_lock = threading.Lock()


def watch() -> Watch | None:
    """This process's Watch on the shared cache; None when the cache is not Redis or is down."""
    shared = caches["default"]
    if not isinstance(shared, ResilientRedisCache) or degraded():
        return None
    with _watches_lock:
        found = _watches.get(id(shared))
        if found is None or found.cache is not shared:
            found = _watches[id(shared)] = Watch(shared)
        return found


def in_use() -> bool:
    """Whether the default cache is the shared one (Redis) at all: the local-memory cache never degrades."""
    return isinstance(caches["default"], ResilientRedisCache)
