"""How long a page may wait on the upstreams, and how many pages of one worker may wait at once.

- Every request gets one deadline (UPSTREAM_PAGE_DEADLINE, 8 s) for all its upstream calls together,
  retries included (fileflare_admin.middleware opens it). A call made outside a request (a shell, a task)
  gets the same allowance for itself. `within(seconds)` narrows it for a block: the read cache gives a
  fetch only UPSTREAM_STALE_WAIT (2 s) when it has a saved copy to show instead.
- At most UPSTREAM_WAITING_PAGES requests of a worker process wait on an upstream at the same time (one
  slot per request however many calls it makes at once). The rest are told so at once (or shown their
  saved copy), so a hanging upstream can never take every thread: pages that need no upstream (the
  audit log, sign-in, /healthz) always find one free.
- `PagePool` is a ThreadPoolExecutor whose tasks run inside the submitting request's context, so calls
  made in parallel for one page share its deadline and its slot, and in its language (a failure's
  sentence is made in the thread that met it). A plain ThreadPoolExecutor's tasks get a deadline of
  their own, take no slot, and speak LANGUAGE_CODE.
- `PageCalls` answers each call at once, on the request's own thread, when every read it makes is fresh
  in the read cache (`from_cache_only`), and hands only the calls that must wait to the process's one
  PagePool (`page_pool`): a warm page uses no thread, a cold one starts none (the pool's threads are
  kept for the next page, issue 28).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.signals import request_finished
from django.db import connections
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise

from fileflare_admin import readahead
from fileflare_admin.api.errors import Unavailable
from fileflare_admin.sentences import capitalized

logger = logging.getLogger("fileflare_admin.api")
P = ParamSpec("P")
T = TypeVar("T")
SLOT_PATIENCE = 0.25  # seconds a request waits for a free slot before it is told the upstream is busy
# Threads of the process's PagePool at most. Started only when none is idle, so it holds about as many as
# the calls ever out at once (a page makes 3 at most); far more than a worker's pages may wait at once
# (UPSTREAM_WAITING_PAGES), so a call never queues behind others before it asks for its waiting slot.
POOL_THREADS = 64
# How long a page waits for its calls to go out before its own work (PageCalls.wait_sent): a call is sent
# within ~2 ms of its start, with its shared-cache reads; a stalled shared cache holds the page no longer.
SENDING_PATIENCE = 0.01


@dataclass
class Page:
    """One request's allowance: when its upstream waiting must end, and its share of the worker's slots."""

    started: float
    ends: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls_waiting: int = 0
    pooled: bool = False  # a call of it was made on the PagePool (a cold page; a warm one uses no thread)
    later: list[Callable[[], object]] = field(default_factory=list)  # for the pool once sent (`later`)
    once_sent: list[Callable[[], object]] = field(default_factory=list)  # its own thread's (`once_sent`)


_page: contextvars.ContextVar[Page | None] = contextvars.ContextVar("upstream_page", default=None)
_narrowed: contextvars.ContextVar[float | None] = contextvars.ContextVar("upstream_narrowed", default=None)


@contextmanager
def page(seconds: float | None = None, *, settled_when_sent: bool = False) -> Iterator[Page]:
    """The deadline of one request: every upstream call inside shares it. Its `later` work is waited for
    when the block ends, or with `settled_when_sent` (a request served by Django) once its response is
    sent (request_finished, in the thread that served it: before the connection's next request)."""
    now = time.monotonic()
    current = Page(started=now, ends=now + (settings.UPSTREAM_PAGE_DEADLINE if seconds is None else seconds))
    token = _page.set(current)
    try:
        yield current
    finally:
        _page.reset(token)
        if settled_when_sent:
            _sent.pages = [*getattr(_sent, "pages", ()), current]
        else:
            _settle(current)


_sent = threading.local()  # .pages: this thread's requests whose responses are on their way


def _settle_sent(**kwargs: object) -> None:
    pages: list[Page] = getattr(_sent, "pages", [])
    _sent.pages = []
    for current in pages:
        _settle(current)


request_finished.connect(_settle_sent, dispatch_uid="fileflare_admin.api.deadline.settle_sent")


def later(work: Callable[[], object]) -> None:
    """`work` done on the process's PagePool once the request's response is sent, and over before the
    request ends (see `page`): bookkeeping nobody on the page waits for, such as the Status page's figures
    after an upstream answer, an answer kept in the read cache or the fragments a page rendered
    (fileflare_admin.readahead). Not while the page is made: Python runs one thread at a time, and a pool
    thread writing meanwhile took turns with the page (issue 28). Outside a request, and in a request
    whose calls used no thread (a warm page starts none), now."""
    current = _page.get()
    if current is None or not current.pooled:
        work()
        return
    with current.lock:
        current.later.append(work)


def once_sent(work: Callable[[], object]) -> None:
    """`work` done in the request's own thread once its response is sent (with the request's other
    bookkeeping: `page`), for a write nobody on the page waits for that would use the database (a pool
    thread would open a connection of its own). Outside a request, now."""
    current = _page.get()
    if current is None:
        work()
        return
    with current.lock:
        current.once_sent.append(work)


def settle() -> None:
    """The request's `later` work done (waited for), for a page that reads what it writes."""
    current = _page.get()
    if current is not None:
        _settle(current)


def _settle(current: Page) -> None:
    with current.lock:
        pending, current.later = current.later, []
        works, current.once_sent = current.once_sent, []
    futures = [page_pool().submit(work) for work in pending]
    for done in futures:
        try:
            done.result()
        except Exception:  # bookkeeping never fails the page it was done for
            logger.exception("Bookkeeping left for after the page failed")
    for work in works:
        try:
            work()
        except Exception:  # as above
            logger.exception("Bookkeeping left for after the page failed")


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Narrow the deadline for the calls inside the block (never widen it)."""
    ends = time.monotonic() + seconds
    outer = _narrowed.get()
    token = _narrowed.set(ends if outer is None else min(outer, ends))
    try:
        yield
    finally:
        _narrowed.reset(token)


def call_deadline(started: float) -> float:
    """When a call that starts at `started` must be over: the page's deadline, the narrowed one, or (outside
    a request) its own allowance."""
    current = _page.get()
    ends = current.ends if current is not None else started + settings.UPSTREAM_PAGE_DEADLINE
    narrowed = _narrowed.get()
    return ends if narrowed is None else min(ends, narrowed)


def waited_since(started: float) -> float:
    """How long the person has been waiting: since their request began, or since the call began."""
    current = _page.get()
    return time.monotonic() - (current.started if current is not None else started)


def seconds_text(seconds: float) -> str:
    """`8 seconds`, `1.5 seconds`, `1 second`: how a sentence states a wait."""
    value = f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}".removesuffix(".0")
    shown = number_format(float(value)) if "." in value else value
    return ngettext("%(seconds)s second", "%(seconds)s seconds", 1 if value == "1" else 2) % {
        "seconds": shown
    }


# --- how many requests of this worker may wait on an upstream at once -----------------------------

_slots_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None


def _semaphore() -> threading.BoundedSemaphore:
    global _slots
    limit = max(int(settings.UPSTREAM_WAITING_PAGES), 1)
    with _slots_lock:
        if _slots is None or _slots[0] != limit:
            _slots = (limit, threading.BoundedSemaphore(limit))
        return _slots[1]


class Busy(Unavailable):
    """Every slot of this worker is taken by requests waiting on a slow upstream: nothing was sent."""


@contextmanager
def waiting(label: StrOrPromise, api: str) -> Iterator[None]:
    """Hold one of this worker's waiting slots for the request while the block runs."""
    current = _page.get()
    if current is None:
        yield
        return
    semaphore = _semaphore()
    with current.lock:
        if current.calls_waiting == 0 and not semaphore.acquire(timeout=SLOT_PATIENCE):
            raise Busy(
                capitalized(
                    _(
                        "%(api)s is slow to answer and other pages are already waiting for it. "
                        "Try again in a moment."
                    )
                    % {"api": label}
                ),
                api=api,
            )
        current.calls_waiting += 1
    try:
        yield
    finally:
        with current.lock:
            current.calls_waiting -= 1
            if current.calls_waiting == 0:
                semaphore.release()


