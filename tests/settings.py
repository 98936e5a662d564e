"""The dashboard's settings for the test run: the real ones, with a password hasher made for speed.

Every test that signs someone in hashes a password; PBKDF2's 1,000,000 rounds are what a real server
needs and what a test suite does not.
"""

from fileflare_admin.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The task worker that tests of background work start (tests/jobs, tests/order_index) is another
# process: on SQLite it can share the test database only through a file (Django's default test database
# lives in memory). One file per test run, so runs side by side never meet.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"ffa-test-{os.getpid()}.sqlite3")
    }
    # A test database is thrown away after the run: no need to wait for the disk on every commit.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (  # noqa: F405
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
    )

# The sandbox served inside the test process (tests/support/inprocess.py): its tables in a SQLite file of
# this process, never in the dashboard's database; pytest-django neither creates nor empties it.
import os  # noqa: E402
import tempfile  # noqa: E402

from sandbox import settings as _sandbox  # noqa: E402

DATABASES["sandbox"] = {  # noqa: F405
    "ENGINE": "tests.support.sandboxdb",
    "NAME": os.path.join(tempfile.gettempdir(), f"ffa-sandbox-{os.getpid()}.sqlite3"),
    "OPTIONS": {
        "timeout": 20,  # as sandbox.settings: threads wait for the lock instead of failing
        # Thrown away after the run, as the test database: no waiting for the disk on every commit.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;",
    },
}
DATABASE_ROUTERS = ["tests.support.inprocess.SandboxDatabaseRouter", *DATABASE_ROUTERS]  # noqa: F405
# The sandbox's own settings, as its process reads them from the environment; the credentials and the
# rate limits are what the test fixtures give a sandbox process (tests/conftest.py).
SANDBOX_FILEFLARE_KEY = "test-fileflare-key-5d2c"
SANDBOX_DOWNLOADS_TOKEN = "test-downloads-token-8a1f"
SANDBOX_DOWNLOADS_SECRET = "test-downloads-secret-3e9b"
SANDBOX_RATE_LIMIT = 0
SANDBOX_EMAIL_RATE_LIMIT = 0
SANDBOX_LATENCY_MS = _sandbox.SANDBOX_LATENCY_MS
SANDBOX_ERROR_RATE = _sandbox.SANDBOX_ERROR_RATE
SANDBOX_HANG_RATE = _sandbox.SANDBOX_HANG_RATE
SANDBOX_MALFORMED_RATE = _sandbox.SANDBOX_MALFORMED_RATE
SANDBOX_HANG_SECONDS = _sandbox.SANDBOX_HANG_SECONDS
SANDBOX_DOWNLOADS_ROWS = _sandbox.SANDBOX_DOWNLOADS_ROWS
SANDBOX_DOWNLOADS_TIMEZONE = _sandbox.SANDBOX_DOWNLOADS_TIMEZONE

# No shop default limit unless a test sets one (the demo's 10 would flag seeded records in every test).
SHOP_DOWNLOAD_LIMIT = None
