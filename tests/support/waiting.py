"""Waiting for a state, not for a clock: a test that drives a real process (a server, a worker, a
thread of its own) polls for what it expects, with a deadline long enough for a machine busy with a
second test run, and fails saying what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEADLINE = 120.0  # seconds: generous, since a state that arrives ends the wait at once


def wait_until(what: str, check: Callable[[], T], timeout: float = DEADLINE, every: float = 0.05) -> T:
    """Call `check` until it returns something true, and return that; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Not within {timeout:.0f} s: {what}.")
        time.sleep(every)
