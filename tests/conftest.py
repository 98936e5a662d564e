"""Fixtures every test shares: the sandbox (in this process, or on a real socket), upstream settings,
staff accounts."""

import importlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import translation

from sandbox.launcher import Credentials, Sandbox, SandboxApis, SandboxFailed, free_port, start_sandbox
from tests.support.inprocess import InProcessSandbox, start_inprocess, upstream_settings
from tests.support.ports import claim_port_range
from tests.support.static_files import remember_static_files

__all__ = ["TEST_PASSWORD", "Sandbox", "SandboxApis", "free_port"]

PROJECT = Path(__file__).resolve().parent.parent

# Each test client builds WhiteNoise's list of static files once per process, not once per client.
remember_static_files()

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
    _mark_outer(items)


# The upstreams: the sandbox's own rules served inside this process (tests/support/inprocess.py) for
# every test, except the outer ring's: tests that drive a browser, a task worker, gunicorn or nginx, or hand
# the sandbox's address to another process, talk to a real sandbox process over a socket, as do the API
# clients' tests (the socket's own failures: refused connections, timeouts, pooled connections).
# `make check` runs the inner ring alone (-m "not outer").
OUTER_PATHS = (
    "tests/browser/",
    "tests/two_machines/",
    "tests/deploy/",
    "tests/faults/",
    "tests/sandbox/test_launcher.py",
    "tests/api/test_clients.py",
)
OUTER_FIXTURES = frozenset({"live_server", "start_worker", "sandbox_process"})


def _mark_outer(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(OUTER_PATHS) or OUTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.outer)


def _test_credentials() -> Credentials:
    """What every test's sandbox accepts (tests/settings.py names them for the in-process one)."""
    return Credentials(
        key=django_settings.SANDBOX_FILEFLARE_KEY,
        token=django_settings.SANDBOX_DOWNLOADS_TOKEN,
        secret=django_settings.SANDBOX_DOWNLOADS_SECRET,
    )


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
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A real sandbox process on a free port, with its own database, credentials and no rate limits."""
    folder = tmp_path_factory.mktemp("sandbox")
    try:
        running = start_sandbox(
            database=folder / "sandbox.sqlite3",
            credentials=_test_credentials(),
            env={"SANDBOX_RATE_LIMIT": "0", "SANDBOX_EMAIL_RATE_LIMIT": "0"},
            log_path=folder / "sandbox.log",
        )
    except SandboxFailed as failed:
        pytest.fail(str(failed))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sandbox_inprocess(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessSandbox]:
    """The sandbox inside this process: its middleware, URLs and seeded database, no socket."""
    folder = tmp_path_factory.mktemp("sandbox-inprocess")
    stand_in = start_inprocess(credentials=_test_credentials(), log_path=folder / "sandbox.log")
    yield stand_in
    stand_in.stop()


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> SandboxApis:
    """The upstreams this test talks to: in this process, or a sandbox process for the outer ring."""
    outer = request.node.get_closest_marker("outer") is not None
    return request.getfixturevalue("sandbox_process" if outer else "sandbox_inprocess")


@pytest.fixture(autouse=True)
def _upstream_settings(sandbox: SandboxApis) -> Iterator[None]:
    """Every test talks to the test sandbox, with a clean cache and budgets that do not get in the way.
    One override for all of them (a test's own `settings` changes go on top of it)."""
    with override_settings(**upstream_settings(sandbox)):
        cache.clear()
        yield
        cache.clear()
    sandbox.reset_faults()
    # A test that drove the shop's time ahead (the trickle, minutes or days from now) takes it back, so the
    # next test's newest record or order is not one dated in the future.
    sandbox.forget_after(datetime.now(UTC).isoformat())


# Staff's data migration: it makes the role groups.
ROLES_MIGRATION = importlib.import_module("staff.migrations.0001_roles")


def _wants_transaction(request: pytest.FixtureRequest, marker: pytest.Mark | None) -> bool:
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        return True
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


@pytest.fixture(autouse=True)
def _language_after_each_test() -> Iterator[None]:
    """A request through the test client leaves its language active in the thread (LocaleMiddleware
    activates and nothing deactivates): each test starts in the shop's language, not the last page's."""
    translation.deactivate()
    yield
    translation.deactivate()


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
