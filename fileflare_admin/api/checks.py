"""Are both upstream APIs usable with the configured settings? One typed result per check, for
`python manage.py check_upstreams` and the status page.

Each API is checked in order: configured, reachable, key accepted, its routes exist, its answers parse,
clock skew (from the Date header), rate-limit headers. A check that cannot run because an earlier one
failed says so ("skipped"). Every call goes through the normal client (budget, breaker, no secrets in
any sentence); nothing is written. About ten requests in all, six of them to Fileflare.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from django.conf import settings

from fileflare_admin.api import downloads
from fileflare_admin.api.errors import ApiError, BadResponse, NotConfigured, NotFound, RateLimited
from fileflare_admin.api.failures import shown_base
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE, Answer, Api, send
from fileflare_admin.api.types import Asset, DownloadRecord, Order, Product, data_list

Status = Literal["ok", "warn", "fail", "skipped"]
SKEW_WARN_SECONDS = 60
FUTURE_RECORD_SECONDS = 300
MADE_UP_TOKEN = "0" * 32  # no customer has it: the route answers 404 "not found", not "no route"


@dataclass(frozen=True)
class CheckResult:
    """One check of one API: `status` is ok, warn (works, but look), fail, or skipped."""

    api: str  # the API as staff know it ("Fileflare", "The downloads API")
    name: str  # what was checked ("reachable", "key accepted", …)
    status: Status
    detail: str  # a sentence: what was found, and what to do when it is not ok

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def line(self) -> str:
        return f"{self.status.upper():<7} {self.api}: {self.name} — {self.detail}"


@dataclass
class _Run:
    api: Api
    results: list[CheckResult] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.api.label[:1].upper() + self.api.label[1:]

    def add(self, name: str, status: Status, detail: str) -> None:
        self.results.append(CheckResult(self.title, name, status, detail))

    def skip(self, *names: str) -> list[CheckResult]:
        for name in names:
            self.add(name, "skipped", "Not checked: an earlier check failed.")
        return self.results


def _get(api: Api, path: str, params: dict[str, Any] | None = None) -> tuple[Answer, float]:
    started = time.monotonic()
    answer = send(api, "GET", path, params=params, cache_event=lambda: "check")
    return answer, time.monotonic() - started


def _header(answer: Answer, name: str) -> str | None:
    return next((value for key, value in answer.headers.items() if key.lower() == name.lower()), None)


def _first_call(run: _Run, path: str, params: dict[str, Any]) -> Answer | None:
    """Configured, reachable, key accepted and the main route, from one request."""
    api = run.api
    try:
        api.base_url()
        api.key()
    except NotConfigured as missing:
        run.add("configured", "fail", missing.user_message)
        run.skip("reachable", "key accepted", "routes exist")
        return None
    run.add("configured", "ok", f"{api.url_setting} and {api.key_setting} are set.")
    try:
        answer, seconds = _get(api, path, params)
    except RateLimited as limited:
        run.add("reachable", "ok", "It answered (with its rate limit).")
        run.add("key accepted", "ok", "The limit comes after the key is checked.")
        run.add("routes exist", "warn", limited.user_message)
        return None
    except NotConfigured as refused:
        run.add("reachable", "ok", f"It answered (status {refused.status}).")
        if refused.status == 404:
            run.add("key accepted", "skipped", "Not checked: the address is wrong.")
            run.add("routes exist", "fail", refused.user_message)
        else:
            run.add("key accepted", "fail", refused.user_message)
            run.add("routes exist", "skipped", "Not checked: the key was refused.")
        return None
    except ApiError as failed:
        if failed.status is None:  # no answer at all: refused connection, timeout, breaker open
            run.add("reachable", "fail", _unreachable(api, failed))
            run.skip("key accepted", "routes exist")
        else:
            run.add("reachable", "ok", f"It answered (status {failed.status}).")
            run.add("key accepted", "skipped", "Not checked: no usable answer.")
            run.add("routes exist", "fail", failed.user_message)
        return None
    run.add("reachable", "ok", f"It answered in {seconds * 1000:.0f} ms.")
    run.add("key accepted", "ok", f"{api.key_setting} was accepted.")
    return answer


def _unreachable(api: Api, failed: ApiError) -> str:
    """No answer: what failed, the address tried (never its user, password or query), what to set."""
    what = failed.user_message.removesuffix(" Try again in a moment.").removesuffix(".")
    said = f"{what} (tried {shown_base(api)})."
    if getattr(settings, "DEMO_MODE", False) and api.base_url().startswith(settings.SANDBOX_URL):
        return (
            f"{said} FILEFLARE_API_URL is not set, so the dashboard uses the sandbox there: start it "
            "(make run, or python manage.py runsandbox), or set FILEFLARE_API_URL, FILEFLARE_API_KEY, "
            "DOWNLOADS_API_URL and DOWNLOADS_API_TOKEN (see .env.example) to use the real APIs."
        )
    return f"{said} Check {api.url_setting}, and that the server is up and reachable from here."


def _routes(run: _Run, first: str, others: list[tuple[str, dict[str, Any] | None, bool]]) -> dict[str, Any]:
    """The other routes answer (a 404 "not found" for a made-up id means the route exists)."""
    payloads: dict[str, Any] = {}
    missing: list[str] = []
    for path, params, missing_is_fine in others:
        try:
            payloads[path] = _get(run.api, path, params)[0].payload
        except NotFound:
            if not missing_is_fine:
                missing.append(path)
        except ApiError as failed:
            missing.append(f"{path} ({failed.user_message})")
    if missing:
        run.add("routes exist", "fail", f"These did not answer as documented: {'; '.join(missing)}")
    else:
        paths = [first, *(path for path, _, _ in others)]
        listed = f"{', '.join(paths[:-1])} and {paths[-1]}" if len(paths) > 1 else first
        run.add("routes exist", "ok", f"{listed} answer.")
    return payloads


def _shapes(run: _Run, parse: Callable[[], str]) -> None:
    try:
        run.add("answers parse", "ok", parse())
    except BadResponse as unreadable:
        run.add("answers parse", "fail", unreadable.user_message)


def _clock(run: _Run, answer: Answer) -> None:
    date = _header(answer, "Date")
    try:
        theirs = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        theirs = None
    if theirs is None:
        run.add("clock skew", "warn", "It sent no readable Date header, so its clock cannot be compared.")
        return
    skew = (datetime.now(UTC) - theirs.astimezone(UTC)).total_seconds()
    status: Status = "ok" if abs(skew) <= SKEW_WARN_SECONDS else "warn"
    ahead = "behind" if skew > 0 else "ahead of"
    detail = f"Its clock is {abs(skew):.0f} s {ahead} this server's."
    if status == "warn":
        detail += " Times shown and rate-limit windows may be off: check both clocks (NTP)."
    run.add("clock skew", status, detail)


def _rate_limit(run: _Run, answer: Answer, *, documented: bool) -> None:
    limit, remaining = _header(answer, "X-RateLimit-Limit"), _header(answer, "X-RateLimit-Remaining")
    budget, setting = run.api.budget_limit(), run.api.budget_setting
    ours = f"the dashboard keeps to {setting} ({budget or 'no limit'})"
    if limit is None or not limit.isdigit():
        if documented:
            run.add("rate-limit headers", "warn", f"No X-RateLimit-Limit header, though documented; {ours}.")
        else:
            run.add("rate-limit headers", "ok", f"None sent (none documented); {ours}.")
        return
    detail = f"{limit} requests a minute, {remaining or '?'} left now; {ours}."
    if budget == 0 or budget > int(limit):
        run.add("rate-limit headers", "warn", f"{detail} Set {setting} below {limit}.")
    else:
        run.add("rate-limit headers", "ok", detail[:1].upper() + detail[1:])


def check_fileflare() -> list[CheckResult]:
    run = _Run(FILEFLARE)
    first = _first_call(run, "/v1/orders", {"limit": 1})
    if first is None:
        return run.skip("answers parse", "clock skew", "rate-limit headers")
    others: list[tuple[str, dict[str, Any] | None, bool]] = [
        ("/v1/assets", {"limit": 1}, False),
        ("/v1/products", {"limit": 1}, False),
        ("/v2/customer-account-orders", {"id": MADE_UP_TOKEN}, True),
    ]
    payloads = _routes(run, "/v1/orders", others)

    def parse() -> str:
        orders = [Order.from_json(item) for item in data_list(first.payload, "a list of orders")]
        for item in data_list(payloads.get("/v1/assets", {"data": []}), "a list of assets"):
            Asset.from_json(item)
        for item in data_list(payloads.get("/v1/products", {"data": []}), "a list of products"):
            Product.from_json(item)
        return f"Orders, assets and products parse ({len(orders)} order read)."

    _shapes(run, parse)
    _clock(run, first)
    _rate_limit(run, first, documented=True)
    return run.results


def check_downloads() -> list[CheckResult]:
    run = _Run(DOWNLOADS)
    try:
        zone = downloads.api_timezone()
    except NotConfigured as wrong_zone:
        run.add("time zone", "fail", wrong_zone.user_message)
        zone = None
    first = _first_call(run, "/downloads", {"perpage": 1, "sortby": "date_created", "sortdir": "DESC"})
    if first is None:
        return run.skip("answers parse", "clock skew", "rate-limit headers")
    _routes(run, "/downloads", [(f"/downloads/{MADE_UP_TOKEN}", None, True)])

    def parse() -> str:
        rows = first.payload if isinstance(first.payload, list) else None
        if rows is None:
            raise BadResponse("The downloads API sent its list in a shape we do not know (not a JSON array).")
        if not rows:
            return "The list is a JSON array (empty, so no row to read)."
        record = DownloadRecord.from_json(rows[0], zone=zone or UTC)
        dialect = (
            "values as strings and the S3 flag as is_amazon_download (WordPress's database rows)"
            if isinstance(rows[0].get("download_count"), str) or "is_amazon_download" in rows[0]
            else "numbers and booleans as documented"
        )
        if zone is not None:
            _future_dates(run, record.date_created)
        return f"Records parse: {dialect}."

    _shapes(run, parse)
    _clock(run, first)
    _rate_limit(run, first, documented=False)
    return run.results


def _future_dates(run: _Run, newest: datetime | None) -> None:
    """The newest record created in the future means DOWNLOADS_API_TIMEZONE is not the API's zone."""
    if newest is None:
        return
    ahead = (newest - datetime.now(UTC)).total_seconds()
    if ahead > FUTURE_RECORD_SECONDS:
        run.add(
            "time zone",
            "warn",
            f"The newest record was created {ahead / 3600:.1f} h from now as DOWNLOADS_API_TIMEZONE "
            f"({getattr(settings, 'DOWNLOADS_API_TIMEZONE', 'UTC')}) reads it: set it to the API's zone.",
        )
    else:
        run.add("time zone", "ok", "The newest record's date is not in the future.")


def check_upstreams() -> list[CheckResult]:
    """Every check of both APIs, Fileflare's first."""
    return check_fileflare() + check_downloads()
