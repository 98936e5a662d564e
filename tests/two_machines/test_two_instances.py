"""Two machines of one deployment in one test (issue 20): two gunicorn instances on different ports,
started from deploy/Procfile's `web` command, sharing one PostgreSQL and one Redis; two RQ workers from its
`worker` command; the sandbox enforcing Fileflare's 60 a minute. What both keep together: one budget, no
lost update, an undo done once, a bulk job run once.

It runs its own PostgreSQL (tests.support.postgres) and never Django's test database, so the PostgreSQL
pass of `make test` (tests/support/dbpass.py keeps only tests using the `db` fixtures) leaves it out: it
already runs on PostgreSQL in the first pass.
"""

from __future__ import annotations

import concurrent.futures
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import psycopg
import pytest
import requests

from bench.stack import Stack
from tests.deploy.files import in_postgres_pass
from tests.downloads.conftest import DownloadsApi
from tests.support.together import at_once
from tests.support.waiting import wait_until
from tests.two_machines.machines import machines, post, words

pytestmark = pytest.mark.skipif(in_postgres_pass(), reason="it runs on its own PostgreSQL in the first pass")

Database = psycopg.Connection[Any]
SANDBOX_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) sandbox fileflare \S+ \S+ (\d{3}) ")
STAFF = ("amira", "bo")  # one on each instance


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with machines(
        STAFF,
        latency_ms=0,
        workers=1,
        threads=4,
        instances=2,
        procfile=True,
        task_workers=2,
        sandbox_env={"SANDBOX_RATE_LIMIT": "60", "SANDBOX_EMAIL_RATE_LIMIT": "30"},
    ) as started:
        yield started


@pytest.fixture(scope="module")
def database(stack: Stack) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def downloads_api(stack: Stack) -> DownloadsApi:
    assert stack.sandbox is not None
    return DownloadsApi(stack.sandbox)


@pytest.fixture(scope="module")
def people(stack: Stack) -> list[requests.Session]:
    """Amira signed in on the first instance, Bo on the second."""
    return [stack.login(name, base) for name, base in zip(STAFF, stack.dashboard_urls, strict=True)]


def _fileflare_requests(stack: Stack) -> list[tuple[float, int]]:
    """(time, status) of every request the sandbox answered on Fileflare's API, from its own log."""
    assert stack.sandbox is not None
    found = []
    for line in stack.sandbox.log().splitlines():
        match = SANDBOX_LOG_LINE.match(line)
        if match:
            when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            found.append((when, int(match.group(2))))
    return found


def _busiest_minute(times: list[float]) -> int:
    times = sorted(times)
    windows = (sum(1 for other in times[index:] if other - start < 60) for index, start in enumerate(times))
    return max(windows, default=0)


def test_the_budget_holds_across_both_instances(stack: Stack, people: list[requests.Session]) -> None:
    """90 order pages opened cold within half a minute, alternating between the instances, while the order
    index's sync runs in the workers: Fileflare never sees more than 60 requests in any minute, never
    answers 429, and every page answers (the budget spent is a sentence, never an error)."""
    assert stack.sandbox is not None
    orders = [stack.sandbox.customer(number)["id"] for number in range(1101, 1191)]
    pages: list[requests.Response] = []

    def open_order(index: int) -> requests.Response:
        person = people[index % 2]
        base = stack.dashboard_urls[index % 2]
        return person.get(f"{base}/orders/{orders[index]}/", timeout=60)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        futures = []
        for index in range(len(orders)):
            futures.append(pool.submit(open_order, index))
            time.sleep(0.25)
        pages = [future.result() for future in futures]

    assert [page.status_code for page in pages if page.status_code >= 500] == []
    assert {page.status_code for page in pages} <= {200}
    sent = _fileflare_requests(stack)
    refused = [status for _, status in sent if status == 429]
    assert refused == [], "the sandbox refused requests: the budget did not hold across the instances"
    busiest = _busiest_minute([when for when, _ in sent])
    assert busiest <= 60
    # The pages asked for more than the minute allows: the shared budget, not a lack of demand, held it.
    assert busiest >= 40, (
        f"only {busiest} Fileflare requests in a minute: the budget was never reached",
        stack.sandbox.log()[-2000:],
        words(pages[0].text)[-600:],
    )
    assert any("a minute" in words(page.text) or "as of" in words(page.text) for page in pages)


