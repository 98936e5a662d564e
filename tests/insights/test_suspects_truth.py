"""Link-scanner suspects against the sandbox's ground truth: the sandbox's link scanner downloads an order's
file within minutes of its e-mail (sandbox.trickle, logged in DownloadEvent); the dashboard sees only the
record's count, a snapshot a minute, and names the record — on the Reports page and the order page — with
exactly the downloads the log says were made; an order the scanner left alone is not named."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from django.test import Client

from downloads.history import note_counts
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import fileflare
from insights.suspects import suspects_between, suspects_refresh
from orders_index.services import order_index_note
from tests.conftest import SandboxApis

pytestmark = pytest.mark.django_db
FILE = "planner.pdf"


def _order(sandbox: SandboxApis) -> dict[str, Any]:
    """An order e-mailed now, whose one file (limit 10: no refusal) has its record at 0."""
    made = sandbox.create_order(
        {"lines": [{"product": {"name": "Planner"}, "assets": [{"filename": FILE, "limit": 10}]}]}
    )
    answer = requests.post(
        f"{sandbox.downloads_url}/downloads",
        headers={"Authorization": f"Bearer {sandbox.token}"},
        json={"order_id": made["order_number"], "download_file_name": FILE, "download_count": 0},
        timeout=10,
    )
    answer.raise_for_status()
    order = fileflare.order_get(order_id=made["id"]).value
    order_index_note(order)  # the order index knows its e-mail, as its sync would
    assert order.email_sent_at is not None
    return {**made, "download_id": answer.json()["download_id"], "emailed": order.email_sent_at}


def _snapshot(orders: list[dict[str, Any]], at: datetime) -> None:
    """What a snapshot at `at` notes: each record's count, read fresh from the downloads API."""
    records = [downloads_api.record_get(download_id=o["download_id"], fresh=True).value for o in orders]
    note_counts(records, seen_at=at, source="snapshot")


def _scanned(sandbox: SandboxApis, order: dict[str, Any], seed: int) -> int:
    after = (order["emailed"] + timedelta(minutes=5)).isoformat()
    plan = sandbox.trickle(at=after, seed=seed, dry_run=True)
    return sum(1 for item in plan["downloads"] if item["order_number"] == order["order_number"])


def _quiet_moment(sandbox: SandboxApis, minute: datetime, seed: int, mine: tuple[int, ...]) -> datetime:
    """The first second of `minute` whose step sends no customer to these orders. A step's customers are
    drawn from the seed and its moment, and the orders' e-mail time is the clock's: stepping at the
    whole minutes alone left the customers to the clock (a customer's download six minutes after the
    e-mail stretched the scanner's burst past five minutes, now and then)."""
    for second in range(60):
        at = minute + timedelta(seconds=second)
        plan = sandbox.trickle(at=at.isoformat(), seed=seed, dry_run=True)
        if not any(d["order_number"] in mine and d["kind"] == "customer" for d in plan["downloads"]):
            return at
    raise AssertionError(f"Every second of {minute} sends a customer to orders {mine}.")


def test_the_scanned_order_is_named_with_the_downloads_the_log_says_and_the_other_is_not(
    sandbox: SandboxApis, merchant_client: Client
) -> None:
    scanned, spared = _order(sandbox), _order(sandbox)
    seed = next(
        seed
        for seed in range(1, 400)
        if _scanned(sandbox, scanned, seed) >= 3 and _scanned(sandbox, spared, seed) == 0
    )
    emailed = max(scanned["emailed"], spared["emailed"])
    mine = (scanned["order_number"], spared["order_number"])
    _snapshot([scanned, spared], emailed)  # the first sighting: 0 each
    for minute in range(1, 7):  # the shop lives on, a snapshot a minute
        at = _quiet_moment(sandbox, emailed + timedelta(minutes=minute), seed, mine)
        sandbox.trickle(at=at.isoformat(), seed=seed)
        _snapshot([scanned, spared], at)
    until = emailed + timedelta(minutes=7)
    events = [
        event
        for event in sandbox.download_events(since=emailed.isoformat(), until=until.isoformat())
        if event["download_id"] == scanned["download_id"] and not event["refused"]
    ]
    assert sum(event["kind"] == "scanner" for event in events) >= 3  # the truth: a scanner came

    assert all(event["kind"] == "scanner" for event in events)  # no customer of ours came meanwhile
    suspects_refresh()  # as the worker's scan does after the snapshots
    [suspect] = [s for s in suspects_between(emailed - timedelta(hours=1), until) if s.order_number in mine]
    assert (suspect.download_id, suspect.rule) == (scanned["download_id"], "email")
    assert suspect.downloads == len(events)  # every download the log holds, no more
    last = max(datetime.fromisoformat(event["at"]) for event in events)
    assert suspect.last_seen == last  # the snapshot right after the step that made it
    assert suspect.last_seen - suspect.since <= timedelta(minutes=5)

    page = merchant_client.get(f"/orders/{scanned['id']}/").content.decode()
    assert suspect.sentence in page and f"Give back {len(events)} downloads" in page
    assert "possibly a link scanner" not in merchant_client.get(f"/orders/{spared['id']}/").content.decode()
    report = merchant_client.get("/reports/").content.decode()
    assert f"#{scanned['order_number']}" in report.split('id="figure-suspects"', 1)[1]
    assert f"#{spared['order_number']}<" not in report.split('id="figure-suspects"', 1)[1]

