"""`-p tests.support.dbpass`: in the PostgreSQL pass, run only the tests that touch the database.

`make test` runs the whole suite on SQLite, then again through `python -m tests.support.postgres`, which sets
TEST_DATABASE_ENGINE=postgresql. That second pass keeps every test that uses the dashboard's database (a
`django_db` mark, or the `db` / `transactional_db` / `live_server` fixtures anywhere in its fixture closure:
the audit trail, undo claims, write-ahead entries, locks, the order index, jobs) and leaves out the
rest, which would only repeat themselves. Browser tests are left out too: they check pages, not the
engine, and the server-side paths they drive are covered by the client tests that stay.
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
    kept = [item for item in items if _uses_database(item) and item.get_closest_marker("browser") is None]
    left_out = [item for item in items if item not in kept]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
    items[:] = kept


def pytest_report_header(config: pytest.Config) -> str | None:
    if os.environ.get("TEST_DATABASE_ENGINE") == "postgresql":
        return "database: PostgreSQL (the tests that touch the database)"
    return None
