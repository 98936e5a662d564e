"""`python -m bench.bulk [--records 500] [--latency-ms 50]`: a bulk reset run by the real task worker.

The sandbox answers with added latency and enforces Fileflare's 60 requests a minute; the order index's
sync runs beside the job at its default share, and a "staff" thread opens the newest orders through the
Fileflare API client's budget every second meanwhile (what the dashboard's pages spend). Reported: how long
the job took, its pace, and the most requests any minute saw at each API (the sandbox's own count).
A benchmark, not a test: it reports figures and never fails on them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from sandbox.launcher import DEMO_CREDENTIALS, free_port, start_sandbox

PROJECT = Path(__file__).resolve().parent.parent


def _peak_per_minute(samples: list[tuple[float, int]]) -> int:
    """The most requests counted in any 60-second window of (time, running total) samples."""
    peak = 0
    for start_at, start_count in samples:
        inside = [count for at, count in samples if start_at <= at <= start_at + 60]
        peak = max(peak, max(inside) - start_count)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fileflare-bulk-bench-"))
    redis_port = free_port()
    redis = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    sandbox = start_sandbox(
        port=free_port(),
        database=folder / "sandbox.sqlite3",
        env={"SANDBOX_RATE_LIMIT": "60", "SANDBOX_EMAIL_RATE_LIMIT": "30"},
        log_path=folder / "sandbox.log",
    )
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "fileflare_admin.settings",
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "SANDBOX_URL": sandbox.url,
            "CACHE_URL": f"redis://127.0.0.1:{redis_port}/0",  # one budget for staff and the worker
            "SECRET_KEY": "bench-" + "x" * 60,
        }
    )
    manage = [sys.executable, str(PROJECT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], check=True)

    import django

    django.setup()
    from django.contrib.auth.models import Group, User

    from fileflare_admin.api import fileflare
    from fileflare_admin.api.errors import ApiError
    from jobs import services
    from jobs.models import BulkJob
    from jobs.selection import Selection

    order_number = 1_900_000_000 + int(time.time()) % 100_000
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {DEMO_CREDENTIALS.token}"
    for index in range(args.records):
        session.post(
            f"{sandbox.downloads_url}/downloads",
            json={
                "product_id": 4242,
                "order_id": order_number,
                "download_count": 3,
                "download_file_name": f"bench-{index}.pdf",
                "is_amazon": False,
                "amazon_key": "",
            },
            timeout=30,
        ).raise_for_status()
    sandbox.config(latency_ms=args.latency_ms)
    merchant = User.objects.create_user("bench-merchant", password=None)
    merchant.groups.add(Group.objects.get_or_create(name="Merchant")[0])
    job = services.job_plan(
        actor=merchant,
        selection=Selection(order_numbers=(order_number,)),
        kind=BulkJob.Kind.COUNT_RESET,
        amount=None,
        reason="bench",
    )
    planned = services.plan_summary(job)

    worker = subprocess.Popen(
        [*manage, "background_worker", "--", "--no-startup-delay", "--interval", "0.5"],
        stdout=(folder / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    stop = threading.Event()
    refused: list[str] = []

    def staff() -> None:  # staff keep browsing: the newest orders, then one order, every second
        while not stop.is_set():
            try:
                listed = fileflare.order_list(limit=25).value.items
                if listed:
                    fileflare.order_get(order_id=listed[int(time.time()) % len(listed)].id)
            except ApiError as error:
                refused.append(error.user_message)
            stop.wait(1)

    browsing = threading.Thread(target=staff, daemon=True)
    samples: list[tuple[float, int, int]] = []
    started = time.monotonic()
    try:
        services.job_run(actor=merchant, job_id=job.pk)
        browsing.start()
        while BulkJob.objects.filter(pk=job.pk, state__in=BulkJob.ACTIVE).exists():
            stats = sandbox.stats()
            samples.append((time.monotonic(), stats["fileflare"], stats["downloads"]))
            time.sleep(1)
        took = time.monotonic() - started
    finally:
        stop.set()
        worker.terminate()
        worker.wait(timeout=30)
        sandbox.stop()
        redis.terminate()
    progress = services.job_progress(BulkJob.objects.get(pk=job.pk))
    fileflare_peak = _peak_per_minute([(at, ff) for at, ff, _ in samples])
    downloads_peak = _peak_per_minute([(at, dl) for at, _, dl in samples])
    print(f"bulk reset of {args.records} records, {args.latency_ms} ms latency, sandbox 60/min enforced")
    print(f"  dry run estimate: {planned.minutes_text} ({planned.per_minute or 0:.0f} records a minute)")
    print(f"  finished in {took:.0f} s: {progress.done} done, {progress.failed} failed")
    print(f"  most requests in any minute: Fileflare {fileflare_peak} (limit 60), downloads {downloads_peak}")
    print(f"  staff reads refused meanwhile: {len(refused)}")


if __name__ == "__main__":
    main()
