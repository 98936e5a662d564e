"""Settings for Fileflare Admin.

Every value comes from the environment (or an optional `.env` file beside manage.py). Each variable is
declared once, with its default and one line of help, in fileflare_admin/config.py; `.env.example` is
generated from it. With nothing configured at all, the defaults give a
working local demo: SQLite in the project folder, local-memory cache, e-mail on the console, and the
embedded sandbox (`python manage.py runsandbox`) as the upstream for both APIs.
"""

import contextlib
import functools
import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from fileflare_admin import config
from fileflare_admin.config import DECLARED

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# A setting declared in fileflare_admin/config.py (its default is there, and nowhere else).
_read = functools.partial(config.read, env)

# --- Upstream APIs ----------------------------------------------------------------------------------
# The sandbox's documented demo credentials (see sandbox/README.md). They open nothing but the sandbox.
SANDBOX_URL = _read("SANDBOX_URL").rstrip("/")
SANDBOX_FILEFLARE_KEY = _read("SANDBOX_FILEFLARE_KEY")
SANDBOX_DOWNLOADS_TOKEN = _read("SANDBOX_DOWNLOADS_TOKEN")
SANDBOX_DOWNLOADS_SECRET = _read("SANDBOX_DOWNLOADS_SECRET")

# Demo mode: no real Fileflare configured, so the dashboard talks to the sandbox with its demo keys.
DEMO_MODE = not _read("FILEFLARE_API_URL")
if DEMO_MODE:
    FILEFLARE_API_URL = f"{SANDBOX_URL}/api"
    FILEFLARE_API_KEY = env.str("FILEFLARE_API_KEY", default=SANDBOX_FILEFLARE_KEY)
else:
    FILEFLARE_API_URL = env.str("FILEFLARE_API_URL").rstrip("/")
    FILEFLARE_API_KEY = _read("FILEFLARE_API_KEY")
DOWNLOADS_API_URL = env.str(
    "DOWNLOADS_API_URL", default=f"{SANDBOX_URL}/easycart" if DEMO_MODE else ""
).rstrip("/")
DOWNLOADS_API_TOKEN = env.str("DOWNLOADS_API_TOKEN", default=SANDBOX_DOWNLOADS_TOKEN if DEMO_MODE else "")
DOWNLOADS_API_TIMEZONE = _read("DOWNLOADS_API_TIMEZONE")  # its dates' zone (its MySQL's)

