"""The sandbox's downloads over time (sandbox.trickle): steps decided by the seed and the moment, customers
refused at their limit as on their page, link scanners right after an e-mail, and every download in the
ground truth (`/_sandbox/download-events`)."""

import urllib.error
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.conftest import SandboxApis
from tests.support.fileflare_says import email_sent_at


def _order(sandbox: SandboxApis, *, limit: int) -> dict[str, Any]:
    made = sandbox.create_order(
        {"lines": [{"product": {"name": "Planner"}, "assets": [{"filename": "planner.pdf", "limit": limit}]}]}
    )
    answer = requests.post(
        f"{sandbox.downloads_url}/downloads",
        headers={"Authorization": f"Bearer {sandbox.token}"},
        json={"order_id": made["order_number"], "download_file_name": "planner.pdf", "download_count": 0},
        timeout=10,
    )
    answer.raise_for_status()
    return {**made, "download_id": answer.json()["download_id"]}


def _count(sandbox: SandboxApis, download_id: str) -> int:
    answer = requests.get(
        f"{sandbox.downloads_url}/downloads/{download_id}",
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return int(answer.json()["download_count"])


def test_a_step_is_decided_by_the_seed_and_the_moment_and_does_what_it_planned(sandbox: SandboxApis) -> None:
    at = (datetime.now().astimezone() + timedelta(days=3)).replace(microsecond=0).isoformat()
    plans = {seed: sandbox.trickle(at=at, seed=seed, dry_run=True) for seed in range(1, 9)}
    assert sandbox.trickle(at=at, seed=3, dry_run=True) == plans[3]
    assert len({repr(plan) for plan in plans.values()}) > 1  # another seed, another step
    planned = plans[3]["downloads"]
    done = sandbox.trickle(at=at, seed=3)
    assert done["steps"] == 1
    made = sum(done["downloads"].values()) + sum(done["refused"].values())
    until = (datetime.fromisoformat(at) + timedelta(seconds=1)).isoformat()
    events = sandbox.download_events(since=at, until=until)
    assert len(events) == made >= len(planned)
    pairs = [(event["order_number"], event["kind"]) for event in events]
    expected = [(download["order_number"], download["kind"]) for download in planned]
    if any(download["until_refused"] for download in planned):  # a keen customer: again until refused
        assert set(pairs) == set(expected)
    else:
        assert pairs == expected


def test_a_link_scanner_downloads_several_times_within_minutes_of_the_email_and_is_refused_at_the_limit(
    sandbox: SandboxApis,
) -> None:
    order = _order(sandbox, limit=3)
    number = order["order_number"]
    emailed = email_sent_at(sandbox, number)
    assert emailed is not None
    after = (emailed + timedelta(minutes=5)).isoformat()

    def scanned(seed: int) -> int:
        plan = sandbox.trickle(at=after, seed=seed, dry_run=True)
        return sum(
            1 for item in plan["downloads"] if item["order_number"] == number and item["kind"] == "scanner"
        )

    seed = next(seed for seed in range(1, 200) if scanned(seed))
    times = scanned(seed)
    assert 3 <= times <= 5
    done = sandbox.trickle(at=after, seed=seed)
    assert done["downloads"]["scanner"] + done["refused"]["scanner"] >= times  # (the customer may come first)
    events = [
        event
        for event in sandbox.download_events(since=emailed.isoformat())
        if event["order_number"] == number
    ]
    scanner = [event for event in events if event["kind"] == "scanner"]
    assert len(scanner) == times
    refusals = [event["refused"] for event in scanner]
    assert refusals == sorted(refusals) and refusals.count(True) >= times - 3  # made, then refused at 3
    assert {event["download_id"] for event in scanner} == {order["download_id"]}
    assert _count(sandbox, order["download_id"]) == 3 == sum(not event["refused"] for event in events)
    again = sandbox.trickle(at=(emailed + timedelta(minutes=6)).isoformat(), seed=seed)  # the burst is over
    assert not [
        event
        for event in sandbox.download_events(since=(emailed + timedelta(minutes=6)).isoformat())
        if event["order_number"] == number and event["kind"] == "scanner"
    ], again


def test_a_steady_trickle_makes_downloads_new_orders_and_refusals_all_in_the_ground_truth(
    sandbox: SandboxApis,
) -> None:
    start = datetime.now().astimezone() + timedelta(days=10)
    done = sandbox.trickle(steps=60, at=start.isoformat(), every=60, seed=29)
    assert done["steps"] == 60
    assert done["downloads"]["customer"] > 20 and done["orders"]
    events = sandbox.download_events(since=start.isoformat(), until=(start + timedelta(hours=1)).isoformat())
    made = [event for event in events if not event["refused"]]
    assert len(made) == sum(done["downloads"].values())
    assert len(events) - len(made) == sum(done["refused"].values())
    for number in done["orders"]:  # a new order's files start at 0: only the log's downloads moved them
        records = requests.get(
            f"{sandbox.downloads_url}/downloads",
            params={"search": str(number), "perpage": 100},
            headers={"Authorization": f"Bearer {sandbox.token}"},
            timeout=10,
        ).json()
        for record in (item for item in records if item["order_id"] == number):
            logged = [e for e in made if e["download_id"] == record["download_id"]]
            assert int(record["download_count"]) == len(logged)


def test_the_customers_page_download_is_in_the_ground_truth(sandbox: SandboxApis) -> None:
    order = _order(sandbox, limit=1)
    page = requests.get(f"{sandbox.url}/_sandbox/customer/{order['customer_token']}/", timeout=10).text
    action = page.split('action="', 1)[1].split('"', 1)[0]
    for _ in range(2):
        requests.post(f"{sandbox.url}{action}", timeout=10, allow_redirects=False).raise_for_status()
    events = [e for e in sandbox.download_events() if e["order_number"] == order["order_number"]]
    assert [(e["kind"], e["refused"], e["download_id"]) for e in events] == [
        ("customer", False, order["download_id"]),
        ("customer", True, order["download_id"]),
    ]


@pytest.mark.parametrize(
    "body",
    [{"steps": -1}, {"steps": "many"}, {"at": "yesterday"}, {"at": "2026-12-07T10:00:00"}, {"every": True}],
)
def test_the_trickle_endpoint_refuses_what_it_cannot_read(sandbox: SandboxApis, body: dict[str, Any]) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        sandbox.call("/_sandbox/trickle", body, method="POST")
    assert refused.value.code == 422


def test_the_shop_is_taken_back_to_a_moment_and_a_test_driving_time_ahead_leaves_nothing_dated_later(
    sandbox: SandboxApis,
) -> None:
    now = datetime.now(UTC)
    ahead = (now + timedelta(days=30)).replace(microsecond=0)
    done = sandbox.trickle(steps=60, at=ahead.isoformat(), every=60, seed=29)
    assert done["orders"], done  # the steps sold something, so there is something to forget
    forgotten = sandbox.forget_after((now + timedelta(hours=1)).isoformat())
    assert forgotten["orders"] == len(done["orders"]) and forgotten["download_events"] >= 1, forgotten
    assert sandbox.download_events(since=(now + timedelta(hours=1)).isoformat()) == []
    answer = requests.get(
        f"{sandbox.downloads_url}/downloads",
        headers={"Authorization": f"Bearer {sandbox.token}"},
        params={"perpage": 1, "sortby": "date_created", "sortdir": "DESC"},
        timeout=10,
    )
    answer.raise_for_status()
    [newest] = answer.json()
    assert str(newest["date_created"]) < ahead.strftime("%Y-%m-%d"), newest
