"""A page's shared-cache reads made in one round trip where their keys can be named ahead (issue 28).

Under gunicorn every call to the shared cache is a round trip to Redis, which an in-process profile does
not show: the warm order page made six to eight of them one after the other (its order, its records, the
customer's view, "this answer is in the order index already", "these counts are noted already", the
product names, then its fragments). Two tools put them together:

- `gathering()` with `gather(keys)`: a read that would ask for `keys` notes them and stops there (the read
  cache raises deadline.NotFresh, as when it has no fresh answer), so a page learns what its upstream reads
  will ask for without asking (fileflare_admin.api.deadline.PageCalls.submit_many);
- `read_ahead(keys)` inside a `scope()` (or `ahead(keys)`): one `get_many` for all of them; until the scope
  ends `get_many`/`get` of this module answer those keys from it and ask the cache only for the rest.

A page's first read ahead also reads the keys its later reads (through this module) named the last time
this process served a page whose first read named the same keys: a warm order page reads its answers, what
they name and its fragments in one round trip. A guess that no longer fits (a new History entry, a changed
record) costs the round trip it would have cost anyway, never a wrong value: each key holds what the cache
held when the page began.

A value read ahead is what the cache held when the page asked: read ahead only keys the page does not write
before reading them again, or writes through this module's `set_many` (the product names the order page
learns, its fragments); since a page's later reads are read ahead the next time, that holds for every key
a page reads through this module. A read that must see other processes' writes as they come (a lock, a wait
for another's fetch) asks the cache itself.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.utils import timezone, translation

MISSING = object()  # read ahead and not in the cache; what `recording` notes for a key read and not found
_ahead: ContextVar[dict[str, Any] | None] = ContextVar("cache_read_ahead", default=None)
_gathered: ContextVar[list[str] | None] = ContextVar("cache_keys_gathered", default=None)
_recorded: ContextVar[dict[str, Any] | None] = ContextVar("cache_reads_recorded", default=None)

# The keys a page read after its first read ahead, by that first read's keys (and the language and time
# zone the page is shown in, which its fragments' keys name): the newest pages' only, a bounded number each.
LATER_PAGES = 256
LATER_KEYS = 400
_later: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_later_lock = threading.Lock()


@dataclass
class _Page:
    """The outermost scope: its values (the keys guessed from last time go there), its first read's keys
    and signature, and every key read through this module since."""

    known: dict[str, Any]
    first: str | None = None
    first_keys: frozenset[str] = frozenset()
    read: list[str] = field(default_factory=list)
    writes: dict[int, dict[str, Any]] = field(default_factory=dict)  # set_later's, by timeout


_page: ContextVar[_Page | None] = ContextVar("cache_read_ahead_page", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """What `read_ahead` reads inside is kept until the scope ends (a page: its view and its render). The
    outermost scope notes the keys its page reads, read ahead with its first read the next time."""
    known: dict[str, Any] = dict(_ahead.get() or {})
    token = _ahead.set(known)
    page = _Page(known) if _page.get() is None else None
    page_token = _page.set(page) if page is not None else None
    try:
        yield
    finally:
        if page is not None and page_token is not None:
            _page.reset(page_token)
            _remember_later(page)
            for timeout, values in page.writes.items():
                _write(values, timeout)
        _ahead.reset(token)


def _write(values: dict[str, Any], timeout: int) -> None:
    """A page's `set_later` values written off its way (deadline.later: on the page pool, over before the
    request ends, in a request served by Django once its response is sent): nobody waits for them, and the
    page itself reads them from its scope (issue 28: a cold order page's fragments, one round trip with
    every rendered part to send, between its render and its response)."""
    from fileflare_admin.api import deadline  # which reads ahead through this module

    deadline.later(functools.partial(cache.set_many, values, timeout))


def _remember_later(page: _Page) -> None:
    if page.first is None:
        return
    later = tuple(key for key in dict.fromkeys(page.read) if key not in page.first_keys)[:LATER_KEYS]
    with _later_lock:
        _later[page.first] = later
        _later.move_to_end(page.first)
        while len(_later) > LATER_PAGES:
            _later.popitem(last=False)


def _guessed(page: _Page | None, wanted: list[str]) -> list[str]:
    """At a page's first read ahead: the keys its later reads named last time (noting this read as the
    first); else none (noting the keys as read)."""
    if page is None:
        return []
    if page.first is not None:
        page.read.extend(wanted)
        return []
    where = (tuple(wanted), translation.get_language(), timezone.get_current_timezone_name())
    page.first = hashlib.sha256(repr(where).encode()).hexdigest()
    page.first_keys = frozenset(wanted)
    with _later_lock:
        later = _later.get(page.first, ())
    return [key for key in later if key not in page.first_keys and key not in page.known]


def read_ahead(keys: Iterable[str]) -> None:
    """`keys` (those not read ahead already) read in one get_many now; until the scope ends this
    module's reads of them are answered from it. Outside a scope it reads nothing."""
    known = _ahead.get()
    if known is None:
        return
    page = _page.get()
    asked = [key for key in dict.fromkeys(keys) if key]
    guessed = _guessed(page, asked)
    wanted = [key for key in asked if key not in known]
    found = cache.get_many([*wanted, *guessed]) if wanted or guessed else {}
    known.update({key: found.get(key, MISSING) for key in wanted})
    if page is not None:  # kept for the whole page, beyond an inner scope (PageCalls.submit_many's)
        page.known.update({key: found.get(key, MISSING) for key in guessed})