UPSTREAM_CONNECT_TIMEOUT = _read("UPSTREAM_CONNECT_TIMEOUT")
UPSTREAM_READ_TIMEOUT = _read("UPSTREAM_READ_TIMEOUT")
UPSTREAM_RETRIES = _read("UPSTREAM_RETRIES")
UPSTREAM_BACKOFF = _read("UPSTREAM_BACKOFF")
# A page answers in seconds whatever the upstreams do: all its upstream calls together, retries included,
# get UPSTREAM_PAGE_DEADLINE; with a saved copy to show, a fresh answer gets UPSTREAM_STALE_WAIT.
UPSTREAM_PAGE_DEADLINE = _read("UPSTREAM_PAGE_DEADLINE")
UPSTREAM_STALE_WAIT = _read("UPSTREAM_STALE_WAIT")
# After this many timeouts or refused connections in a row, nobody waits on that upstream for this long;
# then one request tries it again.
UPSTREAM_BREAKER_FAILURES = _read("UPSTREAM_BREAKER_FAILURES")
UPSTREAM_BREAKER_SECONDS = _read("UPSTREAM_BREAKER_SECONDS")
# How the web server runs (keep in step with gunicorn's --workers and --threads; gunicorn itself reads
# WEB_CONCURRENCY). Of each worker's threads, all but one may wait on an upstream at once, so pages that
# need none (the audit log, sign-in) always find a free thread.
WEB_CONCURRENCY = _read("WEB_CONCURRENCY")
WEB_THREADS = _read("WEB_THREADS")
UPSTREAM_WAITING_PAGES = int(_read("UPSTREAM_WAITING_PAGES") or max(WEB_THREADS - 1, 1))
# Every worker process using the same upstream keys, on all machines: while Redis is down each worker
# keeps to 1/UPSTREAM_WORKER_COUNT of each budget, so the shop's limit still holds.
UPSTREAM_WORKER_COUNT = int(_read("UPSTREAM_WORKER_COUNT") or WEB_CONCURRENCY)
UPSTREAM_CACHE_TTL = _read("UPSTREAM_CACHE_TTL")
UPSTREAM_STALE_TTL = _read("UPSTREAM_STALE_TTL")
# Our share of Fileflare's 60 requests a minute per key (30 for e-mails), for all workers together.
FILEFLARE_BUDGET_PER_MINUTE = _read("FILEFLARE_BUDGET_PER_MINUTE")
FILEFLARE_EMAIL_BUDGET_PER_MINUTE = _read("FILEFLARE_EMAIL_BUDGET_PER_MINUTE")
# The order in Fileflare's own app, where limits it keeps itself are raised ("Open in Fileflare" on the
# order page), with {order_id} and {order_number}. Empty: FILEFLARE_API_URL without /api + /orders/{order_id}.
FILEFLARE_APP_ORDER_URL = _read("FILEFLARE_APP_ORDER_URL")
# The downloads API documents no limit; 0 means no budget is enforced.
DOWNLOADS_BUDGET_PER_MINUTE = _read("DOWNLOADS_BUDGET_PER_MINUTE")
# The shop's global download limit, as set in Fileflare: a record's limit when no customer's page has shown
# one for its file (downloads.limits). Unset: none. The demo's is the sandbox shop's global limit, 10.
SHOP_DOWNLOAD_LIMIT = env.int("SHOP_DOWNLOAD_LIMIT", default=10 if DEMO_MODE else None)
# Of each budget, the requests a minute that only writes may use (reads have cached copies to fall back on).
UPSTREAM_WRITE_RESERVE = _read("UPSTREAM_WRITE_RESERVE")
# Of each budget, the requests a minute that background work (the order sync, bulk fixes) and the status
# page's checks never take, however large their shares: staff's order pages read fresh while a job runs.
STAFF_READ_RESERVE = _read("STAFF_READ_RESERVE")
# The status page's upstream checks run on a POST, at most once in this many seconds for the whole team.
STATUS_CHECK_MIN_SECONDS = _read("STATUS_CHECK_MIN_SECONDS")

# --- Background work (issue 19) ----------------------------------------------------------------------
# Tasks run in a worker process, never in a web worker: `manage.py background_worker` (`make run` starts
# one). "database" (default): the task rows live in the dashboard database and it runs django-tasks-db's
# `db_worker`. "rq": RQ on Redis (TASKS_REDIS_URL, default CACHE_URL); it runs `rqworker --job-class
# django_tasks_rq.Job --with-scheduler`, on as many machines as needed.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="") or DECLARED["TASKS_BACKEND"].default
_cache_url = env.str("CACHE_URL", default="")
TASKS_REDIS_URL = _read("TASKS_REDIS_URL") or (
    _cache_url if _cache_url.startswith("redis") else "redis://127.0.0.1:6379/0"
)
RQ_QUEUES = {"default": {"URL": TASKS_REDIS_URL, "DEFAULT_TIMEOUT": 600}}
# django-rq is here for its `rqworker` command only: no RQ dashboard inside the admin (its stats endpoint
# is open to anyone holding a token, and the bulk-fix pages already show what jobs are doing).
RQ_SHOW_ADMIN_LINK = False
if TASKS_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured("TASKS_BACKEND is either “database” or “rq”.")
# The order index's background sync: Fileflare requests a minute it may spend (of the shared budget, never
# the slots kept for writes), how many pages of the newest orders (1,000 a page) it keeps fresh and how
# often it re-reads them, and how often it walks them all. Each re-read renews the read cache's copy of
# its 1,000 orders; a little more often than UPSTREAM_CACHE_TTL, opening any of them costs no call
# (2 pages every 25 s: about 5 requests a minute).
ORDER_SYNC_BUDGET_PER_MINUTE = _read("ORDER_SYNC_BUDGET_PER_MINUTE")
ORDER_SYNC_FRESH_PAGES = _read("ORDER_SYNC_FRESH_PAGES")
ORDER_SYNC_REFRESH_SECONDS = _read("ORDER_SYNC_REFRESH_SECONDS")
ORDER_SYNC_REWALK_HOURS = _read("ORDER_SYNC_REWALK_HOURS")
# Bulk fixes: what all running jobs together may spend a minute, per upstream. Fileflare's share is taken
# from the shared budget (and never from the slots kept for staff's own writes); the downloads API
# documents no limit, so its pace is ours to choose (each record costs a fresh read and a write).
BULK_FILEFLARE_BUDGET_PER_MINUTE = _read("BULK_FILEFLARE_BUDGET_PER_MINUTE")
BULK_EMAIL_BUDGET_PER_MINUTE = _read("BULK_EMAIL_BUDGET_PER_MINUTE")
BULK_DOWNLOADS_BUDGET_PER_MINUTE = _read("BULK_DOWNLOADS_BUDGET_PER_MINUTE")
# The count snapshots (insights.snapshots): every record, and recent orders' records, in the background.
SNAPSHOT_FULL_EVERY_SECONDS = _read("SNAPSHOT_FULL_EVERY_SECONDS")
SNAPSHOT_RECENT_EVERY_SECONDS = _read("SNAPSHOT_RECENT_EVERY_SECONDS")
SNAPSHOT_RECENT_HOURS = _read("SNAPSHOT_RECENT_HOURS")
BULK_MAX_ITEMS = _read("BULK_MAX_ITEMS")
# The most order numbers one bulk fix takes pasted: the dry run reads their records inside the page's
# deadline (one walk of the list sorted by order number, or one search per number when that is fewer).
BULK_MAX_ORDER_NUMBERS = _read("BULK_MAX_ORDER_NUMBERS")
# A worker that stops mid-step holds its work this long before another worker resumes it. A live worker
# renews its lease every third of this from a thread of its own (background.chain.lease_kept), so the
# lease need not outlast the slowest upstream call.
BACKGROUND_LEASE_SECONDS = _read("BACKGROUND_LEASE_SECONDS")
# How often (seconds) each task worker (`manage.py background_worker`) queues again the background work
# that lost its step with a stopped worker, and starts the order sync if it is not running. It does so
# when it starts too; no page view ever does. A chain whose worker died is back within
# BACKGROUND_LEASE_SECONDS plus this, with nobody looking.
BACKGROUND_KEEPALIVE_SECONDS = _read("BACKGROUND_KEEPALIVE_SECONDS")

