"""What the status page shows about each upstream and the shared cache, gathered without revealing keys,
and the sections feature apps add to it (register_status_section: the ground imports no feature app)."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from fileflare_admin import sharedcache
from fileflare_admin.api import breaker, budget, downloads, fileflare
from fileflare_admin.api.checks import CheckResult, check_upstreams
from fileflare_admin.api.errors import ApiError
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE, Api, last_error_sentence, stats_of
from fileflare_admin.sentences import capitalized


@dataclass(frozen=True)
class UpstreamStatus:
    label: str
    host: str
    configured: bool
    answers: bool | None
    problem: str
    checked_at: datetime | None
    last_ok: datetime | None
    last_error: str
    last_error_at: datetime | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    errors_last_hour: int
    budget_used: int
    budget_limit: int
    blocked_until: datetime | None
    paused_until: datetime | None  # the circuit breaker: nobody waits on it until then


@dataclass(frozen=True)
class SharedCacheStatus:
    shared: bool  # Redis configured (the local-memory cache is one worker's own)
    degraded: bool
    down_since: datetime | None
    worker_share: int  # of each budget, what one worker may send a minute while Redis is down
    workers: int


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, tz=UTC) if epoch else None


def _probe(api: Api) -> tuple[bool, str, datetime | None]:
    """A cheap read through the normal cache and budget (so a busy page costs nothing extra)."""
    try:
        fetched = fileflare.order_list(limit=1) if api is FILEFLARE else downloads.record_list(per_page=1)
    except ApiError as error:
        return False, error.user_message, None
    if fetched.stale:
        return (
            False,
            _("Showing a cached answer: the upstream did not answer or the budget is spent."),
            fetched.fetched_at,
        )
    return True, "", fetched.fetched_at


def upstream_status(api: Api) -> UpstreamStatus:
    try:
        host = urlsplit(api.base_url()).hostname or ""
        api.key()
        configured = True
    except ApiError as error:
        host, configured = "", False
        answers, problem, checked = None, error.user_message, None
    if configured:
        answers, problem, checked = _probe(api)
    stats = stats_of(api)
    latencies = sorted(stats.get("latencies") or [])
    now = time.time()
    name = api.budget_name() if configured else ""
    used, blocked = budget.usage(name) if configured else (0, None)
    return UpstreamStatus(
        label=capitalized(api.label),
        host=host,
        configured=configured,
        answers=answers,
        problem=problem,
        checked_at=checked,
        last_ok=_when(stats.get("last_ok")),
        last_error=last_error_sentence(stats.get("last_error")),
        last_error_at=_when(stats.get("last_error_at")),
        latency_p50_ms=statistics.median(latencies) * 1000 if latencies else None,
        latency_p95_ms=latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))] * 1000
        if latencies
        else None,
        errors_last_hour=sum(1 for moment in stats.get("errors", []) if now - moment < 3600),
        budget_used=used,
        budget_limit=api.budget_limit(),
        blocked_until=_when(blocked),
        paused_until=_when(breaker.paused_until(name)) if configured else None,
    )


def all_upstreams() -> list[UpstreamStatus]:
    return [upstream_status(FILEFLARE), upstream_status(DOWNLOADS)]


def shared_cache_status() -> SharedCacheStatus:
    return SharedCacheStatus(
        shared=sharedcache.in_use(),
        degraded=sharedcache.degraded(),
        down_since=_when(sharedcache.down_since()),
        worker_share=budget.share(FILEFLARE.budget_limit()),
        workers=settings.UPSTREAM_WORKER_COUNT,
    )


# --- Sections the feature apps add -----------------------------------------------------------------


@dataclass(frozen=True)
class StatusSection:
    """A part of the status page an app owns: its template, included with `figures()` as `figures`."""

    template: str
    figures: Callable[[], object]


@dataclass(frozen=True)
class ShownSection:
    template: str
    figures: object


_sections: dict[str, StatusSection] = {}


def register_status_section(name: str, *, template: str, figures: Callable[[], object]) -> None:
    """Show `template` on the status page, in the order registered (call from AppConfig.ready())."""
    _sections[name] = StatusSection(template=template, figures=figures)


def status_sections() -> list[ShownSection]:
    """Each registered section with its figures as they are now."""
    return [ShownSection(section.template, section.figures()) for section in _sections.values()]


# --- The upstream checks, run for the whole team at most once every STATUS_CHECK_MIN_SECONDS ----------

# What one run spends at each upstream (fileflare_admin.api.checks: about ten requests, six at Fileflare).
CHECK_SLOTS = ((FILEFLARE, 6), (DOWNLOADS, 4))
_CHECKS_CLAIM = "ffa:status-checks:claim"  # held for STATUS_CHECK_MIN_SECONDS by the run that took it
_CHECKS_LAST = "ffa:status-checks:last"  # (epoch seconds, results) of the last run, for everyone to see


@dataclass(frozen=True)
class ChecksRun:
    """The last run of the upstream checks (`results` None: none yet) and, after a POST, why none ran now:
    `throttled` (one ran within STATUS_CHECK_MIN_SECONDS, or a colleague's is under way) or
    `busy_seconds` (the shared budget has no room outside staff's slots for that long)."""

    results: tuple[CheckResult, ...] | None
    ran_at: datetime | None
    ran_now: bool = False
    throttled: bool = False
    next_at: datetime | None = None
    busy_seconds: int | None = None


def status_checks_last(**why: Any) -> ChecksRun:
    """The last run anyone made (no request)."""
    last = cache.get(_CHECKS_LAST)
    if not (isinstance(last, tuple) and len(last) == 2):
        return ChecksRun(results=None, ran_at=None, **why)
    return ChecksRun(results=tuple(last[1]), ran_at=_when(last[0]), **why)


def _checks_wait(api_slots: tuple[Api, int]) -> int | None:
    api, slots = api_slots
    try:
        name = api.budget_name()
    except ApiError:
        return None  # not configured: the checks say so without a request
    return budget.headroom_wait(name, api.budget_limit(), keep=budget.kept_for_staff(), slots=slots)


def status_checks_run() -> ChecksRun:
    """Run the checks unless a run was made within STATUS_CHECK_MIN_SECONDS (for the whole team: one
    claim in the shared cache), and only while the shared budgets have room outside the slots kept for
    staff's writes and reads: a few presses of the button never turn a colleague's order page into an
    "as of" copy. Otherwise the last run, and why none ran now."""
    gap = max(int(settings.STATUS_CHECK_MIN_SECONDS), 0)
    now = time.time()
    if gap and not cache.add(_CHECKS_CLAIM, now, timeout=gap):
        claimed = cache.get(_CHECKS_CLAIM)
        return status_checks_last(throttled=True, next_at=_when((claimed or now) + gap))
    busy = max((wait for wait in map(_checks_wait, CHECK_SLOTS) if wait is not None), default=None)
    if busy is not None:
        cache.delete(_CHECKS_CLAIM)  # nothing ran: the next press may try again
        return status_checks_last(busy_seconds=busy)
    results = tuple(check_upstreams())
    cache.set(_CHECKS_LAST, (now, results), timeout=settings.UPSTREAM_STALE_TTL)
    return ChecksRun(results=results, ran_at=_when(now), ran_now=True)
