"""The real task worker (`manage.py background_worker`: django-tasks-db's `db_worker`, or the RQ worker
with TASKS_BACKEND=rq, keeping its chains alive by itself) as a process beside the test.

It reads and writes the test database (a file on SQLite, see tests/settings.py; the test database on
PostgreSQL) and talks to the test sandbox, exactly as a deployed worker talks to its database and the
upstreams. Tests that use it need `transactional_db`: what they write must be committed to be seen.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection

from tests.conftest import Sandbox

PROJECT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database, as a DATABASE_URL the worker's settings read."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgres://{credentials}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_env(sandbox: Sandbox, **settings: Any) -> dict[str, str]:
    """The worker's environment: the test database, the test sandbox (as the demo would point at it), a
    short lease and a keep-alive every second, so a stopped worker's job is taken over within seconds by
    the next worker alone, and any other setting given."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "SANDBOX_URL": sandbox.url,
        "SANDBOX_FILEFLARE_KEY": sandbox.key,
        "SANDBOX_DOWNLOADS_TOKEN": sandbox.token,
        # Its own memory, sized like the demo's: a page of 1,000 orders keeps ~2,000 entries.
        "CACHE_URL": "locmemcache://worker?max_entries=50000",
        "TASKS_BACKEND": "database",
        "FILEFLARE_BUDGET_PER_MINUTE": "100000",
        "FILEFLARE_EMAIL_BUDGET_PER_MINUTE": "100000",
        "BULK_DOWNLOADS_BUDGET_PER_MINUTE": "100000",
        "BULK_FILEFLARE_BUDGET_PER_MINUTE": "100000",
        "BULK_EMAIL_BUDGET_PER_MINUTE": "100000",
        "ORDER_SYNC_BUDGET_PER_MINUTE": "100000",
        "UPSTREAM_BACKOFF": "0.05",
        "BACKGROUND_LEASE_SECONDS": "4",
        "BACKGROUND_KEEPALIVE_SECONDS": "1",
        # The count snapshots read every record: off unless a test asks (they would spend the bulk share).
        "SNAPSHOT_FULL_EVERY_SECONDS": "0",
        "SNAPSHOT_RECENT_EVERY_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("FILEFLARE_API_URL", "FILEFLARE_API_KEY", "DOWNLOADS_API_URL", "DOWNLOADS_API_TOKEN"):
        env.pop(name, None)  # the demo's way: everything from SANDBOX_URL and the sandbox's keys
    env.update({name: str(value) for name, value in settings.items()})
    return env


# What deploy/Procfile's worker runs; after `--`, options for django-tasks-db's db_worker.
DB_WORKER = ["background_worker", "--", "--no-startup-delay", "--interval", "0.2"]
# What each machine of a many-machine deployment runs (with TASKS_BACKEND=rq: the RQ worker).
RQ_WORKER = ["background_worker"]


@dataclass
class Worker:
    """One worker process (on the database backend unless told otherwise); start it again after a stop to
    see a job survive a restart."""

    env: dict[str, str]
    log_path: Path
    command: list[str] = field(default_factory=lambda: list(DB_WORKER))
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _logs: list[str] = field(default_factory=list)

    def start(self) -> Worker:
        self.starts += 1
        name = f"test-worker-{os.getpid()}-{self.starts}"
        named = ["--worker-id", name] if self.command == DB_WORKER else []
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(PROJECT / "manage.py"), *self.command, *named],
                cwd=PROJECT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def stop(self, timeout: float = 30) -> None:
        """As Ctrl-C: the worker finishes the step it is running, then exits."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """As a crashed machine: no chance to finish anything."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
        """Poll `check` until it returns something true; fail with the worker's log otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"The worker exited while waiting for {what}:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                log = self.log()[-4000:]
                raise AssertionError(f"Not within {timeout:.0f} s: {what}.\nThe worker's log:\n{log}")
            time.sleep(0.1)
