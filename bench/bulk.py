"""`python -m bench.bulk [--records 500] [--latency-ms 50] [--resend N]`: a bulk fix run by the task worker.

The sandbox answers with added latency and enforces Fileflare's 60 requests a minute; the order index's
sync runs beside the job at its default share, and a "staff" thread opens the newest orders through the
Fileflare API client's budget every second, alone for --baseline-seconds and then while the job runs (what
the dashboard's pages spend). Reported: how long the job took, its pace, the most requests any minute saw
at each API (the sandbox's own count), and how many staff views were "as of" a saved copy with the job
running and without it (issue 27.6: a job must cause none, STAFF_READ_RESERVE).
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
    parser.add_argument("--baseline-seconds", type=int, default=30)
    parser.add_argument("--resend", type=int, default=0, help="resend the e-mail of N new orders instead")
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
    resent = tuple(
        sandbox.create_order({"lines": [], "email_sent": False})["order_number"] for _ in range(args.resend)
    )
    for index in range(0 if resent else args.records):
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
        selection=Selection(order_numbers=resent or (order_number,)),
        kind=BulkJob.Kind.EMAIL_RESEND if resent else BulkJob.Kind.COUNT_RESET,
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
    job_running = threading.Event()
    refused: list[str] = []
    views: dict[bool, list[bool]] = {False: [], True: []}  # job running? → each view: "as of" a copy?

    def staff() -> None:  # staff keep browsing: the newest orders, then one order, every second
        while not stop.is_set():
            during = job_running.is_set()
            try:
                listed = fileflare.order_list(limit=25)
                if listed.value.items:
                    chosen = listed.value.items[int(time.time()) % len(listed.value.items)]
                    opened = fileflare.order_get(order_id=chosen.id)
                    views[during].append(listed.stale or opened.stale)
            except ApiError as error:
                refused.append(error.user_message)
            stop.wait(1)

    browsing = threading.Thread(target=staff, daemon=True)
    samples: list[tuple[float, int, int]] = []
    browsing.start()
    time.sleep(args.baseline_seconds)  # staff alone first: the "as of" views no job causes
    started = time.monotonic()
    try:
        job_running.set()
        services.job_run(actor=merchant, job_id=job.pk)
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
    what = f"e-mail resend of {len(resent)} orders" if resent else f"reset of {args.records} records"
    print(f"bulk {what}, {args.latency_ms} ms latency, sandbox 60/min enforced")
    print(f"  dry run estimate: {planned.minutes_text} ({planned.per_minute or 0:.0f} records a minute)")
    print(f"  finished in {took:.0f} s: {progress.done} done, {progress.failed} failed")
    print(f"  most requests in any minute: Fileflare {fileflare_peak} (limit 60), downloads {downloads_peak}")
    print(f"  staff reads refused meanwhile: {len(refused)}")
    alone, with_job = (sum(views[phase]) for phase in (False, True))
    expected = alone / len(views[False]) * len(views[True]) if views[False] else 0.0  # at the rate without it
    print(
        f"  staff views 'as of' a saved copy: {with_job} of {len(views[True])} during the job, "
        f"{alone} of {len(views[False])} in the {args.baseline_seconds} s before it; "
        f"caused by the job: {max(with_job - round(expected), 0)}"
    )


if __name__ == "__main__":
    main()
