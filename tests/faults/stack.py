"""The production-like stack of `make bench` (Redis, the sandbox, the dashboard under gunicorn with 2
workers of 4 threads and DEBUG=0), the upstream deadlines shortened so a fault costs a test seconds, and
the switches a fault test needs: stop, restart or stall Redis; hang or break the upstreams; lock or hide
the dashboard's database. `Visitor` is a signed-in person who reads pages and sends the forms they show."""

from __future__ import annotations

import html
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import requests

from bench.stack import Stack
from tests.faults.redis_server import RedisServer

DEADLINE = 3.0  # UPSTREAM_PAGE_DEADLINE on this stack
STALE_WAIT = 1.0  # UPSTREAM_STALE_WAIT
CACHE_TTL = 1  # UPSTREAM_CACHE_TTL: saved copies stop being fresh quickly, so a fault shows them "as of"
SERVER_ERROR = "Something went wrong on our side"


@dataclass
class FaultStack(Stack):
    latency_ms: int = 0
    redis: RedisServer = field(default_factory=RedisServer)
    redis_stalled: bool = False

    def dashboard_env(self) -> dict[str, str]:
        return {
            **super().dashboard_env(),
            "UPSTREAM_PAGE_DEADLINE": str(DEADLINE),
            "UPSTREAM_STALE_WAIT": str(STALE_WAIT),
            "UPSTREAM_CACHE_TTL": str(CACHE_TTL),
            "UPSTREAM_READ_TIMEOUT": "10",
            "UPSTREAM_BACKOFF": "0.1",
            "UPSTREAM_BREAKER_FAILURES": "3",
            "UPSTREAM_BREAKER_SECONDS": "5",
            "CACHE_CONNECT_TIMEOUT": "0.25",
            "CACHE_TIMEOUT": "0.25",
            "CACHE_RETRY_SECONDS": "1",
            "WEB_CONCURRENCY": str(self.workers),
            "WEB_THREADS": str(self.threads),
            # The budget has its own tests; here it must not be what a page runs into.
            "FILEFLARE_BUDGET_PER_MINUTE": "100000",
            "FILEFLARE_EMAIL_BUDGET_PER_MINUTE": "100000",
            # A new connection a request, so a database moved away is noticed at once; a locked one is
            # given up on after 2 s (SQLite's own default is 5 s).
            "CONN_MAX_AGE": "0",
            "DATABASE_URL": f"sqlite:///{self.folder / 'dashboard.sqlite3'}?timeout=2",
            "LOG_LEVEL": "WARNING",
            # Set up for a TLS proxy at 10.9.9.9, while the tests reach the app directly: whatever they
            # put in X-Forwarded-For must not count (issue 14: 20 guesses with a fresh address each).
            "TRUST_X_FORWARDED_PROTO": "1",
            "TRUSTED_PROXY_COUNT": "1",
            "TRUSTED_PROXIES": "10.9.9.9",
        }

    def start(self) -> FaultStack:
        super().start()
        started = next(process for process in self.processes if "redis-server" in str(process.args))
        self.redis = RedisServer(self.redis_port, self.folder / "redis.log").adopt(started)
        self.calm()
        return self

    def stop(self) -> None:
        self.redis.stop()
        super().stop()

    # --- faults -------------------------------------------------------------------------------------
    def calm(self) -> None:
        """No fault anywhere, nothing saved (cache and order index), no breaker open, no rate limit at the
        sandbox."""
        assert self.sandbox is not None
        self.sandbox.reset_faults()
        redis_was_down = self.redis.process is None or self.redis.process.poll() is not None
        if redis_was_down:
            self.restart_redis()
        self.redis.resume()
        self.redis.flush()
        self.forget_index()
        if redis_was_down or self.redis_stalled:
            time.sleep(1.2)  # CACHE_RETRY_SECONDS: every worker is back on Redis
        self.redis_stalled = False

    def forget_index(self) -> None:
        """Nothing saved means the order index too: every order page read fresh notes its order there
        (orders_index), and a search answered from the index would meet no fault at all."""
        with sqlite3.connect(self.database, timeout=5) as connection:
            connection.execute("DELETE FROM orders_index_indexedorder")

    def stall_redis(self) -> None:
        self.redis.stall()
        self.redis_stalled = True

    def upstream(self, **faults: Any) -> None:
        assert self.sandbox is not None
        self.sandbox.config(**faults)

    def reset_breakers(self) -> None:
        """A fresh start for the next measurement: every worker waits on the upstream again."""
        import redis

        client = redis.Redis(port=self.redis_port)
        keys = list(client.scan_iter("*ffa:breaker*"))
        if keys:
            client.delete(*keys)

    def restart_redis(self) -> None:
        self.redis.stop()
        self.processes = [process for process in self.processes if "redis-server" not in str(process.args)]
        self.redis.start()
        assert self.redis.process is not None
        self.processes.insert(0, self.redis.process)

    @property
    def database(self) -> str:
        return str(self.folder / "dashboard.sqlite3")

    @contextmanager
    def database_locked(self) -> Iterator[None]:
        """Another process holds the dashboard database's write lock (reads still work in WAL mode)."""
        connection = sqlite3.connect(self.database, timeout=1, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()

    @contextmanager
    def database_missing(self) -> Iterator[None]:
        """The dashboard database file is gone (the next connection finds an empty one)."""
        names = [self.database + suffix for suffix in ("", "-wal", "-shm")]
        for name in names:
            if os.path.exists(name):
                shutil.move(name, name + ".away")
        try:
            yield
        finally:
            # A worker's bookkeeping after its response (deadline.once_sent, deadline.later) may still be
            # writing the stand-in file: swapping the files under it left a WAL that no longer matched its
            # database ("disk I/O error" for every later connection, seen twice on clean clones).
            time.sleep(0.5)
            for name in names:
                if os.path.exists(name):
                    os.remove(name)
                if os.path.exists(name + ".away"):
                    shutil.move(name + ".away", name)

    # --- people ---------------------------------------------------------------------------------------
    def visitor(self) -> Visitor:
        return Visitor(self.dashboard_url, self.login())


# --- a person with a browser that does not run scripts ---------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower(), {}))
        elif not self.forms or "name" not in values:
            return
        elif tag == "input":
            kind = values.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in values:
                return
            if kind not in ("submit", "button", "file"):
                default = "on" if kind == "checkbox" else ""
                self.forms[-1].fields[values["name"]] = values.get("value", default)
        elif tag == "textarea":
            self._textarea = values["name"]
            self.forms[-1].fields[self._textarea] = ""
        elif tag == "select":
            self.forms[-1].fields[values["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


def forms_in(page: str) -> list[Form]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


@dataclass
class Answer:
    status: int
    seconds: float
    text: str
    headers: dict[str, str]

    @property
    def words(self) -> str:
        """The page's text as a person reads it: tags gone, entities read, spaces collapsed."""
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", self.text)).split())

    def says(self, sentence: str) -> bool:
        return sentence in self.words


@dataclass
class Visitor:
    base: str
    session: requests.Session

    def get(self, path: str, **headers: str) -> Answer:
        started = time.monotonic()
        response = self.session.get(f"{self.base}{path}", headers=headers, timeout=60, allow_redirects=False)
        return Answer(response.status_code, time.monotonic() - started, response.text, dict(response.headers))

    def form(self, path: str, action_ends: str) -> Form:
        """The form on `path` whose action ends with `action_ends` (read before the fault begins)."""
        page = self.get(path)
        assert page.status == 200, (path, page.status)
        for form in forms_in(page.text):
            form.action = form.action or path
            if form.action.split("?")[0].endswith(action_ends) and form.method == "post":
                return form
        raise AssertionError(f"No form sending to …{action_ends} on {path}")

    def send(self, form: Form, **changes: str) -> Answer:
        data = {**form.fields, **changes}
        started = time.monotonic()
        response = self.session.post(
            f"{self.base}{form.action}",
            data=data,
            headers={"Referer": f"{self.base}{form.action}"},
            timeout=60,
            allow_redirects=False,
        )
        return Answer(response.status_code, time.monotonic() - started, response.text, dict(response.headers))
