"""A throwaway PostgreSQL cluster from Debian's `postgresql` package, for tests and the benchmark.

`python -m tests.support.postgres -- COMMAND …` starts a cluster (`initdb` into a temporary folder of its
own, a free loopback port from a block this process claims (tests/support/ports.py), trust
authentication on loopback only), runs COMMAND with `DATABASE_URL` pointing at it,
then stops the cluster and removes the folder, whatever COMMAND did. `make test` runs the database tests
through it a second time; the two-machine test and `make bench` use `PostgresCluster` directly.

PostgreSQL refuses to run as root, so under root (CI, a fresh machine) the server runs as Debian's
`postgres` account, which the package creates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.launcher import free_port
from tests.support.ports import claim_port_range


def _bin(name: str) -> str:
    """The newest installed server's tool: Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise SystemExit(f"PostgreSQL's {name} is missing: `make test` installs Debian's postgresql package.")


def _as_server_user() -> list[str]:
    """Run the server's tools as `postgres` when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PostgresCluster:
    """One running cluster; `url(name)` is a DATABASE_URL for a database in it (superuser `postgres`)."""

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ffa-pg-")))
    port: int = field(default_factory=free_port)
    started: bool = False

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "fileflare_admin") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresCluster:
        runner = _as_server_user()
        if runner:
            shutil.chown(self.folder, user="postgres", group="postgres")
        self.folder.chmod(0o700)
        initdb = [_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync"]
        subprocess.run(
            [*runner, *initdb, "--encoding=UTF8", "--locale=C.UTF-8"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        log = str(self.folder / "server.log")
        subprocess.run(
            [*runner, _bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.started = True
        self._wait()
        return self

    def _wait(self) -> None:
        deadline = time.monotonic() + 120  # a machine busy with a second test run is slow to start one
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not listen on port {self.port}: {self.log()[-2000:]}")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.started:
            subprocess.run(
                [*_as_server_user(), _bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print("usage: python -m tests.support.postgres -- COMMAND [ARGS…]", file=sys.stderr)
        return 2
    claim_port_range()  # the cluster's port comes from a block of ports this process holds
    with running_cluster() as cluster:
        url = cluster.create_database("fileflare_admin")
        env = {**os.environ, "DATABASE_URL": url, "TEST_DATABASE_ENGINE": "postgresql"}
        print(f"PostgreSQL pass: throwaway cluster on 127.0.0.1:{cluster.port}", flush=True)
        return subprocess.call(argv, env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
