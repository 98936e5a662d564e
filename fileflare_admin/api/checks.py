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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy

from fileflare_admin.api import downloads
from fileflare_admin.api.errors import ApiError, BadResponse, NotConfigured, NotFound, RateLimited
from fileflare_admin.api.failures import shown_base
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE, Answer, Api, send
from fileflare_admin.api.types import Asset, DownloadRecord, Order, Product, data_list
from fileflare_admin.sentences import capitalized, later

Status = Literal["ok", "warn", "fail", "skipped"]
SKEW_WARN_SECONDS = 60
FUTURE_RECORD_SECONDS = 300
MADE_UP_TOKEN = "0" * 32  # no customer has it: the route answers 404 "not found", not "no route"
# What each check is called on the page and in the command's lines (`name` stays the code).
CHECK_LABELS = {
    "configured": pgettext_lazy("upstream check", "configured"),
    "reachable": pgettext_lazy("upstream check", "reachable"),
    "key accepted": pgettext_lazy("upstream check", "key accepted"),
    "routes exist": pgettext_lazy("upstream check", "routes exist"),
    "answers parse": pgettext_lazy("upstream check", "answers parse"),
    "clock skew": pgettext_lazy("upstream check", "clock skew"),
    "rate-limit headers": pgettext_lazy("upstream check", "rate-limit headers"),
    "time zone": pgettext_lazy("upstream check", "time zone"),
}
STATUS_LABELS = {
    "ok": pgettext_lazy("upstream check", "OK"),
    "warn": pgettext_lazy("upstream check", "WARN"),
    "fail": pgettext_lazy("upstream check", "FAIL"),
    "skipped": pgettext_lazy("upstream check", "SKIPPED"),
}


@dataclass(frozen=True)
class CheckResult:
    """One check of one API: `status` is ok, warn (works, but look), fail, or skipped."""

    api: str  # the API as staff know it ("Fileflare", "The downloads API"), in the language shown
    name: str  # what was checked, a code ("reachable", "key accepted", …): `label` is its words
    status: Status
    # A sentence: what was found, and what to do when it is not ok. Made with `later`, so the last run,
    # kept for the whole team, reads in each person's language.
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    @property
    def label(self) -> str:
        return str(CHECK_LABELS.get(self.name, self.name))

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    def line(self) -> str:
        return f"{self.status_label:<7} {capitalized(self.api)}: {self.label} — {self.detail}"


@dataclass
class _Run:
    api: Api
    results: list[CheckResult] = field(default_factory=list)

    @property
    def title(self) -> str:
        # Fileflare's name is no word to translate; the downloads API's is, when shown.
        return str(self.api.label) if self.api is FILEFLARE else later(gettext_noop("The downloads API"))

    def add(self, name: str, status: Status, detail: str) -> None:
        self.results.append(CheckResult(self.title, name, status, detail))

    def skip(self, *names: str) -> list[CheckResult]:
        for name in names:
            self.add(name, "skipped", later(gettext_noop("Not checked: an earlier check failed.")))
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
    run.add(
        "configured",
        "ok",
        later(gettext_noop("%(url)s and %(key)s are set."), {"url": api.url_setting, "key": api.key_setting}),
    )
    try:
        answer, seconds = _get(api, path, params)
    except RateLimited as limited:
        run.add("reachable", "ok", later(gettext_noop("It answered (with its rate limit).")))
        run.add("key accepted", "ok", later(gettext_noop("The limit comes after the key is checked.")))
        run.add("routes exist", "warn", limited.user_message)
        return None
    except NotConfigured as refused:
        run.add("reachable", "ok", _answered(refused.status))
        if refused.status == 404:
            run.add("key accepted", "skipped", later(gettext_noop("Not checked: the address is wrong.")))
            run.add("routes exist", "fail", refused.user_message)
        else:
            run.add("key accepted", "fail", refused.user_message)
            run.add("routes exist", "skipped", later(gettext_noop("Not checked: the key was refused.")))
        return None
    except ApiError as failed:
        if failed.status is None:  # no answer at all: refused connection, timeout, breaker open
            run.add("reachable", "fail", _unreachable(api, failed))
            run.skip("key accepted", "routes exist")
        else:
            run.add("reachable", "ok", _answered(failed.status))
            run.add("key accepted", "skipped", later(gettext_noop("Not checked: no usable answer.")))
            run.add("routes exist", "fail", failed.user_message)
        return None
    run.add(
        "reachable", "ok", later(gettext_noop("It answered in %(ms)s ms."), {"ms": f"{seconds * 1000:.0f}"})
    )
    run.add("key accepted", "ok", later(gettext_noop("%(key)s was accepted."), {"key": api.key_setting}))
    return answer


def _answered(status: int | None) -> str:
    return later(gettext_noop("It answered (status %(status)s)."), {"status": status})


