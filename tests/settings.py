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
