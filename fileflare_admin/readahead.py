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

A value read ahead is what the cache held when the page asked: read ahead only keys the page does not write
before reading them again, or writes through this module's `set_many` (the product names the order page
learns). A read that must see other processes' writes as they come (a lock, a wait for another's fetch)
asks the cache itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache

_MISSING = object()  # read ahead and not in the cache
_ahead: ContextVar[dict[str, Any] | None] = ContextVar("cache_read_ahead", default=None)
_notes: ContextVar[dict[str, Any] | None] = ContextVar("cache_read_ahead_notes", default=None)
_gathered: ContextVar[list[str] | None] = ContextVar("cache_keys_gathered", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """What `read_ahead` reads inside is kept until the scope ends (a page: its view and its render)."""
    token = _ahead.set(dict(_ahead.get() or {}))
    notes = _notes.set({})
    try:
        yield
    finally:
        _notes.reset(notes)
        _ahead.reset(token)


def notes() -> dict[str, Any] | None:
    """A dictionary kept for the scope's length, for a reader's own notes about the page (None outside
    a scope): fileflare_admin.fragments notes there which fragments the page has asked for."""
    return _notes.get()


def read_ahead(keys: Iterable[str]) -> None:
    """`keys` (those not read ahead already) read in one get_many now; until the scope ends this
    module's reads of them are answered from it. Outside a scope it reads nothing."""
    known = _ahead.get()
    if known is None:
        return
    wanted = [key for key in dict.fromkeys(keys) if key and key not in known]
    found = cache.get_many(wanted) if wanted else {}
    known.update({key: found.get(key, _MISSING) for key in wanted})


@contextmanager
def ahead(keys: Iterable[str]) -> Iterator[None]:
    """`keys` read in one get_many now; inside, this module's reads of them are answered from it."""
    with scope():
        read_ahead(keys)
        yield


def set_many(values: dict[str, Any], timeout: int) -> None:
    """As the cache's set_many; a later read of these keys in the scope sees the values written."""
    cache.set_many(values, timeout)
    known = _ahead.get()
    if known is not None:
        known.update(values)


def get_many(keys: Iterable[str]) -> dict[str, Any]:
    """As the cache's get_many; the keys read ahead cost no round trip, the others one."""
    keys = list(keys)
    known = _ahead.get() or {}
    rest = [key for key in keys if key not in known]
    found = cache.get_many(rest) if rest else {}
    for key in keys:
        value = known.get(key, _MISSING)
        if value is not _MISSING:
            found[key] = value
    return found


def get(key: str) -> Any:
    return get_many([key]).get(key)


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
