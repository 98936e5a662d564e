"""The servers a benchmark run needs, started on free loopback ports and stopped afterwards:
Redis (the shared cache and budget), the sandbox with added latency, and the dashboard under gunicorn
with production settings.

Options for the production shape (tests/two_machines, `python -m bench --database postgres`): several
gunicorn instances on one database (`instances`), a PostgreSQL `database_url`, and with `procfile` the
web and worker processes started from deploy/Procfile's own commands (`task_workers` RQ workers)."""

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sandbox.launcher import DEMO_CREDENTIALS, Sandbox, SandboxFailed, free_port, start_sandbox

PROJECT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEMO_KEY, DEMO_TOKEN = DEMO_CREDENTIALS.key, DEMO_CREDENTIALS.token
BENCH_PASSWORD = secrets.token_urlsafe(16)
PROCFILE = PROJECT / "deploy" / "Procfile"


def procfile_command(name: str) -> str:
    """The shell command deploy/Procfile gives the process `name`."""
    for line in PROCFILE.read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.partition(":")[2].strip()
    raise SystemExit(f"deploy/Procfile has no {name!r} process.")


def wait_until_answers(url: str, process: subprocess.Popen[bytes], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited before answering (see its log).")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer within {timeout:.0f} s.")


@dataclass
class Stack:
    latency_ms: int
    workers: int = 2
    threads: int = 4
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fileflare-bench-")))
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    redis_port: int = 0
    sandbox_port: int = 0
    dashboard_port: int = 0
    gunicorn: subprocess.Popen[bytes] | None = None
    sandbox: Sandbox | None = None
    instances: int = 1  # gunicorn instances ("machines") sharing the database and Redis
    database_url: str = ""  # empty: a SQLite file in the work folder
    procfile: bool = False  # web (and workers) from deploy/Procfile's commands, through a shell
    task_workers: int = 0  # Procfile "worker" processes; with any, TASKS_BACKEND=rq
    sandbox_env: dict[str, str] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    dashboard_ports: list[int] = field(default_factory=list)
    gunicorns: list[subprocess.Popen[bytes]] = field(default_factory=list)
    groups: set[int] = field(default_factory=set)  # processes started in their own group (Procfile's)

    # --- addresses -------------------------------------------------------------------------------
    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    @property
    def dashboard_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.dashboard_ports]

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def dashboard_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": self.secret_key,  # the same on every instance, as on every machine
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.database_url or f"sqlite:///{self.folder / 'dashboard.sqlite3'}",
            "STATIC_ROOT": str(self.folder / "static"),  # its own: stacks side by side never share one
            "WEB_CONCURRENCY": str(self.workers),
            "WEB_THREADS": str(self.threads),
            "UPSTREAM_WORKER_COUNT": str(self.workers * self.instances),
            "TASKS_BACKEND": "rq" if self.task_workers else os.environ.get("TASKS_BACKEND", "database"),
            "CACHE_URL": self.redis_url,
            "FILEFLARE_API_URL": f"{self.sandbox_url}/api",
            "FILEFLARE_API_KEY": DEMO_CREDENTIALS.key,
            "DOWNLOADS_API_URL": f"{self.sandbox_url}/easycart",
            "DOWNLOADS_API_TOKEN": DEMO_CREDENTIALS.token,
            # Production settings, but served over plain http on loopback for the measurement.
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }

    def _log(self, name: str) -> Any:
        return (self.folder / f"{name}.log").open("wb")

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "Stack":
        redis_server = shutil.which("redis-server")
        if not redis_server:
            raise SystemExit("redis-server is missing: `make bench` installs Debian's redis-server.")
        self.redis_port, self.sandbox_port = free_port(), free_port()
        self.dashboard_ports = [free_port() for _ in range(self.instances)]
        self.dashboard_port = self.dashboard_ports[0]
        self.processes.append(
            subprocess.Popen(
                [redis_server, "--port", str(self.redis_port), "--save", "", "--appendonly", "no"],
                stdout=self._log("redis"),
                stderr=subprocess.STDOUT,
            )
        )
        self.sandbox = start_sandbox(
            port=self.sandbox_port,
            database=self.folder / "sandbox.sqlite3",
            credentials=DEMO_CREDENTIALS,
            env={"SANDBOX_LATENCY_MS": str(self.latency_ms), **self.sandbox_env},
            log_path=self.folder / "sandbox.log",
            wait=False,  # it migrates and seeds while the dashboard is prepared
        )
        self.processes.append(self.sandbox.process)
        env = self.dashboard_env()
        for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
            subprocess.run([PYTHON, "manage.py", *command], cwd=PROJECT, env=env, check=True)
        self.create_staff("bench")
        for index, port in enumerate(self.dashboard_ports):
            self.gunicorns.append(self._start_web(env, port, index))
        self.gunicorn = self.gunicorns[0]
        for index in range(self.task_workers):
            self._shell(procfile_command("worker"), env, f"worker-{index}")
        try:
            self.sandbox.wait_until_ready()
        except SandboxFailed as failed:
            raise SystemExit(str(failed)) from None
        for url, gunicorn in zip(self.dashboard_urls, self.gunicorns, strict=True):
            wait_until_answers(f"{url}/healthz", gunicorn, "The dashboard")
        return self

    def create_staff(self, username: str, group: str = "Merchant") -> None:
        """A staff account in `group` (password BENCH_PASSWORD), made in the shared database."""
        subprocess.run(
            [
                PYTHON,
                "manage.py",
                "shell",
                "-c",
                "from django.contrib.auth.models import User, Group; import os; "
                "u = User.objects.create_user(os.environ['BENCH_USER'], "
                "password=os.environ['BENCH_PASSWORD']); "
                "u.groups.add(Group.objects.get(name=os.environ['BENCH_GROUP']))",
            ],
            cwd=PROJECT,
            env={**self.dashboard_env(), "BENCH_USER": username, "BENCH_GROUP": group}
            | {"BENCH_PASSWORD": BENCH_PASSWORD},
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def _shell(self, command: str, env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
        """A Procfile command as a process manager runs it: through a shell, the virtualenv first on PATH,
        in its own process group (stopped as one)."""
        path = f"{Path(PYTHON).parent}:{env.get('PATH', '')}"
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=PROJECT,
            env={**env, "PATH": path},
            stdout=self._log(log),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        self.groups.add(process.pid)
        return process

    def _start_web(self, env: dict[str, str], port: int, index: int) -> subprocess.Popen[bytes]:
        if self.procfile:
            bind = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_LOG_LEVEL": "warning"}
            return self._shell(procfile_command("web"), bind, f"dashboard-{index}")
        process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "fileflare_admin.wsgi",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--bind",
                f"127.0.0.1:{port}",
                "--reuse-port",  # as deploy/gunicorn.conf.py: each worker its own socket
                "--access-logfile",
                "-",
                "--log-level",
                "warning",
            ],
            cwd=PROJECT,
            env=env,
            stdout=self._log(f"dashboard-{index}" if index else "dashboard"),
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None and process.pid in self.groups:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            elif process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                if process.pid in self.groups:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "Stack":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- helpers the measurements use ------------------------------------------------------------
    def sandbox_config(self, **changes: Any) -> dict[str, Any]:
        assert self.sandbox is not None
        return self.sandbox.config(**changes)

    def reset_sandbox_limits(self) -> None:
        assert self.sandbox is not None
        self.sandbox.reset_limits()

    def flush_cache(self) -> None:
        """Empty the dashboard's cache (read cache, budget windows, locks). The task queue's own keys
        (RQ's `rq:` namespace on the same Redis) stay: a flush must not lose the order sync's next step."""
        import redis

        client = redis.Redis(port=self.redis_port)
        keys = [key for key in client.scan_iter(count=1000) if not key.startswith(b"rq:")]
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])

    def manage(self, *args: str) -> str:
        """A management command run against the stack's database and Redis; its standard output."""
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=PROJECT,
            env=self.dashboard_env(),
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def login(self, username: str = "bench", base: str = "") -> requests.Session:
        """A signed-in session on the instance at `base` (default: the first)."""
        base = base or self.dashboard_url
        session = requests.Session()
        page = session.get(f"{base}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if not token:
            raise SystemExit("The sign-in page has no CSRF token.")
        answer = session.post(
            f"{base}/accounts/login/",
            data={"username": username, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{base}/accounts/login/"},
            timeout=10,
            allow_redirects=False,
        )
        if answer.status_code != 302:
            raise SystemExit(f"Could not sign in to the dashboard (status {answer.status_code}).")
        return session

    def worker_pids(self) -> list[int]:
        assert self.gunicorn is not None
        children = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []
