"""Every setting the dashboard (and its sandbox, and gunicorn's config) reads from the environment,
declared once: its name, its default as `.env.example` shows it, and one line of help.

`fileflare_admin/settings.py` reads the plain ones through `read()` (so their default lives here only);
the ones whose default is worked out from others (the demo's upstream, production's security defaults)
are declared with an empty default and the rule in their help. `.env.example` is `env_example()`'s text
(`python manage.py settings_doc --write` writes it); tests/test_config.py fails when that file, the
README's mentions of a setting's default, deploy/fileflare-admin.env or a file that reads the
environment tell another story.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import environ

Kind = Literal["str", "int", "float", "bool", "list"]


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as .env.example shows it; "" when worked out (the help says how) or a secret
    help: str  # one line
    kind: Kind = "str"
    secret: bool = False  # never given a value in .env.example


@dataclass(frozen=True)
class Group:
    title: str
    settings: tuple[Setting, ...]


S = Setting
GROUPS: tuple[Group, ...] = (
    Group(
        "Core",
        (
            S(
                "SECRET_KEY",
                "",
                "Long random string; required when FILEFLARE_API_URL is set (the demo makes one "
                "in .demo-secret-key).",
                secret=True,
            ),
            S("DEBUG", "0", "1 only on a developer's machine: shows Django's debug pages.", "bool"),
            S(
                "ALLOWED_HOSTS",
                "127.0.0.1,localhost,[::1]",
                "Host names this dashboard answers to, comma separated.",
                "list",
            ),
            S(
                "CSRF_TRUSTED_ORIGINS",
                "",
                "Origins allowed to POST when behind a proxy on another origin, e.g. "
                "https://admin.example.com",
                "list",
            ),
            S(
                "DATABASE_URL",
                "sqlite:///db.sqlite3",
                "Dashboard database (staff accounts, audit trail); "
                "the default is SQLite file db.sqlite3 beside manage.py.",
            ),
            S(
                "CONN_MAX_AGE",
                "60",
                "Seconds a database connection is kept open for the next request.",
                "int",
            ),
            S(
                "CACHE_URL",
                "locmemcache://fileflare-admin?max_entries=50000",
                "Cache shared by all workers (read cache, request budget); production: redis://host:6379/0",
            ),
            S(
                "CACHE_CONNECT_TIMEOUT",
                "0.25",
                "Seconds to wait for Redis to connect (then each worker uses its own memory).",
                "float",
            ),
            S("CACHE_TIMEOUT", "0.5", "Seconds to wait for Redis to answer.", "float"),
            S(
                "CACHE_RETRY_SECONDS",
                "5.0",
                "While Redis does not answer, how often one request tries it again.",
                "float",
            ),
            S(
                "EMAIL_URL",
                "consolemail://",
                "Where the dashboard's own e-mail goes: consolemail:// prints it; "
                "smtp+tls://user:pass@host:587",
            ),
            S(
                "DEFAULT_FROM_EMAIL",
                "Fileflare Admin <admin@localhost>",
                "The sender of the dashboard's own e-mail.",
            ),
            S("SESSION_COOKIE_AGE", "43200", "Seconds a sign-in lasts.", "int"),
            S(
                "LOG_LEVEL",
                "INFO",
                "Logging level of the dashboard's own loggers (one line per upstream call at INFO).",
            ),
            S(
                "TIME_ZONE",
                "UTC",
                "Time zone of the server's own dates (logs, the database's view of today).",
            ),
            S(
                "SHOP_TIME_ZONE",
                "",
                "The shop's time zone, e.g. Europe/Berlin, for every page unless a person "
                "picks their own; empty = TIME_ZONE.",
            ),
            S(
                "LANGUAGE_CODE",
                "en",
                "The shop's language: en, fr or it; a staff member may pick their own, else their "
                "browser's (Accept-Language) is used when it is one of these.",
            ),
            S("STATIC_ROOT", "", "Where collectstatic writes; empty = staticfiles beside manage.py."),
        ),
    ),
    Group(
        "Fileflare (orders, assets, customer download pages)",
        (
            S(
                "FILEFLARE_API_URL",
                "",
                "Base URL ending in /api, e.g. https://app.digital-downloads.com/api; "
                "empty = the embedded sandbox.",
            ),
            S(
                "FILEFLARE_API_KEY",
                "",
                "API key from the Fileflare app (Settings -> API): full access to the shop's data.",
                secret=True,
            ),
            S(
                "FILEFLARE_APP_ORDER_URL",
                "",
                "The order in Fileflare's own app, with {order_id} and "
                "{order_number}; empty = FILEFLARE_API_URL without /api + /orders/{order_id}.",
            ),
        ),
    ),
    Group(
        "Downloads API (download records)",
        (
            S(
                "DOWNLOADS_API_URL",
                "",
                "Base URL (the client appends /downloads); empty with no FILEFLARE_API_URL = the sandbox.",
            ),
            S("DOWNLOADS_API_TOKEN", "", "Bearer token of the downloads API.", secret=True),
            S(
                "DOWNLOADS_API_TIMEZONE",
                "UTC",
                "Time zone of its dates (its database's): UTC, America/New_York or -05:00.",
            ),
        ),
    ),
    Group(
        "Upstream behaviour",
        (
            S("UPSTREAM_CONNECT_TIMEOUT", "3.05", "Seconds to wait for a connection.", "float"),
            S("UPSTREAM_READ_TIMEOUT", "10.0", "Seconds to wait for an answer.", "float"),
            S(
                "UPSTREAM_RETRIES",
                "2",
                "Extra attempts for requests safe to repeat (never a POST that creates).",
                "int",
            ),
            S("UPSTREAM_BACKOFF", "0.5", "Seconds before the first retry (doubling after).", "float"),
            S(
                "UPSTREAM_PAGE_DEADLINE",
                "8.0",
                "Seconds all of a page's upstream calls may take together, retries included.",
                "float",
            ),
            S(
                "UPSTREAM_STALE_WAIT",
                "2.0",
                "With a saved copy to show (as of), seconds a page waits for a fresh answer first.",
                "float",
            ),
            S(
                "UPSTREAM_BREAKER_FAILURES",
                "3",
                "Timeouts or refused connections in a row after which no worker waits on that upstream...",
                "int",
            ),
            S(
                "UPSTREAM_BREAKER_SECONDS",
                "30.0",
                "...for this many seconds; then one request tries it again.",
                "float",
            ),
            S("UPSTREAM_CACHE_TTL", "30", "Seconds a cached upstream answer counts as fresh.", "int"),
            S(
                "UPSTREAM_STALE_TTL",
                "86400",
                "Seconds it is kept to show (as of) when the upstream is down or the budget spent.",
                "int",
            ),
            S(
                "FILEFLARE_BUDGET_PER_MINUTE",
                "55",
                "Fileflare requests a minute, all workers together (Fileflare allows 60).",
                "int",
            ),
            S(
                "FILEFLARE_EMAIL_BUDGET_PER_MINUTE",
                "28",
                "Fileflare e-mails a minute, all workers together (Fileflare allows 30).",
                "int",
            ),
            S(
                "DOWNLOADS_BUDGET_PER_MINUTE",
                "0",
                "Downloads API requests a minute (it documents no limit); 0 = none enforced.",
                "int",
            ),
            S(
                "SHOP_DOWNLOAD_LIMIT",
                "",
                "The shop's global download limit as set in Fileflare, for a file no customer's page has "
                "shown a limit for; empty = none (the demo's is 10, the sandbox shop's).",
                "int",
            ),
            S(
                "UPSTREAM_WRITE_RESERVE",
                "5",
                "Of each budget, requests a minute kept for writes: reads stop short of it.",
                "int",
            ),
            S(
                "STAFF_READ_RESERVE",
                "20",
                "Of each budget, requests a minute background work and the status checks never take "
                "(staff's reads stay fresh while a job runs); keep it and UPSTREAM_WRITE_RESERVE below "
                "the budget.",
                "int",
            ),
            S(
                "STATUS_CHECK_MIN_SECONDS",
                "60",
                "The status page's upstream checks run (on a POST) at most once in this many seconds "
                "for the whole team.",
                "int",
            ),
        ),
    ),
    Group(
        "Web server (keep in step with gunicorn's --workers and --threads)",
        (
            S("WEB_CONCURRENCY", "4", "Worker processes on this machine (gunicorn reads it too).", "int"),
            S("WEB_THREADS", "4", "Threads in each worker process.", "int"),
            S(
                "UPSTREAM_WAITING_PAGES",
                "",
                "Requests of one worker that may wait on an upstream at once; empty = WEB_THREADS - 1.",
            ),
            S(
                "UPSTREAM_WORKER_COUNT",
                "",
                "Worker processes on all machines sharing the keys (each keeps to "
                "its share while Redis is down); empty = WEB_CONCURRENCY.",
            ),
            S("GUNICORN_BIND", "127.0.0.1:8000", "Where gunicorn listens (deploy/gunicorn.conf.py)."),
            S(
                "GUNICORN_TIMEOUT",
                "30",
                "Seconds gunicorn lets a request run before restarting its worker.",
                "int",
            ),
            S("GUNICORN_LOG_LEVEL", "info", "gunicorn's own log level."),
            S(
                "REUSE_PORT",
                "1",
                "1: each gunicorn worker listens on its own socket and the kernel spreads connections "
                "across them; 0: one shared socket.",
            ),
            S("FORWARDED_ALLOW_IPS", "127.0.0.1", "Proxies gunicorn takes X-Forwarded-* headers from."),
        ),
    ),
    Group(
        "Background work: the task worker, the order index, bulk fixes",
        (
            S(
                "TASKS_BACKEND",
                "database",
                "database: tasks wait in this database (db_worker); rq: RQ on Redis, "
                "on any number of machines.",
            ),
            S(
                "TASKS_REDIS_URL",
                "",
                "RQ's Redis; empty = CACHE_URL when that is Redis, else redis://127.0.0.1:6379/0.",
            ),
            S(
                "ORDER_SYNC_BUDGET_PER_MINUTE",
                "10",
                "Fileflare requests a minute the order index's sync may spend.",
                "int",
            ),
            S(
                "ORDER_SYNC_FRESH_PAGES",
                "2",
                "Pages of the newest orders (1,000 a page) the sync keeps fresh.",
                "int",
            ),
            S(
                "ORDER_SYNC_REFRESH_SECONDS",
                "25",
                "How often (seconds) the sync re-reads those pages.",
                "int",
            ),
            S("ORDER_SYNC_REWALK_HOURS", "24", "How often (hours) the sync walks every order again.", "int"),
            S(
                "BULK_FILEFLARE_BUDGET_PER_MINUTE",
                "10",
                "Bulk fixes, all jobs together: Fileflare requests a minute.",
                "int",
            ),
            S("BULK_EMAIL_BUDGET_PER_MINUTE", "10", "Bulk fixes: e-mails a minute.", "int"),
            S(
                "BULK_DOWNLOADS_BUDGET_PER_MINUTE",
                "240",
                "Bulk fixes: downloads API requests a minute (a record is a read and a write).",
                "int",
            ),
            S(
                "SNAPSHOT_FULL_EVERY_SECONDS",
                "86400",
                "How often (seconds) the background reads every download record's count (0 = never).",
                "int",
            ),
            S(
                "SNAPSHOT_RECENT_EVERY_SECONDS",
                "3600",
                "How often (seconds) it reads the counts of orders e-mailed within SNAPSHOT_RECENT_HOURS "
                "(0 = never).",
                "int",
            ),
            S("SNAPSHOT_RECENT_HOURS", "48", "How far back (hours) an e-mail makes an order recent.", "int"),
            S("BULK_MAX_ITEMS", "5000", "The most records (or orders) one bulk fix may change.", "int"),
            S(
                "BULK_MAX_ORDER_NUMBERS",
                "500",
                "The most order numbers one bulk fix takes pasted (more are refused with a sentence naming "
                "the limit).",
                "int",
            ),
            S(
                "BACKGROUND_LEASE_SECONDS",
                "24",
                "Seconds a worker that stopped mid-step holds its work before another resumes it (a live "
                "worker renews it every third of this).",
                "int",
            ),
            S(
                "BACKGROUND_KEEPALIVE_SECONDS",
                "30",
                "How often (seconds) each task worker queues again what lost its step.",
                "int",
            ),
        ),
    ),
    Group(
        "Roles",
        (
            S(
                "SUPPORT_MAX_COUNT_STEP",
                "5",
                "The largest change to a download count a Support account may make at once.",
                "int",
            ),
        ),
    ),
    Group(
        "Link-scanner suspects and the daily digest",
        (
            S(
                "SUSPECT_BURST_DOWNLOADS",
                "3",
                "Downloads seen within SUSPECT_WINDOW_MINUTES of an order's e-mail that make its record a "
                "link-scanner suspect.",
                "int",
            ),
            S(
                "SUSPECT_WINDOW_MINUTES",
                "60",
                "How long after an e-mail a burst of downloads counts as its link scanner's.",
                "int",
            ),
            S(
                "SUSPECT_DOWNLOADS_PER_HOUR",
                "5",
                "More downloads than this seen within one hour, at any time, make a record a suspect.",
                "int",
            ),
            S(
                "DASHBOARD_URL",
                "http://127.0.0.1:8000",
                "The dashboard's own address, for the links in its e-mails (the daily digest), e.g. "
                "https://admin.example.com",
            ),
        ),
    ),
    Group(
        "Sandbox (the demo upstream; python manage.py runsandbox)",
        (
            S(
                "SANDBOX_URL",
                "http://127.0.0.1:8001",
                "Where the dashboard finds the sandbox when FILEFLARE_API_URL is empty.",
            ),
            S(
                "SANDBOX_DATABASE_URL",
                "",
                "The sandbox's own database; empty = SQLite file sandbox.sqlite3 beside manage.py.",
            ),
            S(
                "SANDBOX_SECRET_KEY",
                "sandbox-only-not-a-secret",
                "The sandbox's own Django key (it guards nothing real).",
            ),
            S(
                "SANDBOX_FILEFLARE_KEY",
                "ffsk_demo_4b1d9e6c2a7f4e0b8d3c5a1f",
                "Demo Fileflare key the sandbox accepts (documented; it opens nothing but the sandbox).",
            ),
            S(
                "SANDBOX_DOWNLOADS_TOKEN",
                "ecdt_demo_7e2a91c4d8b34f6a",
                "Demo downloads API token the sandbox accepts.",
            ),
            S(
                "SANDBOX_DOWNLOADS_SECRET",
                "ecds_demo_3f5b8c1e",
                "Demo downloads API secret the sandbox accepts.",
            ),
            S(
                "SANDBOX_RATE_LIMIT",
                "60",
                "Requests a minute per key before the sandbox answers 429 (0 = no limit).",
                "int",
            ),
            S("SANDBOX_EMAIL_RATE_LIMIT", "30", "E-mails a minute per key before it answers 429.", "int"),
            S("SANDBOX_LATENCY_MS", "0", "Fault injection: milliseconds added to every answer.", "int"),
            S("SANDBOX_ERROR_RATE", "0.0", "Fault injection: share (0..1) of 5xx answers.", "float"),
            S("SANDBOX_HANG_RATE", "0.0", "Fault injection: share (0..1) of answers that hang.", "float"),
            S("SANDBOX_HANG_SECONDS", "30.0", "How long a hanging answer hangs.", "float"),
            S(
                "SANDBOX_MALFORMED_RATE",
                "0.0",
                "Fault injection: share (0..1) of malformed answers.",
                "float",
            ),
            S(
                "SANDBOX_DOWNLOADS_ROWS",
                "documented",
                "documented: records as the API's document says; wordpress: as WordPress's database rows.",
            ),
            S(
                "SANDBOX_DOWNLOADS_TIMEZONE",
                "UTC",
                "The time zone the sandbox's downloads API writes its dates in.",
            ),
            S(
                "SANDBOX_TRICKLE_SECONDS",
                "0.0",
                "The sandbox's shop lives: a step of downloads, orders and link scanners every this many "
                "seconds (0 = off; make run sets 5).",
                "float",
            ),
            S("SANDBOX_TRICKLE_SEED", "1050", "What the sandbox's trickle draws its steps from.", "int"),
        ),
    ),
    Group(
        "Security (production = FILEFLARE_API_URL set and DEBUG=0; the demo keeps plain http)",
        (
            S(
                "TRUST_X_FORWARDED_PROTO",
                "0",
                "1 when a TLS proxy in front sets X-Forwarded-Proto (and strips it from clients).",
                "bool",
            ),
            S(
                "TRUSTED_PROXY_COUNT",
                "",
                "Proxies in front that append to X-Forwarded-For; empty = 1 with "
                "TRUST_X_FORWARDED_PROTO=1, else 0.",
            ),
            S(
                "TRUSTED_PROXIES",
                "",
                "Addresses or networks of those proxies, comma separated; empty = "
                "X-Forwarded-For is never read.",
                "list",
            ),
            S("SECURE_SSL_REDIRECT", "", "Redirect http to https; empty = 1 in production, 0 in the demo."),
            S(
                "SESSION_COOKIE_SECURE",
                "",
                "Session cookie over https only; empty = 1 in production, 0 in the demo.",
            ),
            S(
                "CSRF_COOKIE_SECURE",
                "",
                "CSRF cookie over https only; empty = 1 in production, 0 in the demo.",
            ),
            S(
                "SECURE_HSTS_SECONDS",
                "",
                "HSTS max-age; empty = 31536000 in production, 0 (off) in the demo.",
            ),
            S("SECURE_HSTS_INCLUDE_SUBDOMAINS", "1", "HSTS covers subdomains too.", "bool"),
            S(
                "SECURE_HSTS_PRELOAD",
                "0",
                "1 to ask browsers to preload HSTS (hard to undo: opt in deliberately).",
                "bool",
            ),
            S(
                "AXES_FAILURE_LIMIT",
                "5",
                "Failed sign-ins per username + address before that pair is locked out.",
                "int",
            ),
            S("AXES_COOLOFF_MINUTES", "15", "Minutes a lockout lasts.", "int"),
            S(
                "AXES_USERNAME_FAILURE_LIMIT",
                "15",
                "Failed sign-ins for one username from all addresses before it is locked out.",
                "int",
            ),
        ),
    ),
)
del S

DECLARED: dict[str, Setting] = {setting.name: setting for group in GROUPS for setting in group.settings}


def read(env: environ.Env, name: str, *, blank: bool = False) -> Any:
    """The setting's value from the environment (or .env), else its declared default. `blank`: an empty
    value (as copied from .env.example) also means the default, never False or 0."""
    setting = DECLARED[name]
    default = default_value(setting)
    if blank and not env.str(name, default="").strip():
        return default
    readers = {"int": env.int, "float": env.float, "bool": env.bool, "list": env.list, "str": env.str}
    return readers[setting.kind](name, default=default)


def default_value(setting: Setting) -> Any:
    """The declared default as the setting's kind."""
    default = setting.default
    if not default and setting.kind not in ("str", "list"):
        return None  # worked out by settings.py, as the help says
    if setting.kind == "int":
        return int(default)
    if setting.kind == "float":
        return float(default)
    if setting.kind == "bool":
        return default == "1"
    if setting.kind == "list":
        return default.split(",") if default else []
    return default


HEADER = (
    "# Generated from fileflare_admin/config.py (python manage.py settings_doc --write): change it there.\n"
    "# Copy to .env (never commit .env) and set what you need. Nothing set = the local demo on the sandbox.\n"
)


def env_example() -> str:
    """The text of .env.example: every declared setting with its help line and its default."""
    lines = [HEADER.rstrip("\n")]
    for group in GROUPS:
        lines += ["", f"# --- {group.title} ---"]
        for setting in group.settings:
            value = "" if setting.secret else setting.default
            shown = f'"{value}"' if " " in value else value  # a shell and django-environ read it alike
            lines += [f"# {setting.help}", f"{setting.name}={shown}"]
    return "\n".join(lines) + "\n"
