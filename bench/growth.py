"""Does a page's server time grow with the data behind it? (issue 28: "no page's server time grows with
the number of records, orders or audit entries beyond its page size")

Two checks on the benchmark's stack, each the warm median of one page at two sizes:
- the order page of an order with 1 download record and of one with 200 (the page reads at most
  downloads.reads.ORDER_RECORDS_LIMIT of them);
- the audit log's first page with 100 entries in the trail and with 100,000 (audit.selectors.PER_PAGE
  a page).
The orders and records are made in the sandbox through its own APIs; the entries in the dashboard's
database, in bulk (the trail is append-only, so they stay: run this last).
"""

import concurrent.futures
import statistics
import time
from typing import Any

import requests

from bench.stack import DEMO_TOKEN, Stack

SIZES = {"order page": (1, 200), "audit log": (100, 100_000)}
ENTRIES = (
    "from audit.models import AuditEntry; from django.contrib.auth.models import User; "
    "wanted = {wanted}; user = User.objects.get(username='bench'); "
    "missing = max(0, wanted - AuditEntry.objects.count()); "
    "[AuditEntry.objects.bulk_create([AuditEntry(actor=user, actor_name='bench', "
    "action='download_record_count', order_number=900000 + i % 5000, download_id=f'growth-{{i}}', "
    "before={{'download_count': 2}}, after={{'download_count': 1}}, outcome='success') "
    "for i in range(start, min(start + 5000, missing))]) for start in range(0, missing, 5000)]; "
    "print(AuditEntry.objects.count())"
)
# What PostgreSQL's autovacuum does within a minute of such a load (a VACUUM for the inserts, an ANALYZE
# for the statistics), done before the loads are timed rather than during them: run beside them it takes
# a core of the two for a few hundred ms and the timed loads share the rest (issue 28: the audit log's
# PostgreSQL figure swung from run to run while the database's own time stayed at 1-2 ms a load). A trail
# that reached 100,000 entries in production has been vacuumed and analyzed many times on the way.
SETTLE = (
    "from django.db import connection; from audit.models import AuditEntry; "
    "connection.vendor == 'postgresql' and "
    "connection.cursor().execute(f'VACUUM ANALYZE {AuditEntry._meta.db_table}')"
)


def add_records(downloads_url: str, token: str, order_number: int, count: int, *, workers: int = 8) -> None:
    """`count` download records of one order, made through the downloads API at `downloads_url` (the
    benchmark's sandbox, or bench.profile's in-process one)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def record(index: int) -> None:
        answer = requests.post(
            f"{downloads_url}/downloads",
            json={
                "order_id": order_number,
                "product_id": 990_001,  # no seeded product: a search by the number finds only these
                "download_file_name": f"growth-{order_number}-{index}.zip",
                "download_count": index % 4,
            },
            headers=headers,
            timeout=30,
        )
        answer.raise_for_status()

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(record, range(count)))


def _order_with_records(stack: Stack, count: int) -> str:
    """A new sandbox order with `count` download records of its own; the order's page path."""
    made = requests.post(f"{stack.sandbox_url}/_sandbox/orders", json={}, timeout=30)
    made.raise_for_status()
    order = made.json()
    add_records(f"{stack.sandbox_url}/easycart", DEMO_TOKEN, order["order_number"], count)
    return f"/orders/{order['id']}/"


def _warm(dashboard: requests.Session, url: str, loads: int) -> dict[str, float]:
    """The page loaded once (it fills the read cache), then `loads` times: median and p95 in ms."""
    first = dashboard.get(url, timeout=60)
    if first.status_code != 200:
        raise SystemExit(f"{url} answered {first.status_code} during the growth check.")
    times = []
    for _ in range(loads):
        started = time.perf_counter()
        dashboard.get(url, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    return {"median_ms": statistics.median(times), "p95_ms": ordered[round(0.95 * (len(ordered) - 1))]}


def measure_growth(stack: Stack, dashboard: requests.Session, *, loads: int = 15) -> dict[str, Any]:
    """Both checks: for each, the figures at the small and the large size and the large ÷ small ratio."""
    results: dict[str, Any] = {}
    small, large = SIZES["order page"]
    pages = {size: _order_with_records(stack, size) for size in (small, large)}
    figures = {size: _warm(dashboard, stack.dashboard_url + path, loads) for size, path in pages.items()}
    results["order page"] = _growth("records", small, large, figures)
    small, large = SIZES["audit log"]
    figures = {}
    for size in (small, large):
        stack.manage("shell", "-c", ENTRIES.format(wanted=size))
        stack.manage("shell", "-c", SETTLE)
        figures[size] = _warm(dashboard, f"{stack.dashboard_url}/audit/", loads)
    results["audit log"] = _growth("entries", small, large, figures)
    return results


def _growth(unit: str, small: int, large: int, figures: dict[int, dict[str, float]]) -> dict[str, Any]:
    return {
        "unit": unit,
        "small": small,
        "large": large,
        "small_ms": figures[small],
        "large_ms": figures[large],
        "ratio": figures[large]["median_ms"] / figures[small]["median_ms"],
    }
