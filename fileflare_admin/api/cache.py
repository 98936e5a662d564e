"""The read cache: answers stay fresh for UPSTREAM_CACHE_TTL and are kept for UPSTREAM_STALE_TTL, to be
shown ("as of HH:MM:SS") when the budget is spent or the upstream is down. Concurrent reads of the same
thing, in any worker, wait for the one that fetches (request coalescing). Writes bump a generation
number per API, so every read after a change misses and the person sees their own change at once."""

import hashlib
import math
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from fileflare_admin.api.errors import ApiError, BadResponse, RateLimited, Unavailable
from fileflare_admin.api.types import Fetched
from fileflare_admin.sentences import UserFacingError

POLL_SECONDS = 0.05


class LockBusy(UserFacingError):
    """Someone else held the lock for longer than we were willing to wait."""

    default_message = "Someone else is changing this right now. Wait a moment and try again."


@contextmanager
def shared_lock(name: str, timeout: float, *, wait: float | None = None) -> Iterator[None]:
    """Hold the lock `name` across every worker while the block runs.

    `timeout`: the longest the lock may be held (seconds); past it the lock frees itself, so a worker that
    dies holding it blocks nobody for long. Size it above the slowest the block can take.
    `wait`: how long to wait for someone else's hold to end (default: `timeout`); then `LockBusy` is raised
    (a UserFacingError: its `user_message` is a sentence for the page).

    Works on Redis and on the local-memory cache (`cache.add` is atomic in both). While Redis is down the
    cache answers from the process's own memory, so the lock then holds within this process only.
    """
    key = f"ffa:lock:{name}"
    token = uuid.uuid4().hex
    seconds = max(math.ceil(timeout), 1)
    give_up = time.monotonic() + (timeout if wait is None else wait)
    while not cache.add(key, token, timeout=seconds):
        if time.monotonic() >= give_up:
            raise LockBusy()
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        if cache.get(key) == token:  # never free a lock that expired and someone else took since
            cache.delete(key)


def generation(api: str) -> int:
    return int(cache.get(f"ffa:gen:{api}") or 0)


def invalidate(api: str) -> None:
    key = f"ffa:gen:{api}"
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=None)


def read_key(api: str, identity: str, path: str, params: dict[str, Any] | None) -> str:
    """Names a read without naming its secret: `identity` is already a hash of base URL and key."""
    values = params or {}
    query = "&".join(f"{name}={values[name]}" for name in sorted(values))
    digest = hashlib.sha256(f"{identity}|{path}|{query}".encode()).hexdigest()[:32]
    return f"ffa:read:{api}:{generation(api)}:{digest}"


def cached(key: str, fetch: Callable[[], Any], *, on_event: Callable[[str], None]) -> Fetched[Any]:
    """The fresh cached answer, or one fetch shared by everyone asking at once, or a stale copy."""
    entry = cache.get(key)
    ttl = settings.UPSTREAM_CACHE_TTL
    if entry and time.time() - entry["at"] < ttl:
        on_event("hit")
        return _fetched(entry, stale=False)
    lock = f"{key}:lock"
    wait = settings.UPSTREAM_CONNECT_TIMEOUT + settings.UPSTREAM_READ_TIMEOUT
    if not cache.add(lock, 1, timeout=int(wait) + 1):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and cache.get(lock):
            time.sleep(POLL_SECONDS)
            fresh = cache.get(key)
            if fresh and time.time() - fresh["at"] < ttl:
                on_event("coalesced")
                return _fetched(fresh, stale=False)
    try:
        payload = fetch()
    except (RateLimited, Unavailable, BadResponse) as error:
        if entry:
            on_event("stale")
            return _fetched(entry, stale=True)
        raise error from None
    except ApiError:
        raise
    finally:
        cache.delete(lock)
    entry = {"payload": payload, "at": time.time()}
    if ttl > 0:
        cache.set(key, entry, timeout=max(settings.UPSTREAM_STALE_TTL, ttl))
    return _fetched(entry, stale=False)


def _fetched(entry: dict[str, Any], *, stale: bool) -> Fetched[Any]:
    return Fetched(
        value=entry["payload"], fetched_at=datetime.fromtimestamp(entry["at"], tz=UTC), stale=stale
    )


def store(key: str, payload: Any) -> Fetched[Any]:
    """Keep an answer fetched past the cache (a fresh read), so the next reads see it too."""
    entry = {"payload": payload, "at": time.time()}
    cache.set(key, entry, timeout=max(settings.UPSTREAM_STALE_TTL, settings.UPSTREAM_CACHE_TTL))
    return _fetched(entry, stale=False)


def store_many(entries: dict[str, Any]) -> None:
    """Keep several answers at once: read entries get the fetched time; plain values are kept as given."""
    now = time.time()
    timeout = max(settings.UPSTREAM_STALE_TTL, settings.UPSTREAM_CACHE_TTL)
    cache.set_many(
        {
            key: {"payload": value, "at": now} if key.startswith("ffa:read:") else value
            for key, value in entries.items()
        },
        timeout=timeout,
    )
