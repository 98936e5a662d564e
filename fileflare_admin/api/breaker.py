"""A circuit breaker per upstream, shared by every worker through the cache (per process while the cache
is down): after UPSTREAM_BREAKER_FAILURES timeouts or refused connections in a row, nobody waits on that
upstream again for UPSTREAM_BREAKER_SECONDS; then one request tries it (the probe). An answer of any kind
closes it again; a failed probe opens it for another while.

A page whose upstream is "known down" therefore answers at once: with its saved copy ("as of …") when it
has one, else with a sentence saying when the dashboard will try again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise

from fileflare_admin.api.errors import Unavailable
from fileflare_admin.sentences import capitalized

logger = logging.getLogger("fileflare_admin.api")
FAILURE_WINDOW = 120  # seconds: failures further apart than this are not "in a row"


class CircuitOpen(Unavailable):
    """The upstream failed repeatedly just now: the dashboard did not send anything."""

    def __init__(self, label: StrOrPromise, *, retry_after: int, api: str) -> None:
        self.retry_after = max(retry_after, 1)
        super().__init__(
            capitalized(
                ngettext(
                    "%(api)s did not answer the last few requests in time, so the dashboard is not "
                    "waiting on it for now. Try again in %(seconds)s second.",
                    "%(api)s did not answer the last few requests in time, so the dashboard is not "
                    "waiting on it for now. Try again in %(seconds)s seconds.",
                    self.retry_after,
                )
                % {"api": label, "seconds": self.retry_after}
            ),
            api=api,
        )


@dataclass(frozen=True)
class Ticket:
    """What `admit` found: whether this call is the probe, and whether there were failures to clear."""

    probe: bool
    had_failures: bool


def _keys(name: str) -> tuple[str, str, str]:
    base = f"ffa:breaker:{name}"
    return f"{base}:failures", f"{base}:open-until", f"{base}:probe"


def first_reads(name: str) -> list[str]:
    """The keys `admit` reads, for a caller that reads them with its own in one round trip (`known`)."""
    return list(_keys(name)[:2])


def admit(name: str, label: StrOrPromise, api: str, *, known: Mapping[str, Any] | None = None) -> Ticket:
    """May a call go out now? Raises CircuitOpen while the breaker is open (and while another call probes).
    `known`: the cache's values of `first_reads`, read by the caller just now (None: read them here)."""
    failures_key, open_key, probe_key = _keys(name)
    keys = [failures_key, open_key]
    state = known if known is not None and all(key in known for key in keys) else cache.get_many(keys)
    open_until = state.get(open_key)
    had_failures = bool(state.get(failures_key))
    if not open_until:
        return Ticket(probe=False, had_failures=had_failures)
    now = time.time()
    if now < open_until:
        raise CircuitOpen(label, retry_after=math.ceil(open_until - now), api=api)
    probe_time = math.ceil(settings.UPSTREAM_PAGE_DEADLINE) + 1
    if not cache.add(probe_key, 1, timeout=probe_time):
        raise CircuitOpen(label, retry_after=probe_time, api=api)
    logger.info("%s breaker: probing after the pause", api)
    return Ticket(probe=True, had_failures=True)


def answered(name: str, ticket: Ticket, api: str) -> None:
    """The upstream answered (whatever it said): it is reachable, close the breaker."""
    if ticket.probe or ticket.had_failures:
        cache.delete_many(list(_keys(name)))
        if ticket.probe:
            logger.warning("%s breaker: the upstream answers again", api)


def failed(name: str, ticket: Ticket, api: str) -> bool:
    """A timeout or a refused connection: count it; open the breaker at the threshold (or a failed probe).
    True when the breaker is now open (the caller stops retrying too)."""
    failures_key, open_key, probe_key = _keys(name)
    cache.add(failures_key, 0, timeout=FAILURE_WINDOW)
    try:
        failures = cache.incr(failures_key)
    except ValueError:  # expired between add and incr
        cache.set(failures_key, 1, timeout=FAILURE_WINDOW)
        failures = 1
    threshold = max(int(settings.UPSTREAM_BREAKER_FAILURES), 1)
    if ticket.probe or failures >= threshold:
        pause = max(float(settings.UPSTREAM_BREAKER_SECONDS), 1.0)
        cache.set(open_key, time.time() + pause, timeout=math.ceil(pause) + FAILURE_WINDOW)
        cache.delete(probe_key)
        logger.warning(
            "%s breaker: open for %.0f s after %d failure(s) in a row%s",
            api,
            pause,
            failures,
            " (the probe failed)" if ticket.probe else "",
        )
        return True
    return False


def paused_until(name: str) -> float | None:
    """Until when (epoch seconds) nobody waits on this upstream, for the status page; None when closed."""
    open_until = cache.get(_keys(name)[1])
    return open_until if open_until and open_until > time.time() else None