def _unreachable(api: Api, failed: ApiError) -> str:
    """No answer: what failed, the address tried (never its user, password or query), what to set."""
    what = failed.user_message.removesuffix(" " + _("Try again in a moment.")).removesuffix(".")
    said = {"what": what, "tried": shown_base(api)}
    if getattr(settings, "DEMO_MODE", False) and api.base_url().startswith(settings.SANDBOX_URL):
        return later(
            gettext_noop(
                "%(what)s (tried %(tried)s). FILEFLARE_API_URL is not set, so the dashboard uses the sandbox "
                "there: start it (make run, or python manage.py runsandbox), or set FILEFLARE_API_URL, "
                "FILEFLARE_API_KEY, DOWNLOADS_API_URL and DOWNLOADS_API_TOKEN (see .env.example) to use the "
                "real APIs."
            ),
            said,
        )
    return later(
        gettext_noop(
            "%(what)s (tried %(tried)s). Check %(setting)s, and that the server is up and reachable "
            "from here."
        ),
        {**said, "setting": api.url_setting},
    )


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
        run.add(
            "routes exist",
            "fail",
            later(
                gettext_noop("These did not answer as documented: %(routes)s"), {"routes": "; ".join(missing)}
            ),
        )
    else:
        paths = [first, *(path for path, _params, _fine in others)]
        if len(paths) > 1:
            listed = later(
                gettext_noop("%(routes)s and %(last)s answer."),
                {"routes": ", ".join(paths[:-1]), "last": paths[-1]},
            )
        else:
            listed = later(gettext_noop("%(routes)s answers."), {"routes": first})
        run.add("routes exist", "ok", listed)
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
        run.add(
            "clock skew",
            "warn",
            later(gettext_noop("It sent no readable Date header, so its clock cannot be compared.")),
        )
        return
    skew = (datetime.now(UTC) - theirs.astimezone(UTC)).total_seconds()
    status: Status = "ok" if abs(skew) <= SKEW_WARN_SECONDS else "warn"
    apart = {"seconds": f"{abs(skew):.0f}"}
    if status == "ok":
        detail = (
            later(gettext_noop("Its clock is %(seconds)s s behind this server's."), apart)
            if skew > 0
            else later(gettext_noop("Its clock is %(seconds)s s ahead of this server's."), apart)
        )
    else:
        detail = (
            later(
                gettext_noop(
                    "Its clock is %(seconds)s s behind this server's. Times shown and rate-limit windows may "
                    "be off: check both clocks (NTP)."
                ),
                apart,
            )
            if skew > 0
            else later(
                gettext_noop(
                    "Its clock is %(seconds)s s ahead of this server's. Times shown and rate-limit windows "
                    "may be off: check both clocks (NTP)."
                ),
                apart,
            )
        )
    run.add("clock skew", status, detail)


def _rate_limit(run: _Run, answer: Answer, *, documented: bool) -> None:
    limit, remaining = _header(answer, "X-RateLimit-Limit"), _header(answer, "X-RateLimit-Remaining")
    budget, setting = run.api.budget_limit(), run.api.budget_setting
    ours = (
        later(
            gettext_noop("the dashboard keeps to %(setting)s (%(budget)s)"),
            {"setting": setting, "budget": budget},
        )
        if budget
        else later(gettext_noop("the dashboard keeps to %(setting)s (no limit)"), {"setting": setting})
    )
    if limit is None or not limit.isdigit():
        if documented:
            run.add(
                "rate-limit headers",
                "warn",
                later(
                    gettext_noop("No X-RateLimit-Limit header, though documented; %(ours)s."), {"ours": ours}
                ),
            )
        else:
            run.add(
                "rate-limit headers",
                "ok",
                later(gettext_noop("None sent (none documented); %(ours)s."), {"ours": ours}),
            )
        return
    figures = {"limit": limit, "left": remaining or "?", "ours": ours, "setting": setting}
    if budget == 0 or budget > int(limit):
        detail = gettext_noop(
            "%(limit)s requests a minute, %(left)s left now; %(ours)s. Set %(setting)s below %(limit)s."
        )
        run.add("rate-limit headers", "warn", later(detail, figures))
    else:
        run.add(
            "rate-limit headers",
            "ok",
            later(gettext_noop("%(limit)s requests a minute, %(left)s left now; %(ours)s."), figures),
        )


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
        orders = [
            Order.from_json(item) for item in data_list(first.payload, gettext_lazy("a list of orders"))
        ]
        for item in data_list(payloads.get("/v1/assets", {"data": []}), gettext_lazy("a list of assets")):
            Asset.from_json(item)
        for item in data_list(payloads.get("/v1/products", {"data": []}), gettext_lazy("a list of products")):
            Product.from_json(item)
        return later(
            gettext_noop("Orders, assets and products parse (%(count)s order read)."), {"count": len(orders)}
        )

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
            raise BadResponse(
                _("The downloads API sent its list in a shape we do not know (not a JSON array).")
            )
        if not rows:
            return later(gettext_noop("The list is a JSON array (empty, so no row to read)."))
        record = DownloadRecord.from_json(rows[0], zone=zone or UTC)
        wpdb = isinstance(rows[0].get("download_count"), str) or "is_amazon_download" in rows[0]
        if zone is not None:
            _future_dates(run, record.date_created)
        if wpdb:
            return later(
                gettext_noop(
                    "Records parse: values as strings and the S3 flag as is_amazon_download (WordPress's "
                    "database rows)."
                )
            )
        return later(gettext_noop("Records parse: numbers and booleans as documented."))

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
            later(
                gettext_noop(
                    "The newest record was created %(hours)s h from now as DOWNLOADS_API_TIMEZONE (%(zone)s) "
                    "reads it: set it to the API's zone."
                ),
                {"hours": f"{ahead / 3600:.1f}", "zone": getattr(settings, "DOWNLOADS_API_TIMEZONE", "UTC")},
            ),
        )
    else:
        run.add("time zone", "ok", later(gettext_noop("The newest record's date is not in the future.")))


def check_upstreams() -> list[CheckResult]:
    """Every check of both APIs, Fileflare's first."""
    return check_fileflare() + check_downloads()
