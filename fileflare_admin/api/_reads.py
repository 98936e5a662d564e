"""A cached, budgeted GET shared by both clients, and the pages parsed from its saved answers."""

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from fileflare_admin.api import cache, deadline
from fileflare_admin.api.http import Api, first_read_keys, send
from fileflare_admin.api.types import Fetched, Page

T = TypeVar("T")
logger = logging.getLogger("fileflare_admin.api")


def get(
    api: Api,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    fresh: bool = False,
    with_headers: bool = False,
    on_fetch: Callable[[Any], None] | None = None,
    family: str | None = None,
) -> Fetched[Any]:
    """The JSON of a GET (with `with_headers`, {"json", "headers"}), through the read cache.

    `fresh` skips the cached copy (to check a record before overwriting it) and stores what it got.
    `on_fetch` sees each answer that really came from the upstream (not from the cache).
    `family` names the group of cached reads a write invalidates together (default: the API's name).
    """

    def fetch(known: dict[str, Any] | None) -> Any:
        event = "refresh" if fresh else "miss"
        answer = send(api, "GET", path, params=params, cache_event=lambda: event, known=known)
        if on_fetch is not None:
            on_fetch(answer.payload)
        return {"json": answer.payload, "headers": answer.headers} if with_headers else answer.payload

    family = family or api.name
    key = cache.read_key(family, api.identity(), path, params)
    if fresh:
        if deadline.cache_only():
            raise deadline.NotFresh(key)
        before = cache.generation(family)
        return cache.store(key, fetch(None), at_generation=before)

    def note(event: str) -> None:
        logger.info("%s GET %s %s", api.name, path, event)

    return cache.cached(key, fetch, on_event=note, read_with_lock=first_read_keys(api, "GET"))


class _ParsedPages:
    """Pages parsed from saved answers, kept by this process (issue 28): every reader of one answer (the
    read cache's entry for a query, known by when it was fetched) gets the same parsed page, so a warm
    page does not parse its 100 records, or the landing page its 1,000 orders, again. Frozen values,
    shared across threads; the most recent answers up to ITEMS items in all."""

    ITEMS = 4_000

    def __init__(self) -> None:
        self.pages: OrderedDict[tuple[Any, ...], Page[Any]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, answer: tuple[Any, ...]) -> Page[Any] | None:
        with self.lock:
            page = self.pages.get(answer)
            if page is not None:
                self.pages.move_to_end(answer)
            return page

    def keep(self, answer: tuple[Any, ...], page: Page[Any]) -> None:
        with self.lock:
            self.pages[answer] = page
            held = sum(len(kept.items) for kept in self.pages.values())
            while held > self.ITEMS and len(self.pages) > 1:
                _, dropped = self.pages.popitem(last=False)
                held -= len(dropped.items)


_parsed = _ParsedPages()


def parsed_once(answer: tuple[Any, ...], parse: Callable[[], Page[T]]) -> Page[T]:
    """`parse()` of a saved answer, made once per answer in this process. `answer` names it wholly: the
    API's identity, the query, when it was fetched, and anything else the parse reads (a time zone)."""
    page = _parsed.get(answer)
    if page is None:
        page = parse()
        _parsed.keep(answer, page)
    return page
