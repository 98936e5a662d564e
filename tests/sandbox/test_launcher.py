"""One launcher for the sandbox (tests, bench, `make run`), its root page, and Ctrl-C on `make run`."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from sandbox.client import SandboxClient
from sandbox.launcher import PROJECT, SandboxFailed, free_port, start_sandbox
from tests.conftest import Sandbox
from tests.support.waiting import wait_until


@pytest.fixture
def sandbox(sandbox_process: Sandbox) -> Sandbox:
    """The launcher's tests are about the sandbox process itself (its port, its start)."""
    return sandbox_process


def test_the_root_page_lists_the_sandbox_pages_and_every_link_answers(sandbox: Sandbox) -> None:
    page = requests.get(f"{sandbox.url}/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', page.text)
    for wanted in ("/_sandbox/outbox/view/", "/_sandbox/config", "/_sandbox/stats", "/_sandbox/orders/1050"):
        assert wanted in links
    assert any("customer-account-orders?id=0c732eb6fd9802a0821a9d29888baee8" in link for link in links)
    for link in links:
        assert requests.get(f"{sandbox.url}{link.replace('&amp;', '&')}", timeout=10).status_code == 200, link


def test_a_sandbox_that_cannot_start_says_why(sandbox: Sandbox, tmp_path: Path) -> None:
    taken = int(sandbox.url.rsplit(":", 1)[1])  # the session's sandbox holds this port
    with pytest.raises(SandboxFailed, match=f"Port {taken} on 127.0.0.1 is already in use"):
        start_sandbox(port=taken, database=tmp_path / "sandbox.sqlite3", log_path=tmp_path / "log")
    broken = {"SANDBOX_DATABASE_URL": "not-a-database-url://"}
    with pytest.raises(SandboxFailed, match="exited before answering"):
        start_sandbox(env=broken, log_path=tmp_path / "log", timeout=60)


def _wait_for(path: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert process.poll() is None, path.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, path.read_text(errors="replace")[-3000:]
        time.sleep(0.2)


def _hang(url: str) -> None:
    """A request the sandbox holds (hang fault) until it stops: cut off then, which is expected."""
    with contextlib.suppress(requests.RequestException):
        requests.get(url, timeout=30)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_make_run_within_two_seconds(tmp_path: Path) -> None:
    """Ctrl-C in a terminal is a SIGINT to every process of the foreground group: rundemo, the sandbox,
    the dashboard and its worker. With a browser holding connections and a sandbox request hanging, all
    are gone within 2 s (issue 17)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FILEFLARE_", "DOWNLOADS_", "SANDBOX_", "DJANGO_SETTINGS"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "fileflare_admin.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
        "SANDBOX_HANG_SECONDS": "60",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(PROJECT / "manage.py")]
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_sandbox", "--orders", "40"]):
        subprocess.run([*manage, *command], env=env, cwd=PROJECT, check=True, timeout=300)
    port, sandbox_port = free_port(), free_port()
    output = tmp_path / "run.log"
    with output.open("wb") as log:
        run = subprocess.Popen(
            [*manage, "rundemo", "--port", str(port), "--sandbox-port", str(sandbox_port)],
            env=env,
            cwd=PROJECT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives `make run`
        )
    try:
        _wait_for(output, "is running", run, timeout=180)
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        browser = requests.Session()  # keep-alive connections to both servers, as an open tab holds
        assert browser.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        assert browser.get(f"{sandbox_url}/", timeout=10).status_code == 200
        requests.post(f"{sandbox_url}/_sandbox/config", json={"hang_rate": 1}, timeout=10)
        hanging = threading.Thread(target=_hang, args=(f"{sandbox_url}/easycart/downloads",), daemon=True)
        hanging.start()
        upstream = SandboxClient(sandbox_url)
        wait_until("the request to hang in the sandbox", lambda: upstream.stats().get("downloads", 0) >= 1)
        started = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)
        while (run.poll() is None or _group_alive(run.pid)) and time.monotonic() - started < 10:
            time.sleep(0.02)
        stopped_after = time.monotonic() - started
    finally:
        if _group_alive(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
    assert "Stopping" in output.read_text(errors="replace")
    assert stopped_after < 2, f"stopped after {stopped_after:.2f} s"
