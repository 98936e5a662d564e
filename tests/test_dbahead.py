"""A page's database reads sent to PostgreSQL in one round trip (fileflare_admin.dbahead; issue 28): the
reads that followed a page's first read last time go with it, each answered from the server's rows of this
page, never a value read before a write of the same page."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import DataError, connection
from django.test import Client

from audit.models import AuditEntry
from fileflare_admin import dbahead
from tests.conftest import Sandbox

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]

FIRST = "SELECT id FROM auth_group WHERE name = %s"
LATER = "SELECT name FROM auth_group WHERE id = %s"
ORDER_1050 = "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/"


@pytest.fixture(autouse=True)
def _postgres_only_and_nothing_remembered() -> Iterator[None]:
    if connection.vendor != "postgresql":
        pytest.skip("one round trip for several statements is PostgreSQL's pipeline mode")
    dbahead._later.clear()
    yield
    dbahead._later.clear()


def _one(sql: str, params: list[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


class _Sent:
    """Inside a scope: the statements that went to the server one by one (not answered from a pipeline)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements.append(sql)
        return execute(sql, params, many, context)


def _page(reads: Callable[[], Any]) -> tuple[Any, list[str]]:
    sent = _Sent()
    with dbahead.scope(), connection.execute_wrapper(sent):
        return reads(), sent.statements


def test_the_reads_that_followed_a_first_read_go_with_it_the_next_time() -> None:
    group = Group.objects.create(name="dbahead-a")

    def reads() -> Any:
        return _one(LATER, [_one(FIRST, ["dbahead-a"])])

    assert _page(reads) == ("dbahead-a", [FIRST, LATER])  # the first time: one by one, remembered
    assert _page(reads) == ("dbahead-a", [])  # then: both in one pipeline
    group.name = "dbahead-c"
    group.save()
    assert _one(LATER, [group.pk]) == "dbahead-c"
    assert _page(lambda: _one(LATER, [_one(FIRST, ["dbahead-c"])])) == ("dbahead-c", [FIRST, LATER])


def test_a_read_with_other_values_goes_to_the_server() -> None:
    first, other = Group.objects.create(name="dbahead-a"), Group.objects.create(name="dbahead-b")
    _page(lambda: (_one(FIRST, ["dbahead-a"]), _one(LATER, [first.pk])))
    assert _page(lambda: (_one(FIRST, ["dbahead-a"]), _one(LATER, [other.pk]))) == (
        (first.pk, "dbahead-b"),
        [LATER],
    )


def test_a_write_of_the_page_drops_what_was_read_ahead() -> None:
    group = Group.objects.create(name="dbahead-a")

    def reads() -> Any:
        found = _one(FIRST, ["dbahead-a"])
        Group.objects.filter(pk=found).update(name="dbahead-a2")  # this page's own write
        return _one(LATER, [found])

    _page(reads)
    Group.objects.filter(pk=group.pk).update(name="dbahead-a")
    name, sent = _page(reads)
    assert name == "dbahead-a2"  # read after the write, not with the first read
    assert sent[-1] == LATER


def test_a_read_ahead_that_fails_leaves_the_page_its_reads_and_its_error() -> None:
    Group.objects.create(name="dbahead-a")

    def reads() -> Any:
        found = _one(FIRST, ["dbahead-a"])
        with pytest.raises(DataError):
            _one("SELECT 1 / %s", [0])
        return found

    _page(reads)
    found, sent = _page(reads)  # the pipeline fails: the first read is made alone, the error where it was
    assert found is not None
    assert sent == [FIRST, "SELECT 1 / %s"]


def test_locks_and_writes_are_never_read_ahead() -> None:
    assert dbahead._plain_read("SELECT id FROM auth_group WHERE id = %s")
    assert not dbahead._plain_read("SELECT id FROM auth_group WHERE id = %s FOR UPDATE")
    assert not dbahead._plain_read("SELECT pg_advisory_lock(%s)")
    assert not dbahead._plain_read("SELECT nextval('x')")
    assert not dbahead._plain_read("UPDATE auth_group SET name = %s")


def test_inside_a_transaction_nothing_is_read_ahead() -> None:
    from django.db import transaction

    Group.objects.create(name="dbahead-a")

    def reads() -> Any:
        with transaction.atomic():
            return _one(LATER, [_one(FIRST, ["dbahead-a"])])

    _page(reads)
    assert _page(reads)[1] == [FIRST, LATER]


def test_the_warm_order_page_reads_in_one_round_trip_and_shows_a_new_entry_at_once(
    support_client: Client, support_user: User, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    send = dbahead._send
    monkeypatch.setattr(
        dbahead, "_send", lambda page, statements: sent.append(len(statements)) or send(page, statements)
    )
    for _ in range(3):
        assert support_client.get(ORDER_1050).status_code == 200
    assert sent and sent[-1] >= 4  # its number, then its history, limits, count changes and reply with it
    AuditEntry.objects.create(
        actor=support_user,
        actor_name=support_user.username,
        action="download_record_count",
        order_number=1050,
        download_id="dbahead-test",
        before={"download_count": 2},
        after={"download_count": 1},
        reason="Read ahead, shown at once",
        outcome="success",
    )
    assert "Read ahead, shown at once" in support_client.get(ORDER_1050).content.decode()
