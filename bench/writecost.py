"""What the write rules cost each write: the write-ahead audit entry and the per-record lock.

`python -m bench.writecost [--database sqlite|postgres] [--writes N]` measures, in one process against a
real Redis and a real database (SQLite in a temporary file, or a throwaway PostgreSQL cluster):
- the write-ahead entry: `audited(...)` opening a pending entry and closing it (two database writes);
- the record lock: `shared_lock(...)` taken and given back on Redis (an add, a get, a delete);
and prints the median and p95 of each in milliseconds. No upstream call is made: this is what a count fix
pays on top of its upstream round trips. `make bench` runs it beside the page figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox.launcher import free_port


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def _measure(writes: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from audit.services import audited
    from fileflare_admin.api.cache import shared_lock

    def timed(step: Any) -> list[float]:
        spent = []
        for index in range(writes):
            started = time.perf_counter()
            step(index)
            spent.append((time.perf_counter() - started) * 1000)
        return spent

    def entry(index: int) -> None:
        opened = audited(actor=None, action="download_record_count", download_id=f"bench{index}", before={})
        with opened:
            pass

    def lock(index: int) -> None:
        with shared_lock(f"download-record:bench{index % 10}", timeout=10):
            pass

    figures = {}
    for name, step in (("write-ahead entry", entry), ("record lock", lock)):
        timed(step)  # warm: connections, statement caches
        spent = timed(step)
        figures[name] = {
            "median_ms": round(statistics.median(spent), 2),
            "p95_ms": round(_percentile(spent, 0.95), 2),
        }
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    options = parser.parse_args(argv)
    redis_server = shutil.which("redis-server")
    if not redis_server:
        raise SystemExit("redis-server is missing: `make bench` installs Debian's redis-server.")
    folder = Path(tempfile.mkdtemp(prefix="ffa-writecost-"))
    port = free_port()
    redis = subprocess.Popen(
        [redis_server, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cluster = None
    try:
        if options.database == "postgres":
            from tests.support.postgres import PostgresCluster

            cluster = PostgresCluster().start()
            database_url = cluster.create_database("writecost")
        else:
            database_url = f"sqlite:///{folder / 'writecost.sqlite3'}"
        os.environ.update(
            DJANGO_SETTINGS_MODULE="fileflare_admin.settings",
            DATABASE_URL=database_url,
            CACHE_URL=f"redis://127.0.0.1:{port}/0",
        )
        time.sleep(0.3)  # redis-server binds its port
        figures = {"database": options.database, "writes": options.writes, **_measure(options.writes)}
    finally:
        redis.terminate()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    if options.json:
        print(json.dumps(figures))
    else:
        print(f"write rules, per write ({options.database}, {options.writes} writes each):")
        for name in ("write-ahead entry", "record lock"):
            row = figures[name]
            print(f"  {name:18} median {row['median_ms']:6.2f} ms   p95 {row['p95_ms']:6.2f} ms")
    return figures


if __name__ == "__main__":
    main()
