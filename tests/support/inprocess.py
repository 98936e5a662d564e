"""The sandbox inside the test process: the same rules, no socket, no second process.

A `requests` transport adapter hands every request for BASE_URL to the sandbox's own middleware and URLs
(sandbox.settings' MIDDLEWARE and ROOT_URLCONF), which answer from the sandbox's own tables in a SQLite
file of this process (the "sandbox" alias of tests/settings.py, which SandboxDatabaseRouter sends them
to). Each request is served on a thread of the stand-in's pool, as the real sandbox serves each on a
thread of its own: those threads hold their own database connections, so what pytest-django allows or
forbids the test itself (its database blocker, its wrapping of undeclared aliases) does not reach them,
and the test waits for the answer only as long as its read timeout says (a hang fault then ends in
requests' ReadTimeout, as over a socket).

The database is migrated and seeded once and kept as a template file beside the test databases, named by
a digest of what makes it (the sandbox's models, migrations and seed), so later runs copy it in
milliseconds instead of seeding for seconds.

tests/conftest.py's `sandbox` fixture gives this stand-in to every test but the outer ring's (browsers,
workers, gunicorn, nginx, the launcher itself), which talk to a real sandbox process over a socket.
"""

from __future__ import annotations

import concurrent.futures
import email.message
import hashlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import urllib.error
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit
from wsgiref.handlers import format_date_time
from wsgiref.simple_server import software_version

import django
import requests
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIRequest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponseBase
from django.urls import set_urlconf
from django.utils.module_loading import import_string
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from sandbox import settings as sandbox_settings
from sandbox import state
from sandbox.client import NO_FAULTS
from sandbox.launcher import Credentials, SandboxApis

HOST = "sandbox.inprocess"  # no such name resolves: only this process knows it
BASE_URL = f"http://{HOST}"
ALIAS = "sandbox"  # the database alias of the sandbox's tables (tests/settings.py)
APP = "sandbox"
SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"
# Threads are made as needed; a hang fault holds one for SANDBOX_HANG_SECONDS (the real sandbox serves
# each request on a thread of its own).
SERVING_THREADS = 64


class SandboxDatabaseRouter:
    """The sandbox app's tables in the sandbox alias, and nothing else there."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return ALIAS if model._meta.app_label == APP else None

    db_for_write = db_for_read

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if db == ALIAS:
            return app_label == APP
        return None  # elsewhere: sandbox.routers.SandboxRouter keeps the sandbox out


class _Request(WSGIRequest):
    def get_host(self) -> str:
        """Any host, as the sandbox's ALLOWED_HOSTS = ["*"] allows (the dashboard's settings do not)."""
        return self._get_raw_host()


class _Handler(BaseHandler):
    """Django's request handling with the sandbox process's middleware and URLs, not the dashboard's."""

    def __init__(self) -> None:
        super().__init__()
        self._view_middleware: list[Callable[..., Any]] = []
        self._template_response_middleware: list[Callable[..., Any]] = []
        self._exception_middleware: list[Callable[..., Any]] = []
        chain = convert_exception_to_response(self._get_response)
        for path in reversed(sandbox_settings.MIDDLEWARE):
            chain = convert_exception_to_response(import_string(path)(chain))
        self._middleware_chain = chain

    def serve(self, environ: dict[str, Any]) -> tuple[HttpResponseBase, bytes]:
        request: HttpRequest = _Request(environ)
        request.urlconf = sandbox_settings.ROOT_URLCONF
        set_urlconf(request.urlconf)
        try:
            answer = self._middleware_chain(request)
            content = b"".join(answer.streaming_content) if answer.streaming else answer.content  # type: ignore[attr-defined]
        finally:
            set_urlconf(None)
        return answer, b"" if environ["REQUEST_METHOD"] == "HEAD" else content


