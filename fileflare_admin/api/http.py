"""The only place that sends HTTP. One pooled session per API and thread; a (connect, read) timeout on
every call; retries with backoff only where repeating is safe; every failure mapped to its class in
errors.py with a sentence staff can read; one log line a call, without secrets."""

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache

from fileflare_admin.api import budget
from fileflare_admin.api.errors import (
    ApiError,
    BadResponse,
    NotConfigured,
    NotFound,
    OutcomeUnknown,
    PlanLimit,
    RateLimited,
    Unavailable,
    ValidationFailed,
)

logger = logging.getLogger("fileflare_admin.api")
REPEATABLE = frozenset({"GET", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
MAX_RETRY_AFTER = 5  # seconds we are willing to wait inside a page view before saying "try again at…"
_local = threading.local()


@dataclass(frozen=True)
class Api:
    """What differs between the two upstreams."""

    name: str  # "fileflare" | "downloads"
    label: str  # how staff know it
    url_setting: str
    key_setting: str
    budget_setting: str

    def base_url(self) -> str:
        url = str(getattr(settings, self.url_setting, "") or "").rstrip("/")
        if not url:
            raise NotConfigured(
                f"The dashboard has no address for {self.label}: set {self.url_setting}.", api=self.name
            )
        return url

    def key(self) -> str:
        key = str(getattr(settings, self.key_setting, "") or "")
        if not key:
            raise NotConfigured(
                f"The dashboard has no key for {self.label}: set {self.key_setting}.", api=self.name
            )
        return key

    def identity(self) -> str:
        """Names this base URL and key in cache keys and budgets without revealing the key."""
        import hashlib

        return hashlib.sha256(f"{self.base_url()}|{self.key()}".encode()).hexdigest()[:16]

    def budget_limit(self) -> int:
        return int(getattr(settings, self.budget_setting, 0) or 0)


FILEFLARE = Api(
    "fileflare", "Fileflare", "FILEFLARE_API_URL", "FILEFLARE_API_KEY", "FILEFLARE_BUDGET_PER_MINUTE"
)
DOWNLOADS = Api(
    "downloads",
    "the downloads API",
    "DOWNLOADS_API_URL",
    "DOWNLOADS_API_TOKEN",
    "DOWNLOADS_BUDGET_PER_MINUTE",
)


class UpstreamSession(requests.Session):
    """A Session that refuses to send without a timeout."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (settings.UPSTREAM_CONNECT_TIMEOUT, settings.UPSTREAM_READ_TIMEOUT)
        return super().request(method, url, *args, **kwargs)


def session_for(api: Api) -> UpstreamSession:
    sessions: dict[str, UpstreamSession] = getattr(_local, "sessions", None) or {}
    _local.sessions = sessions
    if api.name not in sessions:
        sessions[api.name] = UpstreamSession()
    return sessions[api.name]


@dataclass(frozen=True)
class Answer:
    status: int
    payload: Any
    headers: dict[str, str]


def _retry_after(response: requests.Response, default: int = 60) -> int:
    value = response.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else default


def _field_errors(payload: Any) -> dict[str, list[str]]:
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not isinstance(errors, dict):
        return {}
    return {
        str(name): [str(message) for message in (messages if isinstance(messages, list) else [messages])]
        for name, messages in errors.items()
    }


def _json(response: requests.Response, api: Api) -> Any:
    try:
        return response.json()
    except ValueError:
        raise BadResponse(
            f"{api.label} answered with something that is not JSON. Try again in a moment.",
            status=response.status_code,
            api=api.name,
        ) from None


def _failure(api: Api, response: requests.Response) -> ApiError:
    status = response.status_code
    if status == 401 or (
        api is DOWNLOADS and status == 400 and "unauthorized" in response.text[:200].lower()
    ):
        return NotConfigured(
            f"{api.label} refused the dashboard's key. Check {api.key_setting}.", status=status, api=api.name
        )
    if status == 402:
        return PlanLimit(status=status, api=api.name)
    if status == 404:
        return NotFound(status=status, api=api.name)
    if status in (400, 422):
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        fields = _field_errors(payload)
        summary = "; ".join(message for messages in fields.values() for message in messages)
        return ValidationFailed(
            f"{api.label} refused these values: {summary}" if summary else None,
            field_errors=fields,
            status=status,
            api=api.name,
        )
    if status == 429:
        return RateLimited(retry_after=_retry_after(response), api=api.name)
    if status >= 500:
        return Unavailable(
            f"{api.label} had a problem on its side (error {status}). Try again in a moment.",
            status=status,
            api=api.name,
        )
    return BadResponse(
        f"{api.label} answered with an unexpected status ({status}).", status=status, api=api.name
    )


def record_stats(api: Api, *, ok: bool, seconds: float, error: str = "") -> None:
    """Recent figures for the status page (approximate under concurrency, which is fine for a gauge)."""
    key = f"ffa:stats:{api.name}"
    stats = cache.get(key) or {
        "latencies": [],
        "errors": [],
        "last_ok": None,
        "last_error": "",
        "last_error_at": None,
    }
    now = time.time()
    stats["latencies"] = (stats["latencies"] + [seconds])[-100:]
    if ok:
        stats["last_ok"] = now
    else:
        stats["errors"] = [moment for moment in stats["errors"] if now - moment < 3600] + [now]
        stats["last_error"], stats["last_error_at"] = error, now
    cache.set(key, stats, timeout=86400)


def send(
    api: Api,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: Any = None,
    extra_budgets: tuple[tuple[str, int], ...] = (),
    cache_event: Callable[[], str] = lambda: "miss",
) -> Answer:
    """One logical call, with retries where repeating is safe. Raises an ApiError subclass on failure."""
    base = api.base_url()
    token = api.key()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    url = f"{base}{path}"
    shown_path = urlsplit(url).path  # never the host's credentials, never a header
    attempts = 1 + max(settings.UPSTREAM_RETRIES, 0) if method in REPEATABLE else 1
    identity = api.identity()
    for attempt in range(1, attempts + 1):
        shared = api.budget_limit()
        if method == "GET" and shared > 0:
            # Reads stop short of the budget: the last slots are kept for what staff change (a resend, a
            # count fix), which has no cached copy to fall back on. Reads do have one.
            shared = max(shared - max(settings.UPSTREAM_WRITE_RESERVE, 0), 1)
        for name, limit in ((f"{api.name}:{identity}", shared), *extra_budgets):
            wait = budget.acquire(name, limit)
            if wait is not None:
                logger.info("%s %s %s budget-spent retry_after=%ss", api.name, method, shown_path, wait)
                raise RateLimited(retry_after=wait, status=None, api=api.name)
        started = time.monotonic()
        outcome = ""
        try:
            response = session_for(api).request(
                method,
                url,
                params=params,
                headers=headers,
                data=json.dumps(body) if body is not None else None,
            )
        except requests.Timeout as error:
            seconds = time.monotonic() - started
            connect = isinstance(error, requests.ConnectTimeout)
            outcome = "connect-timeout" if connect else "timeout"
            logger.warning(
                "%s %s %s %s %.0fms attempt=%d",
                api.name,
                method,
                shown_path,
                outcome,
                seconds * 1000,
                attempt,
            )
            if method not in REPEATABLE and not connect:
                failure: ApiError = OutcomeUnknown(api=api.name)
                record_stats(api, ok=False, seconds=seconds, error=failure.user_message)
                raise failure from None
            failure = Unavailable(
                f"{api.label} did not answer within {settings.UPSTREAM_READ_TIMEOUT:g} seconds. "
                "Try again in a moment.",
                api=api.name,
            )
        except requests.RequestException:
            seconds = time.monotonic() - started
            logger.warning(
                "%s %s %s connection-failed %.0fms attempt=%d",
                api.name,
                method,
                shown_path,
                seconds * 1000,
                attempt,
            )
            failure = Unavailable(f"Could not connect to {api.label}. Try again in a moment.", api=api.name)
        else:
            seconds = time.monotonic() - started
            logger.info(
                "%s %s %s %d %.0fms %s attempt=%d",
                api.name,
                method,
                shown_path,
                response.status_code,
                seconds * 1000,
                cache_event(),
                attempt,
            )
            if response.status_code < 300:
                payload = _json(response, api) if response.content else None
                record_stats(api, ok=True, seconds=seconds)
                return Answer(response.status_code, payload, dict(response.headers))
            failure = _failure(api, response)
            if isinstance(failure, RateLimited):
                budget.block(f"{api.name}:{identity}", failure.retry_after)
                if failure.retry_after > MAX_RETRY_AFTER or attempt == attempts:
                    record_stats(api, ok=False, seconds=seconds, error=failure.user_message)
                    raise failure
                time.sleep(failure.retry_after + 0.05)
                continue
            if response.status_code not in RETRY_STATUSES:
                record_stats(api, ok=response.status_code < 500, seconds=seconds, error=failure.user_message)
                raise failure
        record_stats(api, ok=False, seconds=seconds, error=failure.user_message)
        if attempt == attempts:
            raise failure
        time.sleep(settings.UPSTREAM_BACKOFF * (2 ** (attempt - 1)))
    raise Unavailable(api=api.name)  # not reached: the loop returns or raises
