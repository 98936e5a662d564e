"""Each test process's own block of ports, so that two test runs on one machine (and the processes of
one run) never hand out the same port.

A process claims a block by holding an exclusive lock (flock) on that block's file in the temp folder.
The kernel lets the lock go when the process ends, however it ends, so a crashed run keeps nothing.
The blocks come from PORT_POOL, else PORT_RANGE as it was given, else 20000-32000 (below Linux's
ephemeral ports, which the kernel hands to outgoing connections). The claimed block becomes this
process's PORT_RANGE, from which sandbox.launcher.free_port hands out ports that it still checks are
free (a program outside the suite may hold one). Child processes inherit PORT_POOL and claim their own.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

DEFAULT_POOL = "20000-32000"
BLOCK = 200
LOCKS = Path(tempfile.gettempdir()) / "fileflare-admin-test-ports"

_held: list[int] = []  # open for as long as this process lives: that is what holds the claim


def claim_port_range() -> str:
    """Claim a free block of the pool for this process and make it its PORT_RANGE ("START-END")."""
    if _held:
        return os.environ["PORT_RANGE"]
    pool = os.environ.get("PORT_POOL") or os.environ.get("PORT_RANGE") or DEFAULT_POOL
    first, last = (int(bound) for bound in pool.split("-"))
    size = min(BLOCK, last - first)
    LOCKS.mkdir(exist_ok=True)
    for start in range(first, last - size + 1, size):
        handle = os.open(LOCKS / f"{start}-{start + size}.lock", os.O_RDONLY | os.O_CREAT, 0o666)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            continue
        _held.append(handle)
        os.environ["PORT_POOL"] = pool
        os.environ["PORT_RANGE"] = f"{start}-{start + size}"
        return os.environ["PORT_RANGE"]
    raise OSError(f"Every block of {size} ports between {first} and {last} is claimed by another process.")