def _environ(prepared: requests.PreparedRequest) -> dict[str, Any]:
    """What a WSGI server makes of the request (wsgiref's way, as `runsandbox` serves it)."""
    parts = urlsplit(prepared.url or "")
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, bytes):
        body = b"".join(body)  # type: ignore[arg-type]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": prepared.method or "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("iso-8859-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "",
        "SERVER_PORT": str(parts.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": parts.netloc,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in prepared.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        elif key not in ("CONTENT_LENGTH", "HOST"):
            environ[f"HTTP_{key}"] = value
    return environ


def _read_timeout(timeout: Any) -> float | None:
    return timeout[1] if isinstance(timeout, tuple) else timeout


class SandboxAdapter(BaseAdapter):
    """requests' transport to the in-process sandbox: a PreparedRequest in, a requests.Response out."""

    def __init__(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        super().__init__()
        self.pool = pool
        self.handler = _Handler()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        started = time.monotonic()
        served = self.pool.submit(self.handler.serve, _environ(request))
        try:
            answer, content = served.result(timeout=_read_timeout(timeout))
        except concurrent.futures.TimeoutError:
            raise requests.exceptions.ReadTimeout(
                f"The in-process sandbox did not answer within {_read_timeout(timeout)} s.", request=request
            ) from None
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.reason_phrase
        response.headers = CaseInsensitiveDict(dict(answer.items()))
        # What the sandbox's WSGI server adds on the way out (wsgiref, as `runsandbox` serves).
        response.headers.setdefault("Date", format_date_time(time.time()))
        response.headers.setdefault("Server", software_version)
        response.headers.setdefault("Content-Length", str(len(content)))
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = io.BytesIO(content)
        response._content = content
        response._content_consumed = True  # type: ignore[attr-defined]
        response.url = request.url or ""
        response.request = request
        response.connection = self  # type: ignore[attr-defined]
        response.elapsed = timedelta(seconds=time.monotonic() - started)
        return response

    def close(self) -> None:
        pass


def _template_name() -> str:
    """Names what the seeded database is made of: when any of it changes, the template is made again."""
    digest = hashlib.sha256(django.get_version().encode())
    for source in sorted(
        [SANDBOX / "models.py", SANDBOX / "seed.py", *(SANDBOX / "migrations").glob("*.py")]
    ):
        digest.update(source.name.encode() + source.read_bytes())
    return f"ffa-sandbox-template-{digest.hexdigest()[:16]}.sqlite3"


def _migrate_and_seed() -> None:
    from sandbox import seed

    connection = connections[ALIAS]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes(APP))
    seed.seed()
    connection.close()


def _prepare_database(pool: concurrent.futures.ThreadPoolExecutor) -> None:
    """The sandbox alias's file, seeded: a copy of the template, made first when there is none."""
    database = Path(settings.DATABASES[ALIAS]["NAME"])
    template = Path(tempfile.gettempdir()) / _template_name()
    database.unlink(missing_ok=True)
    if not template.exists():
        pool.submit(_migrate_and_seed).result()
        making = template.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(database, making)
        os.replace(making, template)  # whole or not at all, even with two test processes making it
    else:
        shutil.copyfile(template, database)


class InProcessSandbox(SandboxApis):
    """The sandbox at BASE_URL, served in this process; the same interface as a sandbox process."""

    def __init__(self, credentials: Credentials, log_path: Path | None) -> None:
        super().__init__(BASE_URL, credentials, log_path)
        self.pool = concurrent.futures.ThreadPoolExecutor(SERVING_THREADS, thread_name_prefix="sandbox")
        self.adapter = SandboxAdapter(self.pool)
        self.session = requests.Session()
        self.session.mount(BASE_URL, self.adapter)
        self._logging = _LogTo(log_path)
        self._get_adapter = requests.Session.get_adapter

    def route_every_session(self) -> None:
        """Every requests.Session of this process, made before or after, sends BASE_URL's requests here
        (the dashboard's per-thread sessions, tests' own, requests.get)."""
        original, adapter = self._get_adapter, self.adapter

        def get_adapter(session: requests.Session, url: str) -> BaseAdapter:
            return (
                adapter if urlsplit(url).netloc.rpartition("@")[2].lower() == HOST else original(session, url)
            )

        requests.Session.get_adapter = get_adapter  # type: ignore[method-assign]

    def call(self, path: str, payload: Any = None, *, method: str | None = None) -> Any:
        """As SandboxClient.call, through the adapter: raises urllib.error.HTTPError on a 4xx/5xx answer."""
        response = self.session.request(
            method or ("POST" if payload is not None else "GET"),
            f"{self.url}{path}",
            data=json.dumps(payload).encode() if payload is not None else None,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            headers = email.message.Message()
            for name, value in response.headers.items():
                headers[name] = value
            raise urllib.error.HTTPError(
                response.url, response.status_code, response.reason, headers, io.BytesIO(response.content)
            )
        return json.loads(response.content or b"null")

    def reset_faults(self) -> None:
        """As SandboxClient.reset_faults, without three requests: what its /_sandbox/ views would do, done
        straight on the sandbox's state (every test ends with it)."""
        state.reset_config()
        state.update_config(NO_FAULTS)
        state.reset_limits()

    def stop(self, timeout: float = 5) -> None:
        from sandbox.middleware import stopping

        requests.Session.get_adapter = self._get_adapter  # type: ignore[method-assign]
        stopping.set()  # hanging requests end at once, as when the process stops
        self.pool.shutdown(wait=True, cancel_futures=True)
        stopping.clear()
        self.session.close()
        self._logging.close()
        database = settings.DATABASES[ALIAS]["NAME"]
        for name in (database, f"{database}-wal", f"{database}-shm"):
            Path(name).unlink(missing_ok=True)


class _LogTo:
    """The sandbox's one line a request, into `log_path` in its own format (as its process writes it)."""

    def __init__(self, log_path: Path | None) -> None:
        self.logger = logging.getLogger("sandbox")
        self.saved = (self.logger.level, self.logger.propagate)
        self.handler: logging.Handler | None = None
        if log_path is not None:
            self.handler = logging.FileHandler(log_path)
            self.handler.setFormatter(logging.Formatter("%(asctime)s sandbox %(message)s"))
            self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False  # the dashboard's own log (and caplog) never sees the sandbox's

    def close(self) -> None:
        if self.handler is not None:
            self.logger.removeHandler(self.handler)
            self.handler.close()
        self.logger.setLevel(self.saved[0])
        self.logger.propagate = self.saved[1]


def upstream_settings(sandbox: SandboxApis) -> dict[str, Any]:
    """The dashboard's settings for talking to this sandbox (in this process or another), with budgets
    that do not get in the way: every test's (tests/conftest.py) and bench.profile's."""
    return {
        "FILEFLARE_API_URL": sandbox.fileflare_url,
        "FILEFLARE_API_KEY": sandbox.key,
        "DOWNLOADS_API_URL": sandbox.downloads_url,
        "DOWNLOADS_API_TOKEN": sandbox.token,
        "FILEFLARE_BUDGET_PER_MINUTE": 100_000,
        "FILEFLARE_EMAIL_BUDGET_PER_MINUTE": 100_000,
        "DOWNLOADS_BUDGET_PER_MINUTE": 0,
        "UPSTREAM_RETRIES": 2,
        "UPSTREAM_BACKOFF": 0.05,
    }


def start_inprocess(*, credentials: Credentials, log_path: Path | None = None) -> InProcessSandbox:
    """The stand-in, seeded and answering; every requests.Session of this process reaches it at BASE_URL
    until it stops."""
    stand_in = InProcessSandbox(credentials, log_path)
    _prepare_database(stand_in.pool)
    stand_in.route_every_session()
    return stand_in
