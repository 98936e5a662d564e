"""In-process state shared by the sandbox's threads: fault settings, rate-limit windows, request counts.

The sandbox serves from one process (threads), so a lock is all the sharing needed. Restarting the
sandbox restores the settings from the environment.
"""

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

_lock = threading.Lock()
CONFIG_KEYS = (
    "latency_ms",
    "error_rate",
    "hang_rate",
    "malformed_rate",
    "rate_limit",
    "email_rate_limit",
    "downloads_rows",
    "downloads_timezone",
)
# How the downloads API renders rows: "documented" (numbers, booleans, `is_amazon`, as document 004
# shows) or "wpdb" (every value a string and the S3 flag as `is_amazon_download`, as $wpdb returns rows).
DOWNLOADS_ROWS = ("documented", "wpdb")


def _initial_config() -> dict[str, Any]:
    return {
        "latency_ms": settings.SANDBOX_LATENCY_MS,
        "error_rate": settings.SANDBOX_ERROR_RATE,
        "hang_rate": settings.SANDBOX_HANG_RATE,
        "malformed_rate": settings.SANDBOX_MALFORMED_RATE,
        "rate_limit": settings.SANDBOX_RATE_LIMIT,
        "email_rate_limit": settings.SANDBOX_EMAIL_RATE_LIMIT,
        "downloads_rows": settings.SANDBOX_DOWNLOADS_ROWS,
        "downloads_timezone": settings.SANDBOX_DOWNLOADS_TIMEZONE,
    }


_config: dict[str, Any] | None = None
_windows: dict[tuple[str, str], tuple[float, int]] = {}
_stats: dict[str, int] = {"fileflare": 0, "downloads": 0}


def config() -> dict[str, Any]:
    global _config
    with _lock:
        if _config is None:
            _config = _initial_config()
        return dict(_config)


def update_config(changes: dict[str, Any]) -> dict[str, Any]:
    global _config
    with _lock:
        if _config is None:
            _config = _initial_config()
        _config.update(changes)
        return dict(_config)


def reset_config() -> dict[str, Any]:
    """Back to the settings the sandbox started with (its environment)."""
    global _config
    with _lock:
        _config = _initial_config()
        return dict(_config)


@dataclass(frozen=True)
class Throttle:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


def throttle(key: str, bucket: str, limit: int) -> Throttle:
    """Laravel's throttle: a fixed one-minute window per key that starts at its first request."""
    if limit <= 0:
        return Throttle(True, 0, 0, 0)
    name = (hashlib.sha256(key.encode()).hexdigest()[:16], bucket)
    now = time.monotonic()
    with _lock:
        started, count = _windows.get(name, (now, 0))
        if now - started >= 60:
            started, count = now, 0
        if count >= limit:
            return Throttle(False, limit, 0, max(1, int(60 - (now - started)) + 1))
        _windows[name] = (started, count + 1)
        return Throttle(True, limit, limit - count - 1, 0)


def reset_limits() -> None:
    with _lock:
        _windows.clear()


def count_request(api: str) -> None:
    with _lock:
        _stats[api] = _stats.get(api, 0) + 1


def stats() -> dict[str, int]:
    with _lock:
        return dict(_stats)
