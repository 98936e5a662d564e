"""A page's database reads sent to PostgreSQL in one round trip (issue 28), as readahead does for the cache.

On PostgreSQL every statement is a round trip: the client sends it and sleeps, the server wakes, answers
and sleeps, the client wakes. The warm order page made five such trips one after the other (its number and
customer link, its audit history, its files' seen limits, its count changes, its reply), each with the
wake-ups and context switches a 2-core machine also pays in CPU. Inside `scope()`, a page's first
statement is sent in one psycopg pipeline together with the reads that followed that same statement (same
SQL, same values) the last time this process served a page inside a scope; each of those reads, when the
page makes it again, is answered from the results already in hand instead of going to the server. A guess
that no longer fits (a new audit entry changes the count changes' values, another language's reply) is a
read the server answered for nothing, never a wrong value: each read's SQL and values must be identical.

What a result read ahead can miss is a write made after it: any statement on the page's connection that
is not such a read (a write, a lock, a savepoint) drops every result not used yet, so a page that writes
and then reads (its counts noted, then its count changes read) reads again. Writes by other processes, or
by the page's own upstream threads on their connections, are as concurrent as ever: the page shows the
data as it was when its first read was sent, and the next load reads again. Nothing read is kept beyond
the page: only which statements follow which (SQL and values), for the newest LATER_PAGES first reads.

Only on PostgreSQL (psycopg's pipeline mode), outside a transaction (a failed read must not abort one);
elsewhere `scope()` changes nothing.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

LATER_PAGES = 256  # first reads whose following reads are remembered
LATER_READS = 16  # reads remembered after each

# A plain read: SELECT, without a locking clause or a function that changes something.
_PLAIN_READ = re.compile(r"\s*SELECT\b", re.IGNORECASE)
_NOT_PLAIN = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|\b(?:nextval|setval|set_config|pg_advisory\w*|"
    r"pg_try_advisory\w*|pg_notify|pg_sleep|txid_current|pg_current_xact_id)\s*\(",
    re.IGNORECASE,
)

_Key = tuple[str, Any]
_Statement = tuple[str, Any]  # SQL, its values
_later: OrderedDict[_Key, tuple[_Statement, ...]] = OrderedDict()
_later_lock = threading.Lock()


@dataclass
class _Page:
    connection: BaseDatabaseWrapper
    first: _Key | None = None
    read: list[_Statement] = field(default_factory=list)  # the plain reads after the first, in order
    ahead: dict[_Key, Any] = field(default_factory=dict)  # key → psycopg cursor holding its rows

    def drop(self) -> None:
        for cursor in self.ahead.values():
            cursor.close()
        self.ahead.clear()


_page: ContextVar[_Page | None] = ContextVar("database_read_ahead", default=None)


def _plain_read(sql: str) -> bool:
    return bool(_PLAIN_READ.match(sql)) and not _NOT_PLAIN.search(sql)


def _key(sql: str, params: Any) -> _Key | None:
    """The statement's SQL and values, comparable; None when its values cannot be compared."""
    if params is None:
        values: Any = None
    elif isinstance(params, (list, tuple)):
        values = tuple(params)
    elif isinstance(params, dict):
        values = tuple(sorted(params.items()))
    else:
        return None
    try:
        hash(values)
    except TypeError:
        return None
    return sql, values


@contextmanager
def scope(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """A page: its first read on `using` goes with the reads that followed it last time, in one round trip."""
    connection = connections[using]
    if connection.vendor != "postgresql" or _page.get() is not None:
        yield
        return
    page = _Page(connection)
    token = _page.set(page)
    try:
        with connection.execute_wrapper(_wrapper(page)):
            yield
    finally:
        _page.reset(token)
        page.drop()
        _remember(page)


def _remember(page: _Page) -> None:
    if page.first is None:
        return
    with _later_lock:
        _later[page.first] = tuple(page.read[:LATER_READS])
        _later.move_to_end(page.first)
        while len(_later) > LATER_PAGES:
            _later.popitem(last=False)


def _wrapper(page: _Page) -> Callable[..., Any]:
    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        key = _key(sql, params) if not many and context["connection"] is page.connection else None
        if key is None or not _plain_read(sql):
            page.drop()  # a write (or what might be one): what was read ahead may be stale now
            return execute(sql, params, many, context)
        if page.first is None:
            page.first = key
            with _later_lock:
                later = _later.get(key, ())
            if later and not page.connection.in_atomic_block:
                answered = _send(page, [(sql, params), *later])
                if answered is not None:
                    return _answer(context["cursor"], answered)
            return execute(sql, params, many, context)
        page.read.append((sql, tuple(params) if isinstance(params, list) else params))
        found = page.ahead.pop(key, None)
        if found is not None:
            return _answer(context["cursor"], found)
        return execute(sql, params, many, context)

    return wrapper


def _send(page: _Page, statements: Sequence[_Statement]) -> Any | None:
    """All `statements` in one pipeline: the first one's cursor (the others kept in `page.ahead`), or None
    when any failed (the page then makes its reads one by one, meeting the error where it always did)."""
    import psycopg  # only here: on PostgreSQL

    raw = page.connection.connection
    cursors: list[Any] = []
    try:
        with raw.pipeline():
            for sql, params in statements:
                cursor = page.connection.create_cursor()
                cursors.append(cursor)
                cursor.execute(sql, params)
    except psycopg.Error:
        for cursor in cursors:
            cursor.close()
        return None
    for (sql, params), cursor in zip(statements[1:], cursors[1:], strict=True):
        key = _key(sql, params)
        if key is not None and key not in page.ahead:
            page.ahead[key] = cursor
        else:
            cursor.close()
    return cursors[0]


def _answer(wrapper: Any, cursor: Any) -> Any:
    """Django's cursor (`wrapper`) reads its rows from `cursor`, which holds them already."""
    wrapper.cursor.close()
    wrapper.cursor = cursor
    return cursor
