"""Attach and detach of one file on one order at the same moment, through two gunicorn instances on one
PostgreSQL and one Redis (issue 27, item 2): the order's lock in the shared cache serialises them across
the machines, each reads the order fresh before and after its own change, so every entry records what
really changed, in the order it happened, and nobody is told "already so" when it was not.

Its own stack (tests/two_machines/test_two_instances.py's shape, no budget to run into, an upstream with
latency so the race window is wide open), on its own PostgreSQL: the PostgreSQL pass leaves it out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
import requests

from bench.stack import Stack
from tests.deploy.files import in_postgres_pass
from tests.support.together import at_once
from tests.two_machines.machines import machines, post, words

pytestmark = pytest.mark.skipif(in_postgres_pass(), reason="it runs on its own PostgreSQL in the first pass")

STAFF = ("amira", "bo")  # Merchants, one on each instance
FILE_ID = "82664d96-6dfd-4343-96b0-05c46f41000a"
FILE_NAME = "My new book - part 2"
ROUNDS = 6


@dataclass
class RaceStack(Stack):
    def dashboard_env(self) -> dict[str, str]:
        # The budget has its own tests; here it must not be what a change runs into.
        return {**super().dashboard_env(), "FILEFLARE_BUDGET_PER_MINUTE": "100000", "LOG_LEVEL": "WARNING"}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with machines(
        STAFF,
        kind=RaceStack,
        latency_ms=40,
        workers=2,
        threads=4,
        instances=2,
        sandbox_env={"SANDBOX_RATE_LIMIT": "0", "SANDBOX_EMAIL_RATE_LIMIT": "0"},
    ) as started:
        yield started


def _flash(page: str) -> str:
    if 'class="flashes"' not in page:
        return ""
    return words(page.split('class="flashes"', 1)[1].split("</ul>", 1)[0])


class Fileflare:
    """The sandbox's Fileflare API, read and changed as an outside observer."""

    def __init__(self, stack: Stack) -> None:
        assert stack.sandbox is not None
        self.base = f"{stack.sandbox.fileflare_url}/v1/orders"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {stack.sandbox.key}"

    def files(self, order_id: str) -> list[str]:
        answer = self.session.get(f"{self.base}/{order_id}", params={"with_assets": 1}, timeout=30)
        answer.raise_for_status()
        return [asset["id"] for asset in answer.json()["data"][0]["assets"]]

    def change(self, order_id: str, action: str) -> None:
        answer = self.session.post(f"{self.base}/{order_id}/{action}", json={"assets": [FILE_ID]}, timeout=30)
        answer.raise_for_status()


def test_attach_and_detach_at_the_same_moment_on_two_instances_record_what_really_changed(
    stack: Stack,
) -> None:
    assert stack.sandbox is not None
    people = [stack.login(name, base) for name, base in zip(STAFF, stack.dashboard_urls, strict=True)]
    made = stack.sandbox.create_order({"lines": [{"product": {"name": "Race"}, "assets": []}]})
    order_id = made["id"]
    fileflare = Fileflare(stack)
    database = psycopg.connect(stack.database_url, autocommit=True)
    last_entry = 0
    said_wrongly: list[str] = []
    for round_number in range(ROUNDS):
        # Every other round starts with the file on the order, so either change may meet either state.
        attached_at_start = round_number % 2 == 1
        if (FILE_ID in fileflare.files(order_id)) != attached_at_start:
            fileflare.change(order_id, "attach" if attached_at_start else "detach")
        start = [FILE_ID] if attached_at_start else []
        attacher = round_number % 2  # the instances take turns at each change

        def change(index: int, action: str) -> Callable[[], str]:
            def send() -> str:
                base = stack.dashboard_urls[index]
                answer = post(people[index], f"{base}/orders/{order_id}/{action}/", {"asset": FILE_ID})
                assert answer.status_code == 302, words(answer.text)[:400]
                return _flash(people[index].get(base + answer.headers["Location"], timeout=60).text)

            return send

        flashes = at_once(change(attacher, "attach"), change(1 - attacher, "detach"))
        rows = database.execute(
            "SELECT id, action, outcome, before, after, error FROM audit_auditentry "
            "WHERE order_id = %s AND id > %s ORDER BY finished_at, id",
            (order_id, last_entry),
        ).fetchall()
        assert len(rows) == 2 and {row[2] for row in rows} <= {"success", "failed"}, rows
        last_entry = max(row[0] for row in rows)
        # The successful changes, in the order they finished, each start where the one before left off
        # and say exactly what they changed; the file ends as the last one left it.
        state = start
        for _, action, outcome, before, after, error in rows:
            if outcome == "failed":  # a detach that found the file already gone: nothing was sent
                assert action == "order_assets_detach" and FILE_ID not in state, (rows, error)
                assert "not attached to the order" in error or "Only files attached" in error, error
                continue
            was = [asset["id"] for asset in before["assets"]]
            now = [asset["id"] for asset in after["assets"]]
            assert was == state, f"round {round_number}: {action} started from {was}, the file was {state}"
            key = "attached" if action == "order_assets_attach" else "detached"
            moved = [asset["id"] for asset in after[key]]
            assert moved == ([] if (FILE_ID in was) == (key == "attached") else [FILE_ID]), rows
            assert (FILE_ID in now) == (key == "attached"), rows
            state = now
        assert fileflare.files(order_id) == state
        attach_said, detach_said = flashes
        attach_row = next(row for row in rows if row[1] == "order_assets_attach")
        if attach_row[4]["attached"]:
            expected = f"Attached “{FILE_NAME}” to order"
        else:
            expected = "Attached nothing new (already so)"
        if expected not in attach_said:
            said_wrongly.append(f"round {round_number}: {attach_said!r} (expected {expected!r})")
        detach_row = next(row for row in rows if row[1] == "order_assets_detach")
        if detach_row[2] == "success" and f"Detached “{FILE_NAME}” from order" not in detach_said:
            said_wrongly.append(f"round {round_number}: {detach_said!r}")
        if "Detached nothing new (already so)" in detach_said:
            said_wrongly.append(f"round {round_number}: {detach_said!r}")
    database.close()
    assert said_wrongly == []

