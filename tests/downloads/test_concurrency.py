"""No lost update between staff: two people fixing the same record's count at the same moment, from the
same starting value, through the dashboard's own pages in two threads, against the sandbox with upstream
latency. The read-check-write of a record is serialized by a short lock in the shared cache, so in every
round exactly one fix is saved and the other person sees the conflict sentence with both values."""

import re
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]

ROUNDS = 20


def _post_together(clients: list[Client], url: str, bodies: list[dict[str, str]]) -> list[str]:
    """Each client posts its body at the same moment (a barrier), each in its own thread."""
    start = threading.Barrier(len(clients))
    pages: list[str] = [""] * len(clients)
    failures: list[BaseException] = []

    def post(index: int) -> None:
        try:
            start.wait(timeout=10)
            response = clients[index].post(url, bodies[index], HTTP_HX_REQUEST="true")
            pages[index] = response.content.decode()
        except BaseException as error:  # reported by the test thread below
            failures.append(error)

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return pages


def test_of_two_simultaneous_count_fixes_exactly_one_is_saved_in_every_round(
    merchant_client: Client,
    second_merchant_client: Client,
    merchant_user: User,
    make_record: Any,
    downloads_api: DownloadsApi,
    sandbox: Sandbox,
) -> None:
    sandbox.config(latency_ms=40)  # an upstream across the internet: the race window is wide open
    record = make_record(download_count=0)
    url = reverse("downloads:count", args=[record["download_id"]])
    lost = 0
    for round_number in range(ROUNDS):
        start = round_number * 10
        downloads_api.patch(record["download_id"], download_count=start)
        mine, theirs = start + 1, start + 2
        pages = _post_together(
            [merchant_client, second_merchant_client],
            url,
            [{"count": str(mine), "expected": str(start)}, {"count": str(theirs), "expected": str(start)}],
        )
        saved = [page for page in pages if "Saved" in page and "Not saved" not in page]
        refused = [page for page in pages if "Not saved: someone changed this count" in page]
        lost += len(saved) - 1 if len(saved) > 1 else 0
        assert (len(saved), len(refused)) == (1, 1), f"round {round_number}: {pages}"
        now = downloads_api.get(record["download_id"])["download_count"]
        assert now in (mine, theirs)
        loser = theirs if now == mine else mine
        # The refused person sees both values: the count they started from and the one saved meanwhile,
        # and their own number, to enter again if they still want it.
        assert f"from {start} to {now} meanwhile" in refused[0] and f"enter {loser} again" in refused[0]
        assert re.search(rf'name="count" value="{now}"', refused[0])
    assert lost == 0
    outcomes = list(AuditEntry.objects.values_list("outcome", flat=True))
    assert outcomes.count("success") == ROUNDS and outcomes.count("failed") == ROUNDS
    assert "pending" not in outcomes
