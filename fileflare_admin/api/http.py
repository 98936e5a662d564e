"""The only place that sends HTTP. Sessions kept open per API for any thread's next call (one call at a
time each); a (connect, read) timeout on every call, never past the page's deadline (deadline.py);
retries with backoff only where repeating is safe; a circuit breaker per upstream (breaker.py); every
failure mapped to its class (failures.py) with a sentence staff can read; one log line a call, without
secrets."""

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from fileflare_admin import sharedcache
from fileflare_admin.api import breaker, budget, deadline
from fileflare_admin.api.errors import (
    ApiError,
    NotConfigured,
    OutcomeUnknown,
    RateLimited,
    Unavailable,
)
from fileflare_admin.api.failures import api_title, failure_for, json_body

logger = logging.getLogger("fileflare_admin.api")
REPEATABLE = frozenset({"GET", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
MAX_RETRY_AFTER = 5  # seconds we are willing to wait inside a page view before saying "try again at…"
MIN_ATTEMPT_SECONDS = 0.05  # less time than this left before the deadline: do not start another attempt


@dataclass(frozen=True)
class Api:
    """What differs between the two upstreams."""

    name: str  # "fileflare" | "downloads"
    label: StrOrPromise  # how staff know it, in the language of the page it is named on
    url_setting: str
    key_setting: str
    budget_setting: str

    def base_url(self) -> str:
        url = str(getattr(settings, self.url_setting, "") or "").rstrip("/")
        if not url:
            raise NotConfigured(
                _("The dashboard has no address for %(api)s: set %(setting)s.")
                % {"api": self.label, "setting": self.url_setting},
                api=self.name,
            )
        return url

    def key(self) -> str:
        key = str(getattr(settings, self.key_setting, "") or "")
        if not key:
            raise NotConfigured(
                _("The dashboard has no key for %(api)s: set %(setting)s.")
                % {"api": self.label, "setting": self.key_setting},
                api=self.name,
            )
        return key

    def identity(self) -> str:
        """Names this base URL and key in cache keys and budgets without revealing the key."""
        import hashlib

        return hashlib.sha256(f"{self.base_url()}|{self.key()}".encode()).hexdigest()[:16]

    def budget_name(self) -> str:
        """Names this API and key in the shared budget and the breaker without revealing the key."""
        return f"{self.name}:{self.identity()}"

    def budget_limit(self) -> int:
        return int(getattr(settings, self.budget_setting, 0) or 0)


FILEFLARE = Api(
    "fileflare", "Fileflare", "FILEFLARE_API_URL", "FILEFLARE_API_KEY", "FILEFLARE_BUDGET_PER_MINUTE"
)
DOWNLOADS = Api(
    "downloads",
    gettext_lazy("the downloads API"),
    "DOWNLOADS_API_URL",
    "DOWNLOADS_API_TOKEN",
    "DOWNLOADS_BUDGET_PER_MINUTE",
)


class UpstreamSession(requests.Session):
    """A Session that refuses to send without a timeout."""

    # The stubs' signature names every keyword; ours passes them through unchanged.
    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (settings.UPSTREAM_CONNECT_TIMEOUT, settings.UPSTREAM_READ_TIMEOUT)
        return super().request(method, url, *args, **kwargs)


# Sessions not in use, per API, for the next call of any thread: a page's calls made at once run on the
# process's pool threads (deadline.page_pool), and a session per call would open a connection (and, to
# an https upstream, a TLS handshake) every time. One session serves one call at a time.
IDLE_SESSIONS = 16
_idle: dict[str, list[UpstreamSession]] = {}
_idle_lock = threading.Lock()


@contextmanager
def session_for(api: Api) -> Iterator[UpstreamSession]:
    """A session to `api` for one call, its connections kept open for the next call of any thread."""
    with _idle_lock:
        idle = _idle.setdefault(api.name, [])
        session = idle.pop() if idle else None
    session = session or UpstreamSession()
    try:
        yield session
    finally:
        with _idle_lock:
            idle = _idle.setdefault(api.name, [])
            kept = len(idle) < IDLE_SESSIONS
            if kept:
                idle.append(session)
        if not kept:
            session.close()


@dataclass(frozen=True)
class Answer:
    status: int
    payload: Any
    headers: dict[str, str]


def record_stats(api: Api, *, ok: bool, seconds: float, error: Callable[[], ApiError] | None = None) -> None:
    """Recent figures for the status page (approximate under concurrency, which is fine for a gauge).

    `error` makes the failure again: its sentence is kept in every language the dashboard speaks, so the
    Status page shows it in its reader's (last_error_sentence), whoever met it. Made here; kept in the
    shared cache by deadline.later, off the way of the page waiting for this answer (`stats_of` reads
    them once the request's own are kept)."""
    now = time.time()
    said = None if ok else _in_every_language(error)
    deadline.later(functools.partial(_keep_stats, api.name, ok=ok, seconds=seconds, now=now, said=said))


def _keep_stats(name: str, *, ok: bool, seconds: float, now: float, said: dict[str, str] | None) -> None:
    key = f"ffa:stats:{name}"
    stats = cache.get(key) or {
        "latencies": [],
        "errors": [],
        "last_ok": None,
        "last_error": "",
        "last_error_at": None,
    }
    stats["latencies"] = (stats["latencies"] + [seconds])[-100:]
    if ok:
        stats["last_ok"] = max(now, stats["last_ok"] or 0)
    else:
        stats["errors"] = [moment for moment in stats["errors"] if now - moment < 3600] + [now]
        if now >= (stats["last_error_at"] or 0):
            stats["last_error"], stats["last_error_at"] = said, now
    cache.set(key, stats, timeout=86400)


def stats_of(api: Api) -> dict[str, Any]:
    """The Status page's figures of `api` (record_stats), with this request's own calls in them."""
    deadline.settle()
    return cache.get(f"ffa:stats:{api.name}") or {}


def _timed_out(api: Api, started: float) -> Unavailable:
    """The sentence states the whole wait the person had, not one attempt's timeout."""
    waited = deadline.waited_since(started)
    return Unavailable(
        _("%(api)s did not answer within %(wait)s. Try again in a moment.")
        % {"api": api_title(api), "wait": deadline.seconds_text(waited)},
        api=api.name,
    )


def _in_every_language(make: Callable[[], ApiError] | None) -> dict[str, str]:
    if make is None:
        return {}
    sentences = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            sentences[code] = make().user_message
    return sentences


def last_error_sentence(said: object) -> str:
    """The last error kept by record_stats, in the page's language (a plain text kept before: as it is)."""
    if isinstance(said, dict):
        return str(said.get(translation.get_language() or "", "") or next(iter(said.values()), ""))
    return str(said or "")


def _not_connected(api: Api) -> Unavailable:
    return Unavailable(
        _("Could not connect to %(api)s. Try again in a moment.") % {"api": api.label}, api=api.name
    )


@dataclass
class _Call:
    """One logical call: what is sent, and how long it may take altogether."""

    api: Api
    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, Any] | None
    data: str | None
    started: float
    ends: float
    ticket: breaker.Ticket
    extra_budgets: tuple[tuple[str, int], ...]
    cache_event: Callable[[], str]
    repeatable: bool = True  # may be sent again after a failure (the method's default, or the caller's word)
    known: dict[str, Any] | None = None  # the breaker's and budgets' keys, read at once before the first try

    @property
    def shown_path(self) -> str:
        return urlsplit(self.url).path  # never the host's credentials, never a header

    @property
    def name(self) -> str:
        return self.api.budget_name()

    def log(self, outcome: str, seconds: float, attempt: int, *, answered: bool = False) -> None:
        """One line a request: API, method, path (no host, no query), outcome, time, cache event."""
        logger.log(
            logging.INFO if answered else logging.WARNING,
            "%s %s %s %s %.0fms%s attempt=%d",
            self.api.name,
            self.method,
            self.shown_path,
            outcome,
            seconds * 1000,
            f" {self.cache_event()}" if answered else "",
            attempt,
        )


def send(
    api: Api,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: Any = None,
    extra_budgets: tuple[tuple[str, int], ...] = (),
    cache_event: Callable[[], str] = lambda: "miss",
    repeatable: bool | None = None,
    known: dict[str, Any] | None = None,
) -> Answer:
    """One logical call, with retries where repeating is safe, all within the page's deadline (see
    deadline.py) and past the upstream's circuit breaker (see breaker.py). Raises an ApiError subclass.

    `repeatable=False` sends a call once whatever its method (a PUT that sends an e-mail): a read timeout
    then raises OutcomeUnknown, like a POST's, for the caller to find out what happened. `known`: what
    the caller found of `first_read_keys` just now (None: they are read here)."""
    base = api.base_url()
    headers = {"Authorization": f"Bearer {api.key()}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    started = time.monotonic()
    known = _first_reads(api, method, extra_budgets, known)
    call = _Call(
        api=api,
        method=method,
        url=f"{base}{path}",
        headers=headers,
        params=params,
        data=json.dumps(body) if body is not None else None,
        started=started,
        ends=deadline.call_deadline(started),
        ticket=breaker.admit(api.budget_name(), api.label, api.name, known=known),
        extra_budgets=extra_budgets,
        cache_event=cache_event,
        repeatable=method in REPEATABLE if repeatable is None else repeatable,
        known=known,
    )
    # A probe after the breaker's pause is one try; otherwise retry only what is safe to repeat.
    attempts = 1 + max(settings.UPSTREAM_RETRIES, 0) if call.repeatable and not call.ticket.probe else 1
    with deadline.waiting(api.label, api.name):
        for attempt in range(1, attempts + 1):
            outcome = _attempt(call, attempt)
            if isinstance(outcome, Answer):
                return outcome
            if isinstance(outcome, RateLimited):
                pause = outcome.retry_after + 0.05
                if outcome.retry_after > MAX_RETRY_AFTER:
                    raise outcome
            else:
                pause = settings.UPSTREAM_BACKOFF * (2 ** (attempt - 1))
            if attempt == attempts or call.ends - (time.monotonic() + pause) < MIN_ATTEMPT_SECONDS:
                raise outcome
            time.sleep(pause)
    raise Unavailable(api=api.name)  # not reached: the loop returns or raises


def _budgets(api: Api, method: str, extra_budgets: tuple[tuple[str, int], ...]) -> list[tuple[str, int]]:
    """The budgets a call takes one request from: its API's, and any more it names (name, limit)."""
    shared = api.budget_limit()
    if method == "GET" and shared > 0:
        # Reads stop short of the budget: the last slots are kept for what staff change (a resend, a
        # count fix), which has no cached copy to fall back on. Reads do have one.
        shared = max(shared - max(settings.UPSTREAM_WRITE_RESERVE, 0), 1)
    return [(api.budget_name(), shared), *extra_budgets]


def first_read_keys(api: Api, method: str, extra_budgets: tuple[tuple[str, int], ...] = ()) -> list[str]:
    """The shared-cache keys a call reads before it is sent (its breaker, its budgets), for a caller that
    reads them with its own in one round trip and passes what it found to `send` (`known`)."""
    keys = breaker.first_reads(api.budget_name())
    for name, limit in _budgets(api, method, extra_budgets):
        keys += budget.first_reads(name, limit)
    return keys


def _first_reads(
    api: Api, method: str, extra_budgets: tuple[tuple[str, int], ...], found: dict[str, Any] | None
) -> dict[str, Any] | None:
    """What a call reads before it is sent (its breaker, its budgets), in one round trip to the shared
    cache rather than one each (issue 28: they came one after the other before every upstream call), or
    none when the caller read them (`found`). None while the shared cache is not answering: each reads
    this worker's own memory then."""
    keys = first_read_keys(api, method, extra_budgets)
    if found is None:
        if sharedcache.degraded():
            return None
        found = cache.get_many(keys)
        if sharedcache.degraded():  # it stopped answering meanwhile: what was found is this worker's own
            return None
    return {key: found.get(key) for key in keys}


def _take_budget(call: _Call, known: dict[str, Any] | None) -> None:
    for name, limit in _budgets(call.api, call.method, call.extra_budgets):
        wait = budget.acquire(name, limit, known=known)
        if wait is not None:
            logger.info(
                "%s %s %s budget-spent retry_after=%ss", call.api.name, call.method, call.shown_path, wait
            )
            raise RateLimited(retry_after=wait, status=None, api=call.api.name)


def _attempt(call: _Call, attempt: int) -> Answer | ApiError:
    """One request: its answer, or the failure to retry on. Raises what must not be retried."""
    api = call.api
    remaining = call.ends - time.monotonic()
    if remaining < MIN_ATTEMPT_SECONDS:
        raise _timed_out(api, call.started)
    known, call.known = call.known, None  # read for the first attempt: a retry reads afresh
    _take_budget(call, known)
    deadline.on_wire()
    sent = time.monotonic()
    answered: requests.Response | None = None  # the upstream's answer, when the failure is one
    try:
        with session_for(api) as session:
            response = session.request(
                call.method,
                call.url,
                params=call.params,
                headers=call.headers,
                data=call.data,
                timeout=(
                    min(settings.UPSTREAM_CONNECT_TIMEOUT, remaining),
                    min(settings.UPSTREAM_READ_TIMEOUT, remaining),
                ),
            )
    except requests.Timeout as error:
        seconds = time.monotonic() - sent
        connect = isinstance(error, requests.ConnectTimeout)
        call.log("connect-timeout" if connect else "timeout", seconds, attempt)
        now_open = breaker.failed(call.name, call.ticket, api.name)
        if not call.repeatable and not connect:
            record_stats(api, ok=False, seconds=seconds, error=lambda: OutcomeUnknown(api=api.name))
            raise OutcomeUnknown(api=api.name) from None
        started = call.started
        remake: Callable[[], ApiError] = lambda: _timed_out(api, started)  # noqa: E731
    except requests.RequestException:
        seconds = time.monotonic() - sent
        call.log("connection-failed", seconds, attempt)
        now_open = breaker.failed(call.name, call.ticket, api.name)
        remake = lambda: _not_connected(api)  # noqa: E731
    else:
        seconds = time.monotonic() - sent
        call.log(str(response.status_code), seconds, attempt, answered=True)
        breaker.answered(call.name, call.ticket, api.name)
        call.ticket = breaker.Ticket(probe=False, had_failures=False)
        if response.status_code < 300:
            payload = json_body(response, api) if response.content else None
            record_stats(api, ok=True, seconds=seconds)
            return Answer(response.status_code, payload, dict(response.headers))
        answered = response
        remake = lambda: failure_for(api, response)  # noqa: E731
        now_open = False
    failure = remake()
    if answered is not None:
        if isinstance(failure, RateLimited):
            budget.block(call.name, failure.retry_after)
        elif answered.status_code not in RETRY_STATUSES:
            record_stats(api, ok=answered.status_code < 500, seconds=seconds, error=remake)
            raise failure
    record_stats(api, ok=False, seconds=seconds, error=remake)
    if now_open:  # nobody else waits on it now; neither do we
        raise failure
    return failure
