"""The chains the worker keeps alive: each app that runs one registers a keeper at `ready()`.

A keeper queues a step for every chain of its app whose step was lost (a worker that died mid-step, a
task row that went missing) and starts what should run but has not started, and says how many steps it
queued. `chain_start` makes that safe to do any time, from every worker at once: work under way is left
alone. The worker calls the keepers when it starts and every BACKGROUND_KEEPALIVE_SECONDS
(background_worker); nothing else does, and never a page view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Keeper = Callable[[], int]
_keepers: dict[str, Keeper] = {}


def register_keeper(name: str, keep: Keeper) -> None:
    """`keep()` queues the lost or missing steps of the chains called `name` (registered once)."""
    _keepers[name] = keep


def keep_alive() -> dict[str, int]:
    """Run every keeper: the steps each queued. One that fails is logged, and the others still run."""
    queued = {}
    for name, keep in _keepers.items():
        try:
            queued[name] = keep()
        except Exception:
            logger.exception("background: keeping %s alive failed; the next round tries again", name)
    return queued
