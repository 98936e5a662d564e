"""The read cache: answers stay fresh for UPSTREAM_CACHE_TTL and are kept for UPSTREAM_STALE_TTL, to be
shown ("as of HH:MM:SS") when the budget is spent or the upstream is slow or down. Concurrent reads of the
same thing, in any worker, wait for the one that fetches (request coalescing).

Writes bump a generation number per fact they change (`invalidate`): every copy of a read that shows that
fact, saved under an older generation, stops being fresh, so the next read fetches and the person sees
their own change at once, on every page that shows it; the copy itself stays, to be shown "as of" if that
fresh read fails. A family of reads shows one fact (its own name) unless it is declared with
`family_showing` to show several (the customer's page shows an order's files and its records' counts).
With a saved copy to show, a page waits at most UPSTREAM_STALE_WAIT for a fresh answer.

Also here: `shared_lock(name, timeout, wait=)`, a lock that holds across every worker, and
`write_lock_seconds()`, how long a lock around one read-check-write of an upstream may be held."""

import functools
import hashlib
import math
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from fileflare_admin import readahead, sharedcache
from fileflare_admin.api import deadline
from fileflare_admin.api.errors import BadResponse, RateLimited, Unavailable
from fileflare_admin.api.types import Fetched
from fileflare_admin.sentences import UserFacingError

POLL_SECONDS = 0.05
# The facts writes change, each with its generation (a resend changes "fileflare-lists", a record change
# "downloads"); every fact this process has seen gets a new generation when the shared cache comes back.
_families: set[str] = {"fileflare", "fileflare-lists", "downloads"}
# A family of reads that shows more than its own fact → every fact it shows (see family_showing).
_shows: dict[str, tuple[str, ...]] = {}
Generation = tuple[int, ...]


class LockBusy(UserFacingError):
    """Someone else held the lock for longer than we were willing to wait."""

    default_message = _("Someone else is changing this right now. Wait a moment and try again.")


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


def write_lock_seconds() -> float:
    """Longer than the slowest read-check-write can take (a fresh read, a write and a read-back, each
    with its retries), so a lock never lapses under a live write; a dead worker's lapses after it."""
    one_call = (settings.UPSTREAM_CONNECT_TIMEOUT + settings.UPSTREAM_READ_TIMEOUT) * (
        1 + max(settings.UPSTREAM_RETRIES, 0)
    )
    return 3 * one_call + 5


READ_PREFIX = "ffa:read:"  # every saved answer's key starts so (read_key)


def _generation_key(family: str) -> str:
    return f"ffa:gen:{family}"


def family_showing(family: str, *facts: str) -> str:
    """Declare that the reads of `family` show each of these facts: a write that changes any of them
    (`invalidate(fact)`) makes them stale. Returns `family`, for the reads to name."""
    _shows[family] = tuple(dict.fromkeys(facts))
    _families.update(facts)
    return family


def _facts(family: str) -> tuple[str, ...]:
    return _shows.get(family, (family,))


def _generation_keys(family: str) -> list[str]:
    return [_generation_key(fact) for fact in _facts(family)]


def generation_of(family: str, found: dict[str, Any]) -> Generation:
    """`family`'s generation from what a read of its generation keys found."""
    return tuple(int(found.get(key) or 0) for key in _generation_keys(family))


def generation_keys(family: str) -> list[str]:
    """The shared-cache keys of the generations `family`'s reads depend on (read them with the reads, in
    one round trip: generation_of), the family known from then on (a write made while the shared cache
    was down bumps it on its return)."""
    _families.update(_facts(family))
    return _generation_keys(family)


def generation(family: str) -> Generation:
    """Where the facts the reads of `family` show stand: a read saved at another generation is not fresh."""
    return generation_of(family, cache.get_many(_generation_keys(family)))


def invalidate(family: str) -> None:
    """After a write that changed the fact `family`: every saved read that shows it stops being fresh (and
    stays available to show "as of"), whichever family of reads it belongs to."""
    _families.add(family)
    sharedcache.counted(cache, _generation_key(family), 1, timeout=None)  # one round trip (was three)


def _after_outage() -> None:
    """Writes made while the shared cache was down bumped only one worker's own generations: whatever the
    shared cache still holds may predate them, so none of it counts as fresh any more."""
    for family in sorted(_families):
        invalidate(family)


sharedcache.on_recovery(_after_outage)


def read_key(family: str, identity: str, path: str, params: dict[str, Any] | None) -> str:
    """Names a read without naming its secret: `identity` is already a hash of base URL and key."""
    _families.update(_facts(family))
    values = params or {}
    query = "&".join(f"{name}={values[name]}" for name in sorted(values))
    digest = hashlib.sha256(f"{identity}|{path}|{query}".encode()).hexdigest()[:32]
    return f"{READ_PREFIX}{family}:{digest}"


def _family(key: str) -> str:
    return key.split(":")[2]


def _is_fresh(entry: dict[str, Any], current: Generation) -> bool:
    """Saved under the family's current generation (no write since) and young enough."""
    return entry.get("gen") == current and time.time() - entry["at"] < settings.UPSTREAM_CACHE_TTL