# The largest change to a download count that a Support account may make in one step.
SUPPORT_MAX_COUNT_STEP = _read("SUPPORT_MAX_COUNT_STEP")

# Link-scanner suspects (downloads.suspects): a burst of downloads right after an order's e-mail, or more
# than the shop's threshold within any hour. The daily digest's links start with DASHBOARD_URL.
SUSPECT_BURST_DOWNLOADS = _read("SUSPECT_BURST_DOWNLOADS")
SUSPECT_WINDOW_MINUTES = _read("SUSPECT_WINDOW_MINUTES")
SUSPECT_DOWNLOADS_PER_HOUR = _read("SUSPECT_DOWNLOADS_PER_HOUR")
DASHBOARD_URL = _read("DASHBOARD_URL").rstrip("/")

# --- Core -------------------------------------------------------------------------------------------
DEBUG = _read("DEBUG")


def _demo_secret_key() -> str:
    """A key made once per checkout for the local demo, kept out of git."""
    path = BASE_DIR / ".demo-secret-key"
    if not path.exists():
        # Written aside, then linked into place once: processes starting together (the test run's
        # workers, `make run`'s servers) all read the one key, never a half-written file.
        fresh = path.with_name(f"{path.name}.{os.getpid()}")
        fresh.write_text(secrets.token_urlsafe(50))
        fresh.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(fresh, path)
        fresh.unlink()
    return path.read_text().strip()


SECRET_KEY = _read("SECRET_KEY")
if not SECRET_KEY:
    if not DEMO_MODE:
        raise ImproperlyConfigured("SECRET_KEY must be set when the dashboard talks to a real Fileflare API.")
    SECRET_KEY = _demo_secret_key()

ALLOWED_HOSTS = _read("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = _read("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",  # Security: Content-Security-Policy header with a per-response nonce
    "axes",  # Security: sign-in lockout; its tables live in the dashboard database
    "fileflare_admin",
    "staff",
    "audit",
    "orders",
    "downloads",
    # Background work (issue 19): Django's tasks framework (the django-tasks backport), its database
    # backend and worker (`manage.py db_worker`), RQ's for several machines; the order index and bulk fixes.
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "background",  # the chain kernel, pacing and budget shares, the worker that keeps chains alive
    "orders_index",
    "jobs",
    "insights",  # reports, counts over time, link-scanner suspects, the daily digest (issue 29)
    # Listed for its management commands (runsandbox, seed_sandbox). Its tables live in its own
    # database, never in the dashboard's (see sandbox.routers).
    "sandbox",
]

