"""The one way to run a sandbox process: on a port, with its own database, credentials and settings;
wait until it answers; stop it. Used by the tests' `sandbox` fixture, `bench/` and `make run`.

Standard library only: the process runs under `sandbox.settings`, never inside the caller's Django.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sandbox.client import SandboxClient

PROJECT = Path(__file__).resolve().parent.parent
MANAGE_PY = PROJECT / "manage.py"


@dataclass(frozen=True)
class Credentials:
    """What the sandbox accepts: Fileflare's bearer key, the downloads API's token and (for basic) secret."""

    key: str
    token: str
    secret: str


# The demo's own credentials (documented in sandbox/README.md: they open nothing but the sandbox).
DEMO_CREDENTIALS = Credentials(
    key="ffsk_demo_4b1d9e6c2a7f4e0b8d3c5a1f",
    token="ecdt_demo_7e2a91c4d8b34f6a",  # noqa: S106 (a demo value that opens only the sandbox)
    secret="ecds_demo_3f5b8c1e",  # noqa: S106 (likewise)
)


class SandboxFailed(RuntimeError):
    """The sandbox exited before answering, or did not answer in time (the message ends with its log)."""


# Ports this process has handed out from its PORT_RANGE (see free_port).
_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a server about to start.

    A port is only chosen here; the server binds it later (a sandbox after seeding its database, seconds
    on). Processes side by side that each ask the kernel for one can be handed the same port in between,
    and one of them then talks to the other's server. With PORT_RANGE="START-END" in the environment (the
    test suite gives each of its processes its own), ports come from that range, each handed out once
    until the range is used up; without it, the kernel picks."""
    bounds = os.environ.get("PORT_RANGE", "")
    if not bounds:
        with socket.socket() as sock:
            sock.bind((host, 0))
            return int(sock.getsockname()[1])
    start, end = (int(bound) for bound in bounds.split("-"))
    with _handed_out_lock:
        for _ in range(2):
            for port in range(start, end):
                if port not in _handed_out and _port_free(host, port):
                    _handed_out.add(port)
                    return port
            _handed_out.clear()  # all handed out: the servers of long-finished tests have let theirs go
    raise OSError(f"No free port between {start} and {end}.")


def _port_free(host: str, port: int) -> bool:
    """Whether a server could listen on `port` now. The check binds as the servers do (Django's
    runserver and the sandbox set SO_REUSEADDR, as every socketserver.TCPServer does): connections of
    a stopped server that linger in TIME-WAIT for a minute do not keep it from starting again, while a
    server still listening there does."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class SandboxApis(SandboxClient):
    """A sandbox at `url`: where its two APIs are, the credentials it accepts, its log, its controls."""

    def __init__(self, url: str, credentials: Credentials, log_path: Path | None) -> None:
        super().__init__(url)
        self.credentials = credentials
        self.log_path = log_path

    @property
    def key(self) -> str:
        return self.credentials.key

    @property
    def token(self) -> str:
        return self.credentials.token

    @property
    def secret(self) -> str:
        return self.credentials.secret

    @property
    def fileflare_url(self) -> str:
        return f"{self.url}/api"

    @property
    def downloads_url(self) -> str:
        return f"{self.url}/easycart"

    def log(self) -> str:
        """What it has written so far ("" when it writes to the terminal)."""
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""


class Sandbox(SandboxApis):
    """A running sandbox process, and its control endpoints (see SandboxClient)."""

    def __init__(
        self, url: str, credentials: Credentials, process: subprocess.Popen[bytes], log_path: Path | None
    ) -> None:
        super().__init__(url, credentials, log_path)
        self.process = process

    def wait_until_ready(self, timeout: float = 180) -> "Sandbox":
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None:
                raise SandboxFailed(f"The sandbox exited before answering.\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise SandboxFailed(
                    f"The sandbox did not answer within {timeout:.0f} s.\n{self.log()[-4000:]}"
                )
            time.sleep(0.1)
        return self

    def stop(self, timeout: float = 5) -> None:
        """Ask it to stop (as Ctrl-C would), then kill it if it has not within `timeout` seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    database: Path | None = None,
    credentials: Credentials | None = None,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    wait: bool = True,
    timeout: float = 180,
) -> Sandbox:
    """Start `manage.py runsandbox` (it migrates and seeds an empty database first).

    `database`: a SQLite file (default: SANDBOX_DATABASE_URL or sandbox.sqlite3). `credentials`: what it
    accepts (default: the environment's, else the demo's). `env`: more SANDBOX_* settings. `log_path`:
    where its output goes (default: this terminal). `wait`: return only once it answers.
    """
    port = port or free_port(host)
    if not _port_free(host, port):
        raise SandboxFailed(
            f"Port {port} on {host} is already in use: stop what runs there or choose another port."
        )
    credentials = credentials or Credentials(
        key=os.environ.get("SANDBOX_FILEFLARE_KEY", DEMO_CREDENTIALS.key),
        token=os.environ.get("SANDBOX_DOWNLOADS_TOKEN", DEMO_CREDENTIALS.token),
        secret=os.environ.get("SANDBOX_DOWNLOADS_SECRET", DEMO_CREDENTIALS.secret),
    )
    child_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sandbox.settings",
        "SANDBOX_FILEFLARE_KEY": credentials.key,
        "SANDBOX_DOWNLOADS_TOKEN": credentials.token,
        "SANDBOX_DOWNLOADS_SECRET": credentials.secret,
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    if database is not None:
        child_env["SANDBOX_DATABASE_URL"] = f"sqlite:///{database}"
    output: IO[bytes] | None = log_path.open("wb") if log_path else None
    try:
        process = subprocess.Popen(  # noqa: S603 (our own manage.py, no shell)
            [sys.executable, str(MANAGE_PY), "runsandbox", f"{host}:{port}"],
            cwd=PROJECT,
            env=child_env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
    finally:
        if output:
            output.close()
    sandbox = Sandbox(f"http://{host}:{port}", credentials, process, log_path)
    return sandbox.wait_until_ready(timeout) if wait else sandbox
