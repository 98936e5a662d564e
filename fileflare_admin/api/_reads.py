"""A cached, budgeted GET shared by both clients."""

import logging
from collections.abc import Callable
from typing import Any

from fileflare_admin.api import cache, deadline
from fileflare_admin.api.http import Api, send
from fileflare_admin.api.types import Fetched

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

    def fetch() -> Any:
        answer = send(api, "GET", path, params=params, cache_event=lambda: "refresh" if fresh else "miss")
        if on_fetch is not None:
            on_fetch(answer.payload)
        return {"json": answer.payload, "headers": answer.headers} if with_headers else answer.payload

    family = family or api.name
    key = cache.read_key(family, api.identity(), path, params)
    if fresh:
        if deadline.cache_only():
            raise deadline.NotFresh(key)
        before = cache.generation(family)
        return cache.store(key, fetch(), at_generation=before)

    def note(event: str) -> None:
        logger.info("%s GET %s %s", api.name, path, event)

    return cache.cached(key, fetch, on_event=note)
