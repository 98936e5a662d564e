"""Fixtures every test shares: the sandbox on a real socket, upstream settings, staff accounts."""

import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.conf import LazySettings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from sandbox.launcher import Credentials, Sandbox, SandboxFailed, free_port, start_sandbox
from tests.support.ports import claim_port_range

__all__ = ["TEST_PASSWORD", "Sandbox", "free_port"]

PROJECT = Path(__file__).resolve().parent.parent

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run beside one
# unless told that the loop is not ours to share.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

TEST_PASSWORD = "correct-horse-battery-staple-42"


def pytest_configure(config: pytest.Config) -> None:
    """Each process that runs tests (pytest-xdist's gw0, gw1, … or the only one) takes its servers' ports
    from a block of its own, claimed across every test run on this machine (tests/support/ports.py), so
    neither two processes of a run nor two runs side by side pick the same port. xdist's controller
    runs no test and claims none."""
    if getattr(config, "workerinput", None) is None and config.getoption("numprocesses", default=None):
        return
    claim_port_range()


# `make test` runs the suite in two processes that take one test at a time, whichever is free (-n 2
# --dist loadgroup), so neither is left with a long file at the end while the other waits. Tests that
# share a costly fixture wider than one test go to one process together, so it starts once: the fault
# stack (gunicorn, Redis, the sandbox), the two machines, the nginx site, Chromium with its live server.
# Those and the other files that start servers of their own go first.
SAME_PROCESS = {
    "tests/two_machines/": "two_machines",
    "tests/browser/": "browser",
    "tests/faults/": "faults",
    "tests/deploy/test_nginx.py": "nginx",
}
LONG_FIRST = (*SAME_PROCESS, "tests/jobs/", "tests/order_index/", "tests/deploy/")


def _long_rank(item: pytest.Item) -> int:
    ranks = (rank for rank, folder in enumerate(LONG_FIRST) if item.nodeid.startswith(folder))
    return next(ranks, len(LONG_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_long_rank)  # stable: each file keeps its own order


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadgroup, with the groups named in SAME_PROCESS (pytest-xdist's own `xdist_group` marks
    no longer reach its scheduler under pytest 9: it reads a test's id, where the mark is not added)."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SameProcessScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = (name for path, name in SAME_PROCESS.items() if nodeid.startswith(path))
            return next(group, None) or super()._split_scope(nodeid)

    return SameProcessScheduling(config, log)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A real sandbox process on a free port, with its own database, credentials and no rate limits."""
    folder = tmp_path_factory.mktemp("sandbox")
    try:
        running = start_sandbox(
            database=folder / "sandbox.sqlite3",
            credentials=Credentials(
                key="test-fileflare-key-5d2c",
                token="test-downloads-token-8a1f",
                secret="test-downloads-secret-3e9b",
            ),
            env={"SANDBOX_RATE_LIMIT": "0", "SANDBOX_EMAIL_RATE_LIMIT": "0"},
            log_path=folder / "sandbox.log",
        )
    except SandboxFailed as failed:
        pytest.fail(str(failed))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _upstream_settings(settings: LazySettings, sandbox: Sandbox) -> Iterator[None]:
    """Every test talks to the test sandbox, with a clean cache and budgets that do not get in the way."""
    settings.FILEFLARE_API_URL = sandbox.fileflare_url
    settings.FILEFLARE_API_KEY = sandbox.key
    settings.DOWNLOADS_API_URL = sandbox.downloads_url
    settings.DOWNLOADS_API_TOKEN = sandbox.token
    settings.FILEFLARE_BUDGET_PER_MINUTE = 100_000
    settings.FILEFLARE_EMAIL_BUDGET_PER_MINUTE = 100_000
    settings.DOWNLOADS_BUDGET_PER_MINUTE = 0
    settings.UPSTREAM_RETRIES = 2
    settings.UPSTREAM_BACKOFF = 0.05
    cache.clear()
    yield
    cache.clear()
    sandbox.reset_faults()


# Staff's data migration: it makes the role groups.
ROLES_MIGRATION = importlib.import_module("staff.migrations.0001_roles")


def _wants_transaction(request: pytest.FixtureRequest, marker: pytest.Mark | None) -> bool:
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        return True
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


@pytest.fixture(autouse=True)
def _role_groups(request: pytest.FixtureRequest) -> None:
    """Every test that uses the database finds the role groups a migrated database has. A transactional
    test empties every table when it ends, the data migration's rows too, and with tests spread over two
    processes any test may come after one."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db", "live_server"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if _wants_transaction(request, marker) else "db")
    ROLES_MIGRATION.create_roles(django_apps, None)  # get_or_create: nothing when they are there


def _make_user(username: str, group: str | None, **extra: Any) -> User:
    user = User.objects.create_user(username=username, password=TEST_PASSWORD, **extra)
    if group:
        # get_or_create: transactional (browser) tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def support_user(db: None) -> User:
    return _make_user("sam-support", "Support")


@pytest.fixture
def merchant_user(db: None) -> User:
    return _make_user("mia-merchant", "Merchant")


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_superuser("ada-admin", password=TEST_PASSWORD, email="")


@pytest.fixture
def support_client(support_user: User) -> Client:
    client = Client()
    client.force_login(support_user)
    return client


@pytest.fixture
def merchant_client(merchant_user: User) -> Client:
    client = Client()
    client.force_login(merchant_user)
    return client


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client