MIDDLEWARE = [
    # Degrade, never die: the upstream deadline of each request, the degraded header, database trouble.
    "fileflare_admin.middleware.ResilienceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "fileflare_admin.security.PolicyMiddleware",  # Security: django-csp's, its text built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # Accept-Language, else LANGUAGE_CODE
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # The person read with their session (one query for both: fileflare_admin.sessions), then Django's.
    "fileflare_admin.sessions.PersonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "staff.middleware.RoleRequiredMiddleware",  # Security: no role, no page
    "staff.middleware.TimeZoneMiddleware",  # times in the person's zone (or the shop's)
    "staff.middleware.LanguageMiddleware",  # the language the person picked, over Accept-Language
    "fileflare_admin.middleware.LazyMessageMiddleware",  # Django's, opening the messages only when asked
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Security: must stay last (it turns a lockout into the sign-in page with the lockout sentence).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fileflare_admin.urls"
WSGI_APPLICATION = "fileflare_admin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fileflare_admin.context_processors.dashboard",
                "staff.context_processors.permissions",  # `may`: what the signed-in person may do
                "fileflare_admin.security.csp_nonce",  # Security
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", _read("CONN_MAX_AGE"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the task worker share the file: in WAL mode a reader never waits for a writer.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("init_command", "PRAGMA journal_mode=WAL;")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A page asks the same few statements with other values each time: psycopg prepares a statement on
    # its connection once it has run it twice, and PostgreSQL then neither parses nor plans it again (half
    # its CPU for the order page: issue 28). Prepared statements need server-side binding; Django leaves
    # both off for transaction-pooling proxies (PgBouncer before 1.21), which the dashboard does not use.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options.setdefault("server_side_binding", True)
    _pg_options.setdefault("prepare_threshold", 2)
DATABASE_ROUTERS = ["sandbox.routers.SandboxRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Local memory keeps 300 entries unless told otherwise; the newest-orders index alone needs ~2,000.
CACHES = {"default": env.cache("CACHE_URL", default=DECLARED["CACHE_URL"].default)}
# Redis is an accelerator, not a dependency: short socket timeouts, and while it does not answer each
# worker falls back to its own memory (fileflare_admin.sharedcache) instead of failing the page.
CACHE_CONNECT_TIMEOUT = _read("CACHE_CONNECT_TIMEOUT")
CACHE_TIMEOUT = _read("CACHE_TIMEOUT")
# While it is down, how often one request tries it again (the others skip it meanwhile).
CACHE_RETRY_SECONDS = _read("CACHE_RETRY_SECONDS")
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "fileflare_admin.sharedcache.ResilientRedisCache"
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", CACHE_CONNECT_TIMEOUT)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", CACHE_TIMEOUT)

vars().update(env.email_url("EMAIL_URL", default=DECLARED["EMAIL_URL"].default))
DEFAULT_FROM_EMAIL = _read("DEFAULT_FROM_EMAIL")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orders:list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = _read("SESSION_COOKIE_AGE")
# Django's database sessions, each read with its person in one query (fileflare_admin.sessions).
SESSION_ENGINE = "fileflare_admin.sessions"

# Languages (issue 30): the person's pick (Your language, in the header; staff.middleware), else the
# browser's Accept-Language (django.middleware.locale.LocaleMiddleware), else the shop's LANGUAGE_CODE.
# Each name in its own language. No i18n_patterns: URLs are the same in every language.
LANGUAGE_CODE = _read("LANGUAGE_CODE", blank=True)
LANGUAGES = [("en", "English"), ("fr", "Français"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our own date and number formats where Django's differ from what a support desk reads
# (fileflare_admin/formats/<lang>/formats.py; the rest is Django's).
FORMAT_MODULE_PATH = ["fileflare_admin.formats"]
TIME_ZONE = _read("TIME_ZONE")
# The shop's time zone: what every page shows times in unless a staff member picks their own
# (Your time zone, in the header). Defaults to TIME_ZONE.
SHOP_TIME_ZONE = _read("SHOP_TIME_ZONE") or TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` writes (WhiteNoise serves it). Test stacks and the benchmark give
# each of their servers its own folder.
_collected = Path(_read("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATIC_ROOT: Path | None = _collected
# The demo serves static files straight from the source folders; production serves the hashed,
# compressed copies that `collectstatic` writes.
WHITENOISE_USE_FINDERS = DEMO_MODE or DEBUG
if WHITENOISE_USE_FINDERS and not _collected.exists():
    # Nothing collected yet: serve from the source folders only (WhiteNoise warns about a missing root).
    STATIC_ROOT = None  # Django takes None for "no collected files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if WHITENOISE_USE_FINDERS
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOG_LEVEL = _read("LOG_LEVEL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "filters": {"refusals_in_one_line": {"()": "fileflare_admin.logs.RefusalsInOneLine"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # A 403 is one line, without the traceback Django attaches to it.
        "django.request": {"filters": ["refusals_in_one_line"]},
        "fileflare_admin": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "orders": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "downloads": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "audit": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "background": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

# --- Security ---------------------------------------------------------------------------------------
# Owned by issue 8. Production = a real upstream configured and DEBUG off. The local demo (sandbox,
# plain http on 127.0.0.1) keeps plain-http defaults so `make run` works; every value can be set.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

PRODUCTION = not DEMO_MODE and not DEBUG


# An empty value (as copied from .env.example) means "use the default", never False or 0.
def _env_bool(name: str, default: bool) -> bool:
    return env.bool(name) if env.str(name, default="").strip() else default


def _env_int(name: str, default: int) -> int:
    return env.int(name) if env.str(name, default="").strip() else default


# A real secret key in production: Django's own deploy check's rule (50+ characters, 5+ different
# ones, not a generated "django-insecure-" placeholder).
if PRODUCTION and (
    len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")
):
    raise ImproperlyConfigured(
        "SECRET_KEY is too short or looks like a placeholder: use 50+ random characters, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients): opt in.
TRUST_X_FORWARDED_PROTO = _read("TRUST_X_FORWARDED_PROTO", blank=True)
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of us append to X-Forwarded-For; decides the client address sign-in
# failures are counted against (fileflare_admin.security.client_ip). 0 = use the socket's address.
TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 1 if TRUST_X_FORWARDED_PROTO else 0)
# The addresses (or networks) of those proxies: X-Forwarded-For is believed only on a request that came
# from one of them, never from a client that reached the app directly. Empty = never believed.
TRUSTED_PROXIES = _read("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error} (give addresses or networks).") from None


SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Load balancers probe over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx gets the token from hx-headers on <body>, never from the cookie
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _read("SECURE_HSTS_INCLUDE_SUBDOMAINS", blank=True)
# Preloading is hard to undo (browsers ship the list), so it is the operator's explicit choice; until
# then Django's reminder (security.W021) is silenced rather than reported on every deploy check.
SECURE_HSTS_PRELOAD = _read("SECURE_HSTS_PRELOAD", blank=True)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
# Our pages link out only with rel=noreferrer; same-origin keeps order ids in URLs to ourselves.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "fileflare_admin.security.csrf_failure"

# No inline script or style anywhere: our scripts and htmx's are files served from here, tagged with
# the per-response nonce (fileflare_admin.security.csp_nonce puts it in every template).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# Sign-in: django-axes counts failures per username + client address and locks that pair out; the
# handler (fileflare_admin.signin) also locks a username out across addresses at a higher count.
AUTHENTICATION_BACKENDS = [
    "fileflare_admin.security.SignInGuardBackend",
    "fileflare_admin.sessions.PersonBackend",  # Django's ModelBackend, given the person read with the session
]
AXES_FAILURE_LIMIT = _read("AXES_FAILURE_LIMIT", blank=True)
AXES_COOLOFF_MINUTES = _read("AXES_COOLOFF_MINUTES", blank=True)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_USERNAME_FAILURE_LIMIT = _read("AXES_USERNAME_FAILURE_LIMIT", blank=True)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "fileflare_admin.signin.SignInAttempts"
AXES_RESET_ON_SUCCESS = True
# A try during a lockout is refused without being counted, so the end time the page states holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "fileflare_admin.security.client_ip"
AXES_LOCKOUT_CALLABLE = "fileflare_admin.signin.lockout_response"
# Failures are logged with username and address (the password is always masked); the CSRF token
# is kept out of the stored attempt too.
AXES_SENSITIVE_PARAMETERS = ["csrfmiddlewaretoken"]
