"""What the status page shows about each upstream and the shared cache, gathered without revealing keys,
and the sections feature apps add to it (register_status_section: the ground imports no feature app)."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from fileflare_admin import sharedcache
from fileflare_admin.api import breaker, budget, downloads, fileflare
from fileflare_admin.api.errors import ApiError
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE, Api


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
            "Showing a cached answer: the upstream did not answer or the budget is spent.",
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
    stats = cache.get(f"ffa:stats:{api.name}") or {}
    latencies = sorted(stats.get("latencies") or [])
    now = time.time()
    name = api.budget_name() if configured else ""
    used, blocked = budget.usage(name) if configured else (0, None)
    return UpstreamStatus(
        label=api.label[0].upper() + api.label[1:],
        host=host,
        configured=configured,
        answers=answers,
        problem=problem,
        checked_at=checked,
        last_ok=_when(stats.get("last_ok")),
        last_error=stats.get("last_error", ""),
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
