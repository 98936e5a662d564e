"""Upstream text as our database can keep it.

Upstream data may hold NUL characters (a hostile file name); PostgreSQL keeps none in a text or JSON
column, and the failed write would take down what it was recording. `storable()` replaces each with
U+FFFD, the character that says "something unreadable stood here", in strings, dicts and lists alike.
"""

from __future__ import annotations

from typing import Any


def storable(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value
