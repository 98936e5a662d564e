"""`write_locked`: the dashboard's own database refuses every write while a test body runs (reads still
work), to prove that no upstream change happens without its audit entry. On SQLite another connection
holds the database's write lock; on PostgreSQL, whose writers would wait for a lock without end, the
dashboard's connection is made read-only. Import the fixture into a test module to use it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from django.db import connection


@pytest.fixture
def write_locked() -> Iterator[None]:
    """The dashboard's database refuses every write while the test body runs (reads still work)."""
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        holder = sqlite3.connect(name, uri=name.startswith("file:"), timeout=0)
        holder.execute("BEGIN EXCLUSIVE")  # another connection takes the write lock and keeps it
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 50")  # give up waiting for the lock quickly
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout = 5000")
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = on")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET default_transaction_read_only = off")
