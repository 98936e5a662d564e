"""`make run`: the sandbox, the dashboard and its task worker together in one terminal; Ctrl-C stops all.

It lives with the sandbox it starts, so `fileflare_admin` (the ground) imports no feature app."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from sandbox.launcher import SandboxFailed, start_sandbox

MANAGE_PY = str(Path(settings.BASE_DIR) / "manage.py")
DEMO_SNAPSHOTS = {"SNAPSHOT_FULL_EVERY_SECONDS": "120", "SNAPSHOT_RECENT_EVERY_SECONDS": "30"}
DEMO_OUTBOX = ".demo-outbox"  # the demo's outbox: one file per e-mail the dashboard sends


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (our own loopback address)
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


def _stop(processes: list[subprocess.Popen[bytes]], grace: float = 1.0) -> None:
    """Ctrl-C for each one still running; whatever has not stopped `grace` seconds later is killed,
    so the terminal is back within 2 s even with a request hanging or a browser holding connections."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while stopping changes nothing
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Command(BaseCommand):
    help = "Start the sandbox and the dashboard together; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8001)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, host: str, port: int, sandbox_port: int, **options: Any) -> None:
        child_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        processes: list[subprocess.Popen[bytes]] = []
        address = f"http://{host}:{port}/"
        outbox = Path(settings.BASE_DIR) / DEMO_OUTBOX
        if settings.DEMO_MODE:
            child_env["SANDBOX_URL"] = f"http://{host}:{sandbox_port}"
            # The Reports page lives within minutes: every record's count every 2 minutes (187 requests
            # of the sandbox), recent orders' every 30 s (a real shop's defaults are a day and an hour).
            child_env = {**DEMO_SNAPSHOTS, **child_env}
            # The dashboard's own e-mail (the daily digest) goes to files in the demo's outbox, with links
            # back here; EMAIL_URL and DASHBOARD_URL, when set, win.
            if "EMAIL_URL" not in os.environ:
                outbox.mkdir(exist_ok=True)
                child_env["EMAIL_URL"] = f"filemail:///{outbox}"  # a third slash: an absolute path
            child_env.setdefault("DASHBOARD_URL", address.rstrip("/"))
            try:
                # The shop lives: customers download, new orders come in, link scanners follow e-mails.
                trickle = {"SANDBOX_TRICKLE_SECONDS": os.environ.get("SANDBOX_TRICKLE_SECONDS", "5")}
                processes.append(start_sandbox(host=host, port=sandbox_port, wait=False, env=trickle).process)
            except SandboxFailed as failed:
                self.stderr.write(f"The sandbox cannot start. {failed} (make run SANDBOX_PORT=…)")
                return
        else:
            self.stdout.write(
                f"Upstream: {settings.FILEFLARE_API_URL} (FILEFLARE_API_URL is set; no sandbox)"
            )
        processes.append(
            subprocess.Popen(  # noqa: S603
                [sys.executable, MANAGE_PY, "runserver", f"{host}:{port}", "--noreload", "--skip-checks"],
                env=child_env,
            )
        )
        # The task worker: the order index's sync and bulk fixes run there, never in the web server.
        processes.append(
            subprocess.Popen([sys.executable, MANAGE_PY, "background_worker"], env=child_env)  # noqa: S603
        )

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        # Ctrl-C reaches every process of the terminal; a SIGTERM (from a supervisor) reaches only us.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            deadline = time.monotonic() + 60
            while not _answers(f"{address}healthz"):
                if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
                    self.stderr.write("The dashboard or the sandbox did not start; see the lines above.")
                    return
                time.sleep(0.2)
            self.stdout.write(self.style.SUCCESS(f"\nFileflare Admin is running: open {address}"))
            if settings.DEMO_MODE and "EMAIL_URL" not in os.environ:
                self.stdout.write(f"The dashboard's e-mail (the daily digest) is written to {outbox}/.")
            self.stdout.write("Press Ctrl-C to stop the dashboard, the sandbox and the task worker.\n")
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
            self.stderr.write("One of the servers stopped; stopping the others.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
            _stop(processes)
            # Tearing down this process's Django takes about a second on a busy machine and nothing needs
            # it once the servers are stopped: hand the terminal back at once.
            self.stdout.flush()
            self.stderr.flush()
            os._exit(0)
        finally:
            _stop(processes)
