"""The only place that sends HTTP. One pooled session per API and thread; a (connect, read) timeout on
every call, never past the page's deadline (deadline.py); retries with backoff only where repeating is
safe; a circuit breaker per upstream (breaker.py); every failure mapped to its class in errors.py with a
sentence staff can read; one log line a call, without secrets."""

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

from fileflare_admin.api import breaker, budget, deadline
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
MIN_ATTEMPT_SECONDS = 0.05  # less time than this left before the deadline: do not start another attempt
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

    # The stubs' signature names every keyword; ours passes them through unchanged.
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


# Field names an upstream uses where ours differ: the downloads table's column for the S3 flag.
_FIELD_ALIASES: dict[str, dict[str, str]] = {"downloads": {"is_amazon_download": "is_amazon"}}
# WordPress codes for a refused permission or a failed authentication (core's and common plugins').
_AUTH_CODES = frozenset(
    {
        "rest_forbidden",
        "rest_not_logged_in",
        "rest_unauthorized",
        "rest_authentication_failed",
        "unauthorized",
        "invalid_username",
        "incorrect_password",
        "jwt_auth_invalid_token",
    }
)


def _title(api: Api) -> str:
    """The API's name at the start of a sentence ("The downloads API", "Fileflare")."""
    return api.label[:1].upper() + api.label[1:]


def _error_body(response: requests.Response) -> dict[str, Any]:
    """An error answer's JSON object, or {} when it is not one (an HTML error page, nothing)."""
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value if item not in (None, "")]
    if isinstance(value, dict):  # a WordPress `details` entry: {"code", "message", "data"}
        return [str(value["message"])] if value.get("message") else []
    return [str(value)] if value not in (None, "") else []


def _field_errors(payload: Any, api: Api | None = None) -> dict[str, list[str]]:
    """Field name → messages, from Laravel's `errors` or WordPress's `data.params` / `data.details`,
    under the names our forms use (`is_amazon_download` → `is_amazon`)."""
    if not isinstance(payload, dict):
        return {}
    found: dict[str, list[str]] = {}
    if isinstance(payload.get("errors"), dict):  # Laravel: {"message", "errors": {field: [messages]}}
        for name, messages in payload["errors"].items():
            found[str(name)] = _messages(messages)
    data: dict[str, Any] = payload["data"] if isinstance(payload.get("data"), dict) else {}
    params, details = data.get("params"), data.get("details")
    if isinstance(params, dict):  # WordPress rest_invalid_param: {"params": {field: message}}
        for name, message in params.items():
            found.setdefault(str(name), _messages(message))
    elif isinstance(params, list):  # WordPress rest_missing_callback_param: {"params": [field, …]}
        for name in params:
            found.setdefault(str(name), [f"{name} is required."])
    if isinstance(details, dict):
        for name, detail in details.items():
            if not found.get(str(name)):
                found[str(name)] = _messages(detail)
    aliases = _FIELD_ALIASES.get(api.name, {}) if api is not None else {}
    fields: dict[str, list[str]] = {}
    for name, messages in found.items():
        fields.setdefault(aliases.get(name, name), []).extend(messages)
    return {name: messages for name, messages in fields.items() if messages}


def _json(response: requests.Response, api: Api) -> Any:
    try:
        return response.json()
    except ValueError:
        raise BadResponse(
            f"{_title(api)} answered with something that is not JSON. Try again in a moment.",
            status=response.status_code,
            api=api.name,
        ) from None


def _credentials_refused(api: Api, response: requests.Response, body: dict[str, Any]) -> bool:
    """401/403 from either API; the downloads API's documented 400 "Unauthorized" (a WordPress
    envelope with an authentication code, the older {"error": "Unauthorized"}, or plain text)."""
    if response.status_code in (401, 403):
        return True
    if api.name != "downloads" or response.status_code != 400:
        return False
    code = str(body.get("code") or "").lower()
    words = f"{body.get('message') or ''} {body.get('error') or ''}".lower()
    return code in _AUTH_CODES or "unauthorized" in words or (
        not body and "unauthorized" in response.text[:200].lower()
    )


def _shown_base(api: Api) -> str:
    """The base URL without what may be secret: no user or password, no query, no fragment."""
    parts = urlsplit(api.base_url())
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path.rstrip('/')}"


def _route_of(api: Api, response: requests.Response) -> str:
    """The route a request asked for, relative to the base URL: "/downloads", "/v1/orders"."""
    base_path = urlsplit(api.base_url()).path.rstrip("/")
    path = urlsplit(response.url or "").path
    relative = path[len(base_path) :] if path.startswith(base_path) else path
    segments = [segment for segment in relative.split("/") if segment]
    if not segments:
        return "/downloads" if api.name == "downloads" else "/v1/orders"
    keep = 2 if len(segments) > 1 and segments[0][:1] == "v" and segments[0][1:].isdigit() else 1
    return "/" + "/".join(segments[:keep])


def _no_such_route(api: Api, response: requests.Response, body: dict[str, Any]) -> bool:
    """A 404 that means the address is wrong, not that a record is missing: WordPress's rest_no_route,
    Laravel's "The route … could not be found.", a page that is not a JSON error, or a list that 404s."""
    message = str(body.get("message") or "")
    return (
        body.get("code") == "rest_no_route"
        or (message.startswith("The route ") and "could not be found" in message)
        or not body
        or (api.name == "downloads" and urlsplit(response.url or "").path.rstrip("/").endswith("/downloads"))
    )


