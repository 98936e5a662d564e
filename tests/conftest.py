"""Fixtures every test shares: the sandbox on a real socket, upstream settings, staff accounts."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

PROJECT = Path(__file__).resolve().parent.parent

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run beside one
# unless told that the loop is not ours to share.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

TEST_PASSWORD = "correct-horse-battery-staple-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _json_request(url: str, payload: dict[str, Any] | None = None, method: str | None = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(  # noqa: S310 (loopback sandbox)
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


@dataclass
class Sandbox:
    """A running sandbox process and the sandbox-only control endpoints tests use."""

    url: str
    key: str
    token: str
    secret: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def fileflare_url(self) -> str:
        return f"{self.url}/api"

    @property
    def downloads_url(self) -> str:
        return f"{self.url}/easycart"

    def config(self, **changes: Any) -> dict[str, Any]:
        if not changes:
            return _json_request(f"{self.url}/_sandbox/config")
        return _json_request(f"{self.url}/_sandbox/config", changes, method="POST")

    def reset_faults(self) -> None:
        self.config(
            latency_ms=0, error_rate=0, hang_rate=0, malformed_rate=0, rate_limit=0, email_rate_limit=0
        )
        _json_request(f"{self.url}/_sandbox/reset-limits", {}, method="POST")

    def customer(self, order_number: int) -> dict[str, Any]:
        return _json_request(f"{self.url}/_sandbox/orders/{order_number}")

    def outbox(self) -> list[dict[str, Any]]:
        return _json_request(f"{self.url}/_sandbox/outbox")

    def create_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        return _json_request(f"{self.url}/_sandbox/orders", payload, method="POST")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    folder = tmp_path_factory.mktemp("sandbox")
    port = free_port()
    key, token, secret = "test-fileflare-key-5d2c", "test-downloads-token-8a1f", "test-downloads-secret-3e9b"
    env = {
        **os.environ,
        "SANDBOX_DATABASE_URL": f"sqlite:///{folder / 'sandbox.sqlite3'}",
        "SANDBOX_FILEFLARE_KEY": key,
        "SANDBOX_DOWNLOADS_TOKEN": token,
        "SANDBOX_DOWNLOADS_SECRET": secret,
        "SANDBOX_RATE_LIMIT": "0",
        "SANDBOX_EMAIL_RATE_LIMIT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = folder / "sandbox.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT / "manage.py"), "runsandbox", f"127.0.0.1:{port}"],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Sandbox(f"http://127.0.0.1:{port}", key, token, secret, process, log_path)
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            pytest.fail(f"The sandbox exited before answering:\n{running.log()[-4000:]}")
        try:
            running.config()
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"The sandbox did not answer within 180 s:\n{running.log()[-4000:]}")
            time.sleep(0.25)
    yield running
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(autouse=True)
def _upstream_settings(settings: LazySettings, sandbox: Sandbox) -> Iterator[None]:
    """Every test talks to the test sandbox, with a clean cache and budgets that do not get in the way."""
    settings.FILEFLARE_API_URL = sandbox.fileflare_url
    settings.FILEFLARE_API_KEY = sandbox.key
    settings.DOWNLOADS_API_URL = sandbox.downloads_url
    settings.DOWNLOADS_API_TOKEN = sandbox.token
    settings.FILEFLARE_BUDGET_PER_MINUTE = 100_000
    settings.FILEFLARE_EMAIL_BUDGET_PER_MINUTE = 100_000
    settings.DOWNLOADS_BUDGET_PER_MINUTE = 0
    settings.UPSTREAM_RETRIES = 2
    settings.UPSTREAM_BACKOFF = 0.05
    cache.clear()
    yield
    cache.clear()
    sandbox.reset_faults()


def _make_user(username: str, group: str | None, **extra: Any) -> User:
    user = User.objects.create_user(username=username, password=TEST_PASSWORD, **extra)
    if group:
        # get_or_create: transactional (browser) tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def support_user(db: None) -> User:
    return _make_user("sam-support", "Support")


@pytest.fixture
def merchant_user(db: None) -> User:
    return _make_user("mia-merchant", "Merchant")


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_superuser("ada-admin", password=TEST_PASSWORD, email="")


@pytest.fixture
def support_client(support_user: User) -> Client:
    client = Client()
    client.force_login(support_user)
    return client


@pytest.fixture
def merchant_client(merchant_user: User) -> Client:
    client = Client()
    client.force_login(merchant_user)
    return client


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client