class PagePool(ThreadPoolExecutor):
    """A ThreadPoolExecutor whose tasks share the submitting request's deadline and waiting slot, speak
    its language (Django's active language does not follow a copied context into a thread) and use its
    shared cache's connections (Django gives each thread a cache client of its own: a task on a new thread
    would open a new connection to Redis and greet it before its first read, issue 28)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        return self.submit_call(functools.partial(fn, *args, **kwargs))

    def submit_call(self, call: Callable[[], T], *, sending: threading.Event | None = None) -> Future[T]:
        """`call` run as `submit` runs it; `sending` is set once its request is about to go out (`on_wire`)
        or it is over."""
        context = contextvars.copy_context()
        shared = caches[DEFAULT_CACHE_ALIAS]
        language = translation.get_language()
        return super().submit(context.run, _as_submitted, language, shared, call, sending)


_sending: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "upstream_sending", default=None
)


def on_wire() -> None:
    """The call this thread makes is about to be sent (fileflare_admin.api.http): the page that waits for
    its calls to be on their way (PageCalls.wait_sent) goes on."""
    sending = _sending.get()
    if sending is not None:
        sending.set()


def _as_submitted(
    language: str | None, shared: BaseCache, call: Callable[[], T], sending: threading.Event | None = None
) -> T:
    caches[DEFAULT_CACHE_ALIAS] = shared  # this task's only (it runs in its own copy of the context)
    _sending.set(sending)
    try:
        with translation.override(language):
            return call()
    finally:
        if sending is not None:
            sending.set()
        # A database connection this task opened is closed with it, as when each page's threads ended
        # with the page: a kept idle thread holds none (CONN_MAX_AGE keeps a request thread's only).
        for connection in connections.all(initialized_only=True):
            connection.close()


_pool_lock = threading.Lock()
_pool: tuple[int, PagePool] | None = None


def page_pool() -> PagePool:
    """The process's PagePool, kept for every page: a cold page's calls go out on threads already
    running instead of two new ones each (made again in a forked child: threads do not cross a fork)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), PagePool(max_workers=POOL_THREADS, thread_name_prefix="page-calls"))
        return _pool[1]


