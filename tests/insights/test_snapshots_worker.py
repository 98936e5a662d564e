"""The count snapshots run by a real task worker over the sandbox's socket: every record's count read,
then a customer's downloads seen as the change in their record's count, as the sandbox's log has them."""

from __future__ import annotations

from typing import Any

import requests

from downloads import history
from downloads.models import CountChange
from fileflare_admin.api.http import DOWNLOADS
from insights import snapshots
from insights.models import CountSnapshots
from tests.conftest import Sandbox
from tests.insights.conftest import records_total


def _snapshots() -> CountSnapshots | None:
    return CountSnapshots.objects.filter(api=DOWNLOADS.identity()).first()


def test_a_worker_snapshots_every_count_then_sees_a_customers_downloads_as_the_log_has_them(
    start_worker: Any, sandbox: Sandbox
) -> None:
    worker = start_worker(SNAPSHOT_FULL_EVERY_SECONDS=3600, SNAPSHOT_RECENT_EVERY_SECONDS=1)
    state = worker.wait_for(
        "the first full snapshot",
        lambda: (row := _snapshots()) is not None and row.full_finished_at is not None and row,
        timeout=300,
    )
    total = records_total(sandbox)
    assert state.full_records == total  # nobody makes records meanwhile (the trickle is off in tests)
    assert CountChange.objects.filter(latest=True).count() >= total
    assert snapshots.as_of() is not None

    made = sandbox.create_order(
        {"lines": [{"product": {"name": "Planner"}, "assets": [{"filename": "planner.pdf", "limit": 5}]}]}
    )
    record = requests.post(
        f"{sandbox.downloads_url}/downloads",
        headers={"Authorization": f"Bearer {sandbox.token}"},
        json={"order_id": made["order_number"], "download_file_name": "planner.pdf", "download_count": 0},
        timeout=10,
    ).json()
    download_id = record["download_id"]
    worker.wait_for("the new record's first sighting", lambda: history.last_counts([download_id]), timeout=60)

    page = requests.get(made["customer_page_url"], timeout=10).text
    action = page.split('action="', 1)[1].split('"', 1)[0]
    for _ in range(3):
        requests.post(f"{sandbox.url}{action}", timeout=10, allow_redirects=False).raise_for_status()
    events = [
        event
        for event in sandbox.download_events(order=made["order_number"])
        if event["download_id"] == download_id and not event["refused"]
    ]
    assert len(events) == 3

    worker.wait_for(
        "the downloads seen by a recent snapshot",
        lambda: history.last_counts([download_id])[download_id].count == 3,
        timeout=60,
    )
    rows = CountChange.objects.filter(download_id=download_id).filter(history.DOWNLOADED)
    assert sum(row.delta or 0 for row in rows) == len(events)
    assert {row.source for row in rows} == {"snapshot"}
