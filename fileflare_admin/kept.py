"""Reads of the dashboard's own database kept in the shared cache for the next page (issue 28).

A warm order page read its History, the count history behind its link-scanner line, its files' known
limits and its reply template from the database on every load: four statements, each a round trip to
PostgreSQL, about 5 ms of an 11 ms page under gunicorn (measured with them kept: 6.3-7.0 ms). `read` keeps
what such a query returned under the generation of its `family` of tables, the read cache's own
generations (fileflare_admin.api.cache), and a page reads the two with its other cache reads
(fileflare_admin.readahead: on a warm page, in its first round trip).

Every write to a family's tables calls `changed(family)`: the generation moves on at once and again when
the write's transaction commits, so a read between the two that saw the old rows keeps them under a
generation nobody reads again. A kept value is never shown after its family changed; nothing waits for a
timeout to be right. A followed model's saves and deletes call it by signal and its bulk writes through
its manager (`follow`, from each app's ready(); `KeptQuerySet`): no write site has to remember it.

While the shared cache is down every read asks the database: another process's write could not move
this process's generation. Its writes meanwhile bump the generations when it comes back, as every
generation is (api.cache._after_outage).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Model, QuerySet, signals

from fileflare_admin import readahead, sharedcache
from fileflare_admin.api import cache as read_cache

T = TypeVar("T")
_M = TypeVar("_M", bound=Model)

# The families of tables whose reads are kept, each bumped by every write to its tables.
AUDIT = "db-audit"  # audit.AuditEntry: an order's History
COUNT_HISTORY = "db-count-history"  # downloads.CountChange: the link-scanner line
LIMITS = "db-limits"  # downloads.SeenLimit: a file's known limit
REPLIES = "db-replies"  # orders.ReplyTemplate: the shop's wording of its replies
IDENTITY = "db-identity"  # orders_index.IndexedOrder, orders.KnownCustomerToken: an order's number and link

PREFIX = "ffa:kept:"
TIMEOUT = 3600  # only to let unused reads go: a kept read is never shown past its family's change


def read(family: str, name: tuple[Any, ...], query: Callable[[], T]) -> T:
    """`query()`, or what it returned last time for this `name` (everything the query reads besides the
    family's tables) if no write to `family`'s tables came since. A value that outlives the page it was
    read on: plain data or model instances, never a lazy queryset."""
    if sharedcache.degraded():
        return query()
    key, *keys = read_keys(family, name)
    # Read ahead: a page whose first read this is (the order page's number and link) reads with it what
    # it read after it last time, in the same round trip.
    readahead.read_ahead([key, *keys])
    found = readahead.get_many([key, *keys])
    current = read_cache.generation_of(family, found)
    entry = found.get(key)
    if isinstance(entry, dict) and entry.get("gen") == current:
        return entry["value"]  # what `query` returned, kept as it was
    value = query()
    readahead.set_later({key: {"gen": current, "value": value}}, TIMEOUT)
    return value


def read_keys(family: str, name: tuple[Any, ...]) -> list[str]:
    """The shared-cache keys `read(family, name, …)` reads (its value's, then its family's generations),
    for a page that reads them ahead with others in one round trip (fileflare_admin.readahead)."""
    keys = read_cache.generation_keys(family)
    return [PREFIX + family + ":" + hashlib.sha256(repr(name).encode()).hexdigest()[:32], *keys]


def changed(family: str) -> None:
    """After a write to `family`'s tables: no kept read of them is shown again. The generation moves on
    now (this page's later reads see the write: it is in their transaction) and again once the write
    commits (a read in between, from before the commit, is kept under a generation nobody reads)."""
    _bump(family)
    if connection.in_atomic_block:
        transaction.on_commit(functools.partial(_bump, family))


_followed: dict[type[Model], tuple[str, bool]] = {}  # model → (family, whether its updates change it)


def follow(model: type[Model], family: str, *, updates: bool = True) -> None:
    """Every write to `model`'s table changes `family`: its saves and deletes by signal, its bulk writes
    through KeptQuerySet (the model's manager). Called from the model's app's ready(). `updates=False`:
    updating a row changes nothing the family's kept reads return (only a row made or deleted does)."""
    _followed[model] = (family, updates)

    def on_write(sender: type[Model], **kwargs: Any) -> None:
        if updates or kwargs.get("created", True):  # post_delete has no `created`
            changed(family)

    signals.post_save.connect(on_write, sender=model, weak=False, dispatch_uid=f"kept:{family}:save")
    signals.post_delete.connect(on_write, sender=model, weak=False, dispatch_uid=f"kept:{family}:delete")


class KeptQuerySet(QuerySet[_M]):
    """The manager of a model whose reads are kept (`follow`): its bulk writes, which send no signal, change
    the model's family too, wherever they are written."""

    def _changed(self, *, update: bool = False) -> None:
        family, updates = _followed.get(self.model, (None, True))
        if family is not None and (updates or not update):
            changed(family)

    def update(self, **kwargs: Any) -> int:
        count = super().update(**kwargs)
        if count:
            self._changed(update=True)
        return count

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        made = super().bulk_create(objs, *args, **kwargs)
        if made:
            self._changed()
        return made

    def bulk_update(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> int:
        count = super().bulk_update(objs, *args, **kwargs)
        if count:
            self._changed(update=True)
        return count


def _bump(family: str) -> None:
    read_cache.invalidate(family)
    readahead.forget(read_cache.generation_keys(family))