_cache_only: contextvars.ContextVar[bool] = contextvars.ContextVar("upstream_cache_only", default=False)


class NotFresh(Exception):
    """Inside `from_cache_only`: this read has no fresh saved answer (it would have to ask the upstream)."""


def cache_only() -> bool:
    """True inside `from_cache_only`: the read cache raises NotFresh rather than fetch or wait."""
    return _cache_only.get()


def from_cache_only(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T] | None:
    """`fn`'s outcome, as a finished Future, when every read it makes is fresh in the cache; else None."""
    token = _cache_only.set(True)
    done: Future[T] = Future()
    try:
        done.set_result(fn(*args, **kwargs))
    except NotFresh:
        return None
    except Exception as error:  # kept for .result() to raise, as a pool's Future would
        done.set_exception(error)
    finally:
        _cache_only.reset(token)
    return done


class PageCalls:
    """The upstream calls of one page: each answered at once from the read cache when it is fresh there,
    the others made at the same time on the process's PagePool, `max_workers` of them at most at once.
    Leaving the block waits for every call it started (as a pool of the page's own did)."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self.started: list[Future[Any]] = []
        self.sending: list[threading.Event] = []

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        done = from_cache_only(fn, *args, **kwargs)
        return done if done is not None else self._start(fn, *args, **kwargs)

    def submit_many(self, calls: Sequence[Callable[[], Any]]) -> list[Future[Any]]:
        """Each call (a function of no arguments: a functools.partial) submitted as `submit` does, with
        the cached answers they all ask for read in one round trip (fileflare_admin.readahead): each
        first runs until its read names its key, then all are read at once, then each runs again."""
        with readahead.gathering() as keys:
            for call in calls:
                from_cache_only(call)
        with readahead.ahead(keys):
            done = [from_cache_only(call) for call in calls]
            # Started inside: a call's first read (what it found missing or not fresh) is answered from
            # what was just read, with no second round trip before it is sent (issue 28).
            return [
                future if future is not None else self._start(call)
                for future, call in zip(done, calls, strict=True)
            ]

    def _start(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        out = [future for future in self.started if not future.done()]
        if len(out) >= self.max_workers:
            wait(out, return_when=FIRST_COMPLETED)
        current = _page.get()
        if current is not None:
            current.pooled = True
        sending = threading.Event()
        future = page_pool().submit_call(functools.partial(fn, *args, **kwargs), sending=sending)
        self.started.append(future)
        self.sending.append(sending)
        return future

    def wait_sent(self, within: float = SENDING_PATIENCE) -> None:
        """Wait (at most `within` seconds in all) until each call started is on its way: the page's own
        work meanwhile (its database, the shared cache) would take turns with the calls' threads before
        their requests go out (Python runs one thread at a time; issue 28)."""
        ends = time.monotonic() + within
        for sending in self.sending:
            if not sending.wait(max(ends - time.monotonic(), 0)):
                return

    def __enter__(self) -> PageCalls:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.started:
            wait(self.started)
