"""`-p tests.support.dbpass`: in the PostgreSQL pass, run only the tests whose behaviour depends on the
database engine.

`make test` runs the whole suite on SQLite, then again through `python -m tests.support.postgres`, which sets
TEST_DATABASE_ENGINE=postgresql. That second pass keeps the tests marked `engine` (pyproject.toml): what
they prove is decided by the database itself (row locks and select_for_update, unique constraints and the
IntegrityError a claim relies on, guarded updates between concurrent writers, a database that refuses
writes, JSON columns, the NUL characters PostgreSQL refuses, dates taken in a time zone), so SQLite
passing says nothing about PostgreSQL. The rest would only repeat themselves: every test still runs on
SQLite, and the PostgreSQL pass applies every migration before its first test.
"""

from __future__ import annotations

import os

import pytest

DATABASE_FIXTURES = frozenset({"db", "transactional_db", "live_server"})


def _uses_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") is not None:
        return True
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("TEST_DATABASE_ENGINE") != "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("engine") is not None]
    without_database = [item.nodeid for item in kept if not _uses_database(item)]
    if without_database:
        raise pytest.UsageError(f"Marked `engine` but uses no database: {', '.join(without_database)}")
    left_out = [item for item in items if item.get_closest_marker("engine") is None]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
    items[:] = kept


def pytest_report_header(config: pytest.Config) -> str | None:
    if os.environ.get("TEST_DATABASE_ENGINE") == "postgresql":
        return "database: PostgreSQL (the tests marked `engine`: their behaviour depends on the database)"
    return None
