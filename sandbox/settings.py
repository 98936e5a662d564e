"""Settings of the sandbox server process (`python manage.py runsandbox`).

Standalone on purpose: its own database, its own URLs, none of the dashboard's middleware. The dashboard
reaches the sandbox only over HTTP.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("SANDBOX_SECRET_KEY", default="sandbox-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "sandbox"]
MIDDLEWARE = ["sandbox.middleware.SandboxMiddleware"]
ROOT_URLCONF = "sandbox.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {"default": env.db("SANDBOX_DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'sandbox.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Threads write (e-mails, records) while others read: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
APPEND_SLASH = False

SANDBOX_FILEFLARE_KEY = env.str("SANDBOX_FILEFLARE_KEY", default="ffsk_demo_4b1d9e6c2a7f4e0b8d3c5a1f")
SANDBOX_DOWNLOADS_TOKEN = env.str("SANDBOX_DOWNLOADS_TOKEN", default="ecdt_demo_7e2a91c4d8b34f6a")
SANDBOX_DOWNLOADS_SECRET = env.str("SANDBOX_DOWNLOADS_SECRET", default="ecds_demo_3f5b8c1e")
SANDBOX_RATE_LIMIT = env.int("SANDBOX_RATE_LIMIT", default=60)
SANDBOX_EMAIL_RATE_LIMIT = env.int("SANDBOX_EMAIL_RATE_LIMIT", default=30)
SANDBOX_LATENCY_MS = env.int("SANDBOX_LATENCY_MS", default=0)
SANDBOX_ERROR_RATE = env.float("SANDBOX_ERROR_RATE", default=0.0)
SANDBOX_HANG_RATE = env.float("SANDBOX_HANG_RATE", default=0.0)
SANDBOX_MALFORMED_RATE = env.float("SANDBOX_MALFORMED_RATE", default=0.0)
SANDBOX_HANG_SECONDS = env.float("SANDBOX_HANG_SECONDS", default=30.0)
# The downloads API: "documented" rows (numbers, booleans, is_amazon) or "wpdb" rows (strings,
# is_amazon_download); the MySQL connection's time zone date_created is rendered in.
SANDBOX_DOWNLOADS_ROWS = env.str("SANDBOX_DOWNLOADS_ROWS", default="documented")
SANDBOX_DOWNLOADS_TIMEZONE = env.str("SANDBOX_DOWNLOADS_TIMEZONE", default="UTC")
# The shop's downloads over time (sandbox.trickle): a step every this many seconds; 0 (the default, and in
# tests) leaves it off. `make run` sets 5. SANDBOX_TRICKLE_SEED draws the steps.
SANDBOX_TRICKLE_SECONDS = env.float("SANDBOX_TRICKLE_SECONDS", default=0.0)
SANDBOX_TRICKLE_SEED = env.int("SANDBOX_TRICKLE_SEED", default=1050)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s sandbox %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"sandbox": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
