"""The order index before a measurement: the stack's task worker walks the whole order list (as on a
shop that has run the dashboard for a while), and the benchmark waits for the walk to finish."""

import json
import time
from typing import Any

from bench.stack import Stack

PROGRESS = (
    "import json; from orders_index.services import order_sync_progress as p; "
    "from orders_index.models import OrderSync; s = p(); r = OrderSync.objects.first(); "
    "print(json.dumps({'indexed': s.indexed, 'total': s.total, 'walking': s.walking, "
    "'finished': s.walk_finished_at is not None, 'calls': s.calls, 'error': s.last_error, "
    "'newest_seen': s.newest_seen_at.timestamp() if s.newest_seen_at else 0, "
    "'fresh_page': r.fresh_page if r else 0}))"
)


def progress(stack: Stack) -> dict[str, Any]:
    return json.loads(stack.manage("shell", "-c", PROGRESS).strip().splitlines()[-1])


def warm_index(stack: Stack, *, timeout: float = 600) -> dict[str, Any]:
    """Queue the sync and wait until its first walk has read every order. Returns what it took."""
    started = time.monotonic()
    stack.manage("order_sync")
    state = progress(stack)
    while not (state["finished"] and not state["walking"]):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"The order index was not complete after {timeout:.0f} s: {state}")
        time.sleep(5)
        state = progress(stack)
        print(f"  order index: {state['indexed']:,} of {state['total'] or '?'} orders", flush=True)
    return {
        "seconds": time.monotonic() - started,
        "indexed": state["indexed"],
        "total": state["total"],
        "calls": state["calls"],
    }


def wait_for_fresh_pages(stack: Stack, *, after: float, timeout: float = 120) -> float:
    """After the cache was emptied at `after` (epoch seconds): wait until the sync has read the newest
    pages again, as it does all day, so the shared cache holds them. Returns the seconds waited."""
    started = time.monotonic()
    state = progress(stack)
    while not (state["newest_seen"] > after and not state["fresh_page"]):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"The order sync did not re-read the newest orders within {timeout:.0f} s.")
        time.sleep(1)
        state = progress(stack)
    return time.monotonic() - started