def _sentence(text: str) -> str:
    return text if text[-1:] in ".!?" else f"{text}."


def _failure(api: Api, response: requests.Response) -> ApiError:
    status = response.status_code
    body = _error_body(response)
    if _credentials_refused(api, response, body):
        noun = "token" if api.key_setting.endswith("TOKEN") else "key"
        return NotConfigured(
            f"{_title(api)} refused the dashboard's {noun}. Check {api.key_setting}.",
            status=status,
            api=api.name,
        )
    if status == 402:
        return PlanLimit(status=status, api=api.name)
    if status == 404:
        if _no_such_route(api, response, body):
            name = _title(api) if api.label.endswith("API") else f"The {api.label} API"
            return NotConfigured(
                f"{name} address looks wrong: {_shown_base(api)} has no {_route_of(api, response)} route. "
                f"Check {api.url_setting}.",
                status=status,
                api=api.name,
            )
        return NotFound(status=status, api=api.name)
    if status in (400, 422):
        fields = _field_errors(body, api)
        summary = "; ".join(message for messages in fields.values() for message in messages)
        reason = str(body.get("message") or "").strip()
        if summary:
            sentence: str | None = _sentence(f"{_title(api)} refused these values: {summary}")
        elif reason:
            sentence = _sentence(f"{_title(api)} refused the request: {reason}")
        else:
            sentence = None
        return ValidationFailed(sentence, field_errors=fields, status=status, api=api.name)
    if status == 429:
        return RateLimited(retry_after=_retry_after(response), api=api.name)
    if status >= 500:
        return Unavailable(
            f"{_title(api)} had a problem on its side (error {status}). Try again in a moment.",
            status=status,
            api=api.name,
        )
    return BadResponse(
        f"{_title(api)} answered with an unexpected status ({status}).", status=status, api=api.name
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


def _timed_out(api: Api, started: float) -> Unavailable:
    """The sentence states the whole wait the person had, not one attempt's timeout."""
    waited = deadline.waited_since(started)
    return Unavailable(
        f"{_title(api)} did not answer within {deadline.seconds_text(waited)}. Try again in a moment.",
        api=api.name,
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

    @property
    def shown_path(self) -> str:
        return urlsplit(self.url).path  # never the host's credentials, never a header

    @property
    def name(self) -> str:
        """Names this API and key in budgets and the breaker without revealing the key."""
        return f"{self.api.name}:{self.api.identity()}"

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
) -> Answer:
    """One logical call, with retries where repeating is safe, all within the page's deadline (see
    deadline.py) and past the upstream's circuit breaker (see breaker.py). Raises an ApiError subclass.

    `repeatable=False` sends a call once whatever its method (a PUT that sends an e-mail): a read timeout
    then raises OutcomeUnknown, like a POST's, for the caller to find out what happened."""
    base = api.base_url()
    headers = {"Authorization": f"Bearer {api.key()}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    started = time.monotonic()
    call = _Call(
        api=api,
        method=method,
        url=f"{base}{path}",
        headers=headers,
        params=params,
        data=json.dumps(body) if body is not None else None,
        started=started,
        ends=deadline.call_deadline(started),
        ticket=breaker.admit(f"{api.name}:{api.identity()}", api.label, api.name),
        extra_budgets=extra_budgets,
        cache_event=cache_event,
        repeatable=method in REPEATABLE if repeatable is None else repeatable,
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


def _take_budget(call: _Call) -> None:
    shared = call.api.budget_limit()
    if call.method == "GET" and shared > 0:
        # Reads stop short of the budget: the last slots are kept for what staff change (a resend, a
        # count fix), which has no cached copy to fall back on. Reads do have one.
        shared = max(shared - max(settings.UPSTREAM_WRITE_RESERVE, 0), 1)
    for name, limit in ((call.name, shared), *call.extra_budgets):
        wait = budget.acquire(name, limit)
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
    _take_budget(call)
    sent = time.monotonic()
    try:
        response = session_for(api).request(
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
            unknown = OutcomeUnknown(api=api.name)
            record_stats(api, ok=False, seconds=seconds, error=unknown.user_message)
            raise unknown from None
        failure: ApiError = _timed_out(api, call.started)
    except requests.RequestException:
        seconds = time.monotonic() - sent
        call.log("connection-failed", seconds, attempt)
        now_open = breaker.failed(call.name, call.ticket, api.name)
        failure = Unavailable(f"Could not connect to {api.label}. Try again in a moment.", api=api.name)
    else:
        seconds = time.monotonic() - sent
        call.log(str(response.status_code), seconds, attempt, answered=True)
        breaker.answered(call.name, call.ticket, api.name)
        call.ticket = breaker.Ticket(probe=False, had_failures=False)
        if response.status_code < 300:
            payload = _json(response, api) if response.content else None
            record_stats(api, ok=True, seconds=seconds)
            return Answer(response.status_code, payload, dict(response.headers))
        failure = _failure(api, response)
        if isinstance(failure, RateLimited):
            budget.block(call.name, failure.retry_after)
        elif response.status_code not in RETRY_STATUSES:
            record_stats(api, ok=response.status_code < 500, seconds=seconds, error=failure.user_message)
            raise failure
        now_open = False
    record_stats(api, ok=False, seconds=seconds, error=failure.user_message)
    if now_open:  # nobody else waits on it now; neither do we
        raise failure
    return failure
