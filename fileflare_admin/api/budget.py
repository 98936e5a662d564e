"""One request budget per upstream key, shared by every worker through Django's cache.

A sliding window of 5-second buckets over 65 seconds (one bucket of margin past Fileflare's minute).
`cache.incr` is atomic in Redis and in the local-memory cache; a request is admitted only if the sum
after its own increment stays within the limit, otherwise it gives its slot back. Under contention this
can refuse a request that would have fitted, never admit one that does not.

While the shared cache (Redis) is down, each worker keeps to its own share: the limit divided by
UPSTREAM_WORKER_COUNT (every worker process on every machine that uses the same key), counted in its own
memory, so the shop's limit still holds. Each worker also counts what it sends in its own memory while
Redis is up (so its share already includes its last minute when Redis goes away), and hands over what it
sent during the outage when Redis answers again.
"""

import math
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache

from fileflare_admin import sharedcache

BUCKET_SECONDS = 5
WINDOW_BUCKETS = 13
BUCKET_TIMEOUT = BUCKET_SECONDS * (WINDOW_BUCKETS + 1)
_sent_during_outage: set[str] = set()  # budget names this process counted only in its own memory


def _key(name: str, bucket: int) -> str:
    return f"ffa:budget:{name}:{bucket}"


def _outage_key(name: str, bucket: int) -> str:
    return f"ffa:budget-outage:{name}:{bucket}"


def share(limit: int) -> int:
    """One worker's part of `limit` while the workers cannot count together."""
    if limit <= 0:
        return limit
    return max(limit // max(int(settings.UPSTREAM_WORKER_COUNT), 1), 1)


def _count(store: BaseCache, key: str, delta: int = 1) -> int:
    """Add `delta` to a bucket, made (with its timeout) by its first request, in one round trip to the
    shared cache (sharedcache.counted). A bucket is the current five seconds', so one that exists cannot
    expire before the increment (it is kept for 70 s)."""
    return sharedcache.counted(store, key, delta, timeout=BUCKET_TIMEOUT)


def first_reads(name: str, limit: int, now: float | None = None) -> list[str]:
    """The keys `acquire` reads before it counts (whether the upstream said to wait; with a limit, the
    window's earlier buckets), for a caller that reads them with its own in one round trip and passes
    what it found (`known`)."""
    keys = [f"ffa:budget:{name}:blocked"]
    if limit > 0:
        current = int((time.time() if now is None else now) // BUCKET_SECONDS)
        keys += [_key(name, bucket) for bucket in range(current - WINDOW_BUCKETS + 1, current)]
    return keys


def _acquire(store: BaseCache, name: str, limit: int, known: Mapping[str, Any] | None = None) -> int | None:
    now = time.time()
    keys = first_reads(name, limit, now)
    # What the caller read just now stands for these reads when it read every one of them (the same
    # buckets: the window has not moved on since); else they are read here.
    found = known if known is not None and all(key in known for key in keys) else store.get_many(keys)
    blocked_until = found.get(keys[0])
    if blocked_until and blocked_until > now:
        return math.ceil(blocked_until - now)
    if limit <= 0:
        return None
    current = int(now // BUCKET_SECONDS)
    buckets = list(range(current - WINDOW_BUCKETS + 1, current + 1))
    counts = {key: found[key] for key in keys[1:] if found.get(key)}
    earlier = sum(int(value) for value in counts.values())
    key = _key(name, current)
    mine = _count(store, key)
    if earlier + mine <= limit:
        return None
    store.decr(key)
    oldest = next((bucket for bucket in buckets[:-1] if counts.get(_key(name, bucket))), current)
    return max(1, math.ceil((oldest + WINDOW_BUCKETS) * BUCKET_SECONDS - now))


def acquire(name: str, limit: int, *, known: Mapping[str, Any] | None = None) -> int | None:
    """Take one request from the budget `name`. None when admitted, else seconds until one frees up.
    `known`: the shared cache's values of `first_reads`, read by the caller just now (None: not read)."""
    if not sharedcache.degraded():
        try:
            with sharedcache.strict():
                wait = _acquire(cache, name, limit, known)
        except sharedcache.Unreachable:
            pass  # Redis went away during this very call: count it below, against this worker's share
        else:
            if wait is None and sharedcache.in_use():
                _count(sharedcache.local(), _key(name, int(time.time() // BUCKET_SECONDS)))
            return wait
    own = sharedcache.local()
    wait = _acquire(own, name, share(limit))
    if wait is None:
        _count(own, _outage_key(name, int(time.time() // BUCKET_SECONDS)))
        _sent_during_outage.add(name)
    return wait


def _hand_over() -> None:
    """Redis answers again: add what this worker sent meanwhile to the shared window."""
    own = sharedcache.local()
    current = int(time.time() // BUCKET_SECONDS)
    for name in list(_sent_during_outage):
        keys = [_outage_key(name, bucket) for bucket in range(current - WINDOW_BUCKETS + 1, current + 1)]
        for key, sent in own.get_many(keys).items():
            if sent:
                _count(cache, _key(name, int(key.rsplit(":", 1)[1])), int(sent))
        own.delete_many(keys)
        _sent_during_outage.discard(name)


sharedcache.on_recovery(_hand_over)


def block(name: str, seconds: int) -> None:
    """The upstream itself said 429: no worker sends on this key until it said to come back."""
    cache.set(f"ffa:budget:{name}:blocked", time.time() + seconds, timeout=seconds + 5)


def kept_for_staff() -> int:
    """Requests a minute of each budget that only staff's own pages may spend: the slots kept for their
    writes (UPSTREAM_WRITE_RESERVE) and for their reads (STAFF_READ_RESERVE). Background work and the
    status page's checks stop short of them, however large their own shares."""
    return max(settings.UPSTREAM_WRITE_RESERVE, 0) + max(settings.STAFF_READ_RESERVE, 0)


def headroom_wait(name: str, limit: int, *, keep: int, slots: int = 1) -> int | None:
    """Seconds to wait before `slots` requests fit in the budget `name` of `limit` a minute outside the
    `keep` slots kept for staff (kept_for_staff() for an API's shared budget), or until the upstream's
    own 429 lifts; None when they fit now. Asked by everything that is not a staff page: background work
    and the status page's checks."""
    used, blocked_until = usage(name)
    if blocked_until:
        return max(1, math.ceil(blocked_until - time.time()))
    if limit > 0 and used + slots > limit - keep:
        return BUCKET_SECONDS  # the window slides every bucket: look again then
    return None


def usage(name: str) -> tuple[int, float | None]:
    """Requests counted in the current window, and until when the upstream blocked us (epoch seconds).
    While the shared cache is down: this worker's own count."""
    now = time.time()
    current = int(now // BUCKET_SECONDS)
    counts = cache.get_many(
        [_key(name, bucket) for bucket in range(current - WINDOW_BUCKETS + 1, current + 1)]
    )
    blocked = cache.get(f"ffa:budget:{name}:blocked")
    return sum(int(value) for value in counts.values()), blocked if blocked and blocked > now else None
