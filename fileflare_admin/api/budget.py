"""One request budget per upstream key, shared by every worker through Django's cache.

A sliding window of 5-second buckets over 65 seconds (one bucket of margin past Fileflare's minute).
`cache.incr` is atomic in Redis and in the local-memory cache; a request is admitted only if the sum
after its own increment stays within the limit, otherwise it gives its slot back. Under contention this
can refuse a request that would have fitted, never admit one that does not.
"""

import math
import time

from django.core.cache import cache

BUCKET_SECONDS = 5
WINDOW_BUCKETS = 13


def _key(name: str, bucket: int) -> str:
    return f"ffa:budget:{name}:{bucket}"


def acquire(name: str, limit: int) -> int | None:
    """Take one request from the budget `name`. None when admitted, else seconds until one frees up."""
    now = time.time()
    blocked_until = cache.get(f"ffa:budget:{name}:blocked")
    if blocked_until and blocked_until > now:
        return math.ceil(blocked_until - now)
    if limit <= 0:
        return None
    current = int(now // BUCKET_SECONDS)
    buckets = list(range(current - WINDOW_BUCKETS + 1, current + 1))
    counts = cache.get_many([_key(name, bucket) for bucket in buckets[:-1]])
    earlier = sum(int(value) for value in counts.values())
    key = _key(name, current)
    cache.add(key, 0, timeout=BUCKET_SECONDS * (WINDOW_BUCKETS + 1))
    try:
        mine = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 0, timeout=BUCKET_SECONDS * (WINDOW_BUCKETS + 1))
        mine = cache.incr(key)
    if earlier + mine <= limit:
        return None
    cache.decr(key)
    oldest = next((bucket for bucket in buckets[:-1] if counts.get(_key(name, bucket))), current)
    return max(1, math.ceil((oldest + WINDOW_BUCKETS) * BUCKET_SECONDS - now))


def block(name: str, seconds: int) -> None:
    """The upstream itself said 429: no worker sends on this key until it said to come back."""
    cache.set(f"ffa:budget:{name}:blocked", time.time() + seconds, timeout=seconds + 5)


def usage(name: str) -> tuple[int, float | None]:
    """Requests counted in the current window, and until when the upstream blocked us (epoch seconds)."""
    now = time.time()
    current = int(now // BUCKET_SECONDS)
    counts = cache.get_many(
        [_key(name, bucket) for bucket in range(current - WINDOW_BUCKETS + 1, current + 1)]
    )
    blocked = cache.get(f"ffa:budget:{name}:blocked")
    return sum(int(value) for value in counts.values()), blocked if blocked and blocked > now else None