def found(keys: Iterable[str], values: dict[str, Any]) -> None:
    """`keys` were just read from the cache by this page (`values`: those found): until the scope ends its
    reads of them are answered from that read, as if read ahead (a kept page that no longer fits hands
    its page what it read: fileflare_admin.kept_pages). Outside a scope, nothing."""
    known = _ahead.get()
    if known is not None:
        known.update({key: values.get(key, MISSING) for key in keys})


@contextmanager
def ahead(keys: Iterable[str]) -> Iterator[None]:
    """`keys` read in one get_many now; inside, this module's reads of them are answered from it."""
    with scope():
        read_ahead(keys)
        yield


def set_many(values: dict[str, Any], timeout: int) -> None:
    """As the cache's set_many; a later read of these keys in the scope sees the values written."""
    cache.set_many(values, timeout)
    written(values)
    known = _ahead.get()
    if known is not None:
        known.update(values)


def set_later(values: dict[str, Any], timeout: int) -> None:
    """As `set_many`, for values nobody else waits for (rendered fragments): inside a page's scope they are
    written when it ends, with the page's other such values, in one set_many (per timeout)."""
    written(values)
    page = _page.get()
    if page is None:
        cache.set_many(values, timeout)
        return
    page.writes.setdefault(timeout, {}).update(values)
    page.known.update(values)
    known = _ahead.get()
    if known is not None and known is not page.known:
        known.update(values)


def get_many(keys: Iterable[str]) -> dict[str, Any]:
    """As the cache's get_many; the keys read ahead cost no round trip, the others one."""
    keys = list(keys)
    known = _ahead.get() or {}
    page = _page.get()
    if page is not None:
        page.read.extend(keys)
    rest = [key for key in keys if key not in known]
    found = cache.get_many(rest) if rest else {}
    for key in keys:
        value = known.get(key, MISSING)
        if value is not MISSING:
            found[key] = value
    recorded = _recorded.get()
    if recorded is not None:
        for key in keys:
            recorded.setdefault(key, found.get(key, MISSING))
    return found


def get(key: str) -> Any:
    return get_many([key]).get(key)


def peek(key: str) -> tuple[bool, Any]:
    """Whether the page read `key` ahead, and what it found (MISSING: not in the cache), with no round trip
    and not among what the page is made from (`recording`): for bookkeeping the page shows nothing of
    (orders_index.services.order_index_saw). Noted among the page's later reads: read ahead next time."""
    page = _page.get()
    if page is not None:
        page.read.append(key)
    known = _ahead.get() or {}
    return (True, known[key]) if key in known else (False, MISSING)


def forget(keys: Iterable[str]) -> None:
    """What this page read ahead of `keys` is no longer what the cache holds (the page itself changed them
    there): its later reads of them ask the cache."""
    for known in (_ahead.get(), getattr(_page.get(), "known", None)):
        if known is not None:
            for key in keys:
                known.pop(key, None)


@contextmanager
def recording() -> Iterator[dict[str, Any]]:
    """Inside, every key read or written through this module is noted in the dict yielded: the value it
    held when first read (MISSING: not in the cache), or the value last written. What a page shows is made
    from these, besides what its caller names (fileflare_admin.kept_pages)."""
    values: dict[str, Any] = {}
    token = _recorded.set(values)
    try:
        yield values
    finally:
        _recorded.reset(token)


def written(values: dict[str, Any]) -> None:
    """These values were just written to the cache by the page (its `recording` notes them so)."""
    recorded = _recorded.get()
    if recorded is not None:
        recorded.update(values)


@contextmanager
def gathering() -> Iterator[list[str]]:
    """Inside, `gather` notes the keys reads would ask for (the list yielded) and tells them to stop."""
    keys: list[str] = []
    token = _gathered.set(keys)
    try:
        yield keys
    finally:
        _gathered.reset(token)


def gather(keys: Iterable[str]) -> bool:
    """Inside `gathering`: note `keys` and return True (the read stops there); else False."""
    gathered = _gathered.get()
    if gathered is None:
        return False
    gathered.extend(keys)
    return True