def cached(
    key: str,
    fetch: Callable[[dict[str, Any] | None], Any],
    *,
    on_event: Callable[[str], None],
    read_with_lock: list[str] | None = None,
) -> Fetched[Any]:
    """The fresh cached answer, or one fetch shared by everyone asking at once, or the saved copy.
    `read_with_lock`: keys read in the same round trip as the fetch's lock is taken, handed to `fetch`
    (what its call reads before it goes out: fileflare_admin.api.http.first_read_keys); else it gets None."""
    family = _family(key)
    keys = [key, *_generation_keys(family)]
    if readahead.gather(keys):  # a page learning what it will read (deadline.PageCalls.submit_many)
        raise deadline.NotFresh(key)
    found = readahead.get_many(keys)
    entry, current = found.get(key), generation_of(family, found)
    if entry is not None and _is_fresh(entry, current):
        on_event("hit")
        return _fetched(entry, stale=False)
    if deadline.cache_only():
        raise deadline.NotFresh(key)
    # With a saved copy to show instead, nobody waits long for a fresh one.
    patience = deadline.within(settings.UPSTREAM_STALE_WAIT) if entry else nullcontext()
    with patience:
        lock = f"{key}:lock"
        timeout = math.ceil(settings.UPSTREAM_PAGE_DEADLINE) + 1
        mine, first = sharedcache.add_then_get_many(lock, 1, timeout=timeout, keys=read_with_lock or [])
        if not mine:
            fresh = _wait_for_fetch(key, lock, current)
            if fresh is not None:
                on_event("coalesced")
                return _fetched(fresh, stale=False)
            if entry:
                on_event("stale")
                return _fetched(entry, stale=True)
        try:
            payload = fetch(first if read_with_lock and mine else None)
        except BaseException as error:
            if mine:
                cache.delete(lock)
            if entry and isinstance(error, RateLimited | Unavailable | BadResponse):
                on_event("stale")
                return _fetched(entry, stale=True)
            raise
    # The answer kept and our lock released in one round trip (those waiting see the answer first), off
    # the page's way: the page has its answer now.
    return store(key, payload, at_generation=current, release=lock if mine else None, later=True)


def _wait_for_fetch(key: str, lock: str, current: Generation) -> dict[str, Any] | None:
    """Someone else is fetching this: their answer, once it is there (within our deadline), or None."""
    ends = deadline.call_deadline(time.monotonic()) - POLL_SECONDS
    while time.monotonic() < ends:
        time.sleep(POLL_SECONDS)
        found = cache.get_many([key, lock])
        fresh = found.get(key)
        if fresh is not None and _is_fresh(fresh, current):
            return fresh
        if lock not in found:
            return None  # they gave up without an answer: try ourselves
    return None


def answer_version(entry: object) -> tuple[float, Generation | None] | None:
    """A saved answer's version (what `store` keeps: its payload is the upstream's as fetched then): when
    it was fetched and under which generation. None for anything that is not a saved answer."""
    if isinstance(entry, dict) and "payload" in entry and "at" in entry and "gen" in entry:
        return float(entry["at"]), entry["gen"]
    return None


def _fetched(entry: dict[str, Any], *, stale: bool) -> Fetched[Any]:
    return Fetched(
        value=entry["payload"], fetched_at=datetime.fromtimestamp(entry["at"], tz=UTC), stale=stale
    )


def _keep_seconds() -> int:
    return max(settings.UPSTREAM_STALE_TTL, math.ceil(settings.UPSTREAM_CACHE_TTL))


def store(
    key: str,
    payload: Any,
    *,
    at_generation: Generation | None = None,
    release: str | None = None,
    later: bool = False,
) -> Fetched[Any]:
    """Keep an answer (fetched past the cache, or from a write's reply), so the next reads see it too.
    `at_generation`: its family's generation when the fetch began (a write since then makes it not fresh);
    `release`: the lock of the fetch, deleted in the same round trip; `later`: written as the request's
    bookkeeping (deadline.later), not before the caller has the answer (issue 28: a cold page waited for
    the round trip between its records' answer and its render)."""
    current = at_generation if at_generation is not None else generation(_family(key))
    entry = {"payload": payload, "at": time.time(), "gen": current}
    kept = {key: entry} if settings.UPSTREAM_CACHE_TTL > 0 else {}
    if kept or release:
        write = functools.partial(
            sharedcache.set_many_then_delete, kept, timeout=_keep_seconds(), gone=[release] if release else []
        )
        if later:
            deadline.later(write)
        else:
            write()
        readahead.written(kept)  # what a page that fetched it shows (fileflare_admin.kept_pages)
    return _fetched(entry, stale=False)


def store_many(entries: dict[str, Any]) -> None:
    """Keep several answers at once: read entries get the fetched time and their family's generation; plain
    values are kept as given."""
    now = time.time()
    generations: dict[str, Generation] = {}
    values: dict[str, Any] = {}
    for key, value in entries.items():
        if key.startswith(READ_PREFIX):
            family = _family(key)
            if family not in generations:
                generations[family] = generation(family)
            value = {"payload": value, "at": now, "gen": generations[family]}
        values[key] = value
    cache.set_many(values, timeout=_keep_seconds())
    readahead.written(values)


def mark_stale(key: str) -> None:
    """The saved answer may be out of date (a write's outcome is unclear): the next read fetches, and the
    saved copy stays to be shown "as of" if that fails."""
    entry = cache.get(key)
    if entry:
        cache.set(key, {**entry, "gen": None}, timeout=_keep_seconds())