def test_two_staff_fixing_one_count_on_different_instances_lose_no_update(
    stack: Stack, people: list[requests.Session], downloads_api: DownloadsApi, database: Database
) -> None:
    record = downloads_api.create(
        product_id=4242, order_id=771_000_001, download_count=3, download_file_name="two-machines.pdf",
        is_amazon=False, amazon_key="",
    )
    download_id = str(record["download_id"])

    def fix(index: int, count: int) -> Callable[[], requests.Response]:
        url = f"{stack.dashboard_urls[index]}/downloads/{download_id}/count/"
        data = {"count": count, "expected": 3, "context": "list"}
        return lambda: post(people[index], url, data, **{"HX-Request": "true"})

    answers = at_once(fix(0, 0), fix(1, 1))
    assert [answer.status_code for answer in answers] == [200, 200]
    conflict = "someone changed this count from 3 to"
    refused = [index for index, answer in enumerate(answers) if conflict in words(answer.text)]
    assert len(refused) == 1, [words(answer.text)[:300] for answer in answers]
    saved = 1 - refused[0]
    wanted = (0, 1)[saved]
    assert downloads_api.get(download_id)["download_count"] == wanted
    assert f"from 3 to {wanted} meanwhile" in words(answers[refused[0]].text)
    rows = database.execute(
        "SELECT outcome, actor_name FROM audit_auditentry WHERE download_id = %s AND action = %s",
        (download_id, "download_record_count"),
    ).fetchall()
    assert sorted(rows) == sorted([("success", STAFF[saved]), ("failed", STAFF[refused[0]])])


def test_two_undos_of_one_entry_on_different_instances_undo_once(
    stack: Stack, people: list[requests.Session], downloads_api: DownloadsApi, database: Database
) -> None:
    record = downloads_api.create(
        product_id=4242, order_id=771_000_002, download_count=4, download_file_name="undo-once.pdf",
        is_amazon=False, amazon_key="",
    )
    download_id = str(record["download_id"])
    url = f"{stack.dashboard_urls[0]}/downloads/{download_id}/count/"
    saved = post(people[0], url, {"count": 0, "expected": 4, "context": "list"}, **{"HX-Request": "true"})
    assert saved.status_code == 200 and downloads_api.get(download_id)["download_count"] == 0
    (entry,) = database.execute(
        "SELECT id FROM audit_auditentry WHERE download_id = %s AND outcome = 'success'", (download_id,)
    ).fetchone()

    def undo(index: int) -> Callable[[], requests.Response]:
        url = f"{stack.dashboard_urls[index]}/audit/{entry}/undo/"
        return lambda: post(people[index], url, {"reason": "Two undos"})

    answers = at_once(undo(0), undo(1))
    assert [answer.status_code for answer in answers] == [302, 302]
    said = [
        words(people[index].get(stack.dashboard_urls[index] + answer.headers["Location"], timeout=60).text)
        for index, answer in enumerate(answers)
    ]
    assert downloads_api.get(download_id)["download_count"] == 4
    undone = database.execute(
        "SELECT outcome FROM audit_auditentry WHERE undo_of_id = %s AND outcome = 'success'", (entry,)
    ).fetchall()
    assert len(undone) == 1
    claims = database.execute("SELECT count(*) FROM audit_undoclaim WHERE entry_id = %s", (entry,))
    assert claims.fetchone() == (1,)
    # The other person is told it was undone already, or is being undone by the first (they came at once).
    refused = ("This was already undone by", "This is being undone by", "Someone else is undoing this")
    told = [any(sentence in text for sentence in refused) for text in said]
    assert sorted(told) == [False, True], [text[:400] for text in said]


def test_a_bulk_job_started_on_one_instance_runs_exactly_once_on_the_rq_workers(
    stack: Stack, people: list[requests.Session], downloads_api: DownloadsApi, database: Database
) -> None:
    number = 771_000_003
    records = [
        downloads_api.create(
            product_id=4242, order_id=number, download_count=count, download_file_name=f"bulk-{index}.pdf",
            is_amazon=False, amazon_key="",
        )
        for index, count in enumerate([5, 2, 7, 1])
    ]
    base = stack.dashboard_urls[0]
    planned = post(
        people[0],
        f"{base}/jobs/new/",
        {"order_numbers": str(number), "action": "count_reset", "reason": "Two machines"},
    )
    assert planned.status_code == 302, words(planned.text)[:500]
    job = int(re.search(r"/jobs/(\d+)/", planned.headers["Location"]).group(1))  # type: ignore[union-attr]
    started = post(people[1], f"{stack.dashboard_urls[1]}/jobs/{job}/run/", {})
    assert started.status_code == 302
    wait_until(
        "the job to finish",
        lambda: database.execute("SELECT state FROM jobs_bulkjob WHERE id = %s", (job,)).fetchone()
        == ("done",),
    )
    assert [downloads_api.get(str(record["download_id"]))["download_count"] for record in records] == [0] * 4
    items = database.execute(
        "SELECT state, audit_entry_id FROM jobs_bulkjobitem WHERE job_id = %s", (job,)
    ).fetchall()
    assert len(items) == 4 and {state for state, _ in items} == {"done"}
    reason = f"Two machines (bulk fix #{job})"
    entries = database.execute(
        "SELECT download_id, outcome FROM audit_auditentry WHERE reason = %s", (reason,)
    ).fetchall()
    assert sorted(entries) == sorted((str(record["download_id"]), "success") for record in records)
    assert {entry for _, entry in items} == {
        row[0]
        for row in database.execute(
            "SELECT id FROM audit_auditentry WHERE reason = %s", (reason,)
        ).fetchall()
    }
