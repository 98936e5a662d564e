"""A chain of short background tasks driven by one database row (background.models.ChainRow: the order
sync's, each bulk job's).

Each step runs for a few seconds at most, then queues the next one (with `run_after` when it has to wait
for the budget), so a worker is never held by a sleeping task and a graceful stop is quick. The row holds:
- `step_token`: the one step that may run next. A step that finds another token was superseded (queued
  again after its worker died) and does nothing, so a chain never doubles.
- `step_due_at`: when that step is due (cleared once a worker takes it). A step overdue by more than
  GRACE was lost with its task row: `chain_start` queues a new one.
- `lease_until`: a worker is running a step right now. While the step runs, a thread of its own renews
  the lease every third of its length (`lease_kept`), so a live worker keeps it however long one upstream
  call takes; a worker that dies lets it lapse within BACKGROUND_LEASE_SECONDS, and then `chain_start`
  queues a new step at once (its first act is to verify what the dead one was doing).
The rows are changed by single UPDATE statements, so every worker and every machine agrees on them.
Nobody but the worker starts a lost step again: its keepers (background.keepers) call `chain_start`
when it starts and on a timer of its own, never a page view.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, models, transaction
from django.db.models import Q
from django.utils import timezone, translation

from fileflare_admin.api.errors import ApiError, RateLimited

# How long a due step may wait for a worker before it counts as lost and is queued again.
GRACE = timedelta(seconds=60)

Enqueue = Callable[[str, datetime | None], Any]

logger = logging.getLogger(__name__)


def lease_length() -> timedelta:
    """How long a step's lease lasts unrenewed: how soon a dead worker's step is taken over. A live
    worker renews it three times as often (`lease_kept`), whatever the step is waiting on."""
    return timedelta(seconds=settings.BACKGROUND_LEASE_SECONDS)


@contextmanager
def lease_kept(rows: models.QuerySet[Any], token: str) -> Iterator[None]:
    """Renew the lease of step `token` every third of its length while the block runs, from a thread
    of its own: the step itself may be waiting on an upstream's timeouts and retries meanwhile. The
    thread stops with the block, or once the step was superseded (the step finds that out itself)."""
    stop = threading.Event()
    interval = lease_length().total_seconds() / 3

    def renew() -> None:
        try:
            while not stop.wait(interval):
                try:
                    if not chain_renew(rows, token):
                        return
                except DatabaseError as error:  # a locked database: the next renewal tries again
                    logger.warning("background: renewing a step's lease failed: %s", error)
        finally:
            connections.close_all()  # this thread's own connections

    keeper = threading.Thread(target=renew, name=f"lease-{token[:8]}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join(timeout=interval)


def _free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def chain_idle(rows: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """The rows no worker is running a step of right now (none, or its worker died and the lease ran out)."""
    return rows.filter(_free(timezone.now()))


def chain_claim(rows: models.QuerySet[Any], token: str) -> bool:
    """Take the lease for the step `token`; False when it was superseded or another step is running."""
    now = timezone.now()
    mine = rows.filter(_free(now), step_token=token)
    return mine.update(lease_until=now + lease_length(), step_due_at=None) == 1


def chain_renew(rows: models.QuerySet[Any], token: str) -> bool:
    """Keep the lease while working; False when the step was superseded meanwhile (stop then)."""
    return rows.filter(step_token=token).update(lease_until=timezone.now() + lease_length()) == 1


def chain_next(rows: models.QuerySet[Any], token: str, *, due: datetime, enqueue: Enqueue) -> bool:
    """Hand over to the next step, due at `due`, and give the lease back."""
    new = uuid.uuid4().hex
    if rows.filter(step_token=token).update(step_token=new, step_due_at=due, lease_until=None) != 1:
        return False
    run_after = due if due > timezone.now() else None
    transaction.on_commit(lambda: enqueue(new, run_after))
    return True


def chain_run(
    rows: models.QuerySet[Any], token: str, *, work: Callable[[], float], enqueue: Enqueue
) -> None:
    """One step of a chain driven by a single row (the order sync's, the count snapshots'): take the step's
    lease (nothing when it was superseded or another step runs), `work` while the lease is kept, then queue
    the next step the seconds `work` returned from now."""
    if not chain_claim(rows, token):
        return
    with lease_kept(rows, token):
        delay = work()
    chain_next(rows, token, due=timezone.now() + timedelta(seconds=delay), enqueue=enqueue)


def backoff_seconds(error: ApiError, *, failures: int, most: float) -> float:
    """How long a chain waits after `failures` failed reads in a row: an upstream's 429 says; otherwise
    5 s doubling with each failure, at most `most`."""
    if isinstance(error, RateLimited):
        return float(error.retry_after)
    return float(min(5 * 2 ** min(failures, 8), most))


def paced_reads(
    load: Callable[[], Any],
    token: str,
    *,
    begin_if_due: Callable[[Any, datetime], None],
    next_read: Callable[[Any, datetime], Any],
    seconds_until_due: Callable[[Any, datetime], float],
    budget_wait: Callable[[], int | None],
    read_once: Callable[[Any, Any], None],
    label: str,
    log: logging.Logger,
    most_backoff: float,
    step_seconds: float,
) -> float:
    """The work of one step of a chain that reads an upstream page by page (the order sync's, the count
    snapshots'): for up to `step_seconds`, load the row, start what is due, take the next read and make it
    while the budget allows. Returns the seconds until the next step: none superseded it, nothing due
    (until due), the budget (its wait), a failed read (the back-off), or the step's time used (0).
    The row holds `failures`, `last_error`, `last_error_at` and `calls`. A failed read's sentence is kept
    in English (the worker's), and each Status page says it in its reader's language."""
    started = time.monotonic()
    while time.monotonic() - started < step_seconds:
        state = load()
        if state.step_token != token:
            return GRACE.total_seconds()  # superseded; the next hand-over fails anyway
        now = timezone.now()
        begin_if_due(state, now)
        read = next_read(state, now)
        if read is None:
            return seconds_until_due(state, now)
        wait = budget_wait()
        if wait is not None:
            return float(wait)
        try:
            with translation.override("en"):
                read_once(state, read)
        except ApiError as error:
            state.failures += 1
            state.last_error, state.last_error_at = error.user_message, timezone.now()
            state.save(update_fields=["failures", "last_error", "last_error_at", "calls"])
            log.warning("%s: %s", label, error.user_message)
            return backoff_seconds(error, failures=state.failures, most=most_backoff)
    return 0.0


def chain_end(rows: models.QuerySet[Any], token: str) -> None:
    """The work is finished: no next step."""
    rows.filter(step_token=token).update(step_token="", step_due_at=None, lease_until=None)


def chain_start(rows: models.QuerySet[Any], *, enqueue: Enqueue, force: bool = False) -> bool:
    """Queue a step now unless one is running, or one is queued and not overdue (`force`: even then; the
    queued one finds itself superseded). True when a step was queued."""
    now = timezone.now()
    new = uuid.uuid4().hex
    rows = rows.filter(_free(now))  # chain_idle, at the same `now` as the overdue check below
    if not force:
        rows = rows.filter(Q(step_due_at__isnull=True) | Q(step_due_at__lt=now - GRACE))
    if rows.update(step_token=new, step_due_at=now) != 1:
        return False
    transaction.on_commit(lambda: enqueue(new, None))
    return True
