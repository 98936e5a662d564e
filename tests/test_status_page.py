"""The staff status page: each upstream's health and budget, never a key."""

import time
from urllib.parse import urlsplit

import pytest
from django.test import Client

from fileflare_admin.api import budget, downloads, errors
from fileflare_admin.api.checks import check_upstreams
from fileflare_admin.api.http import FILEFLARE
from orders_index import sync
from orders_index.services import order_sync_progress
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db


def test_status_page_shows_both_upstreams_answering_without_keys(
    support_client: Client, sandbox: Sandbox
) -> None:
    page = support_client.get("/status/").content.decode()
    assert page.count("answers</span>") == 2
    assert urlsplit(sandbox.url).hostname in page and "configured" in page  # the address, not the key
    assert sandbox.key not in page and sandbox.token not in page


def test_status_page_says_when_an_upstream_fails(support_client: Client, sandbox: Sandbox, settings) -> None:
    settings.UPSTREAM_RETRIES = 0
    sandbox.config(error_rate=1.0)
    page = support_client.get("/status/").content.decode()
    assert "not answering" in page
    assert "had a problem on its side" in page
    assert "Errors in the last hour</dt><dd>1" in page.replace("\n", "")


def test_status_page_names_a_missing_key(support_client: Client, settings) -> None:
    settings.DOWNLOADS_API_TOKEN = ""
    page = support_client.get("/status/").content.decode()
    assert "not configured" in page and "DOWNLOADS_API_TOKEN" in page


def test_status_page_says_when_the_cache_is_only_this_workers_own(support_client: Client) -> None:
    page = support_client.get("/status/").content.decode()
    assert "this worker's memory" in page and "No Redis configured (CACHE_URL)" in page


def test_status_page_says_until_when_an_upstream_is_not_waited_on(
    support_client: Client, sandbox: Sandbox, settings
) -> None:
    settings.UPSTREAM_READ_TIMEOUT = 0.3
    settings.UPSTREAM_RETRIES = 0
    settings.UPSTREAM_BREAKER_FAILURES = 1
    sandbox.config(hang_rate=1.0)
    with pytest.raises(errors.Unavailable):
        downloads.record_list(page=31)
    started = time.monotonic()
    page = " ".join(support_client.get("/status/").content.decode().split())
    assert time.monotonic() - started < 1.5  # Fileflare's probe waits 0.3 s; the downloads API's none
    assert "Not waited on</dt><dd class=\"field-error\">until" in page
    assert "is not waiting on it for now" in page


def test_status_page_shows_how_far_the_order_index_has_got(support_client: Client, sandbox: Sandbox) -> None:
    page = support_client.get("/status/").content.decode()
    assert "The order index has not started yet: it starts with the task worker." in page
    state = sync.sync_row(FILEFLARE.identity())
    sync.read_once(state, sync.Read(page=1, refresh=True))  # the sync's first step, as the worker runs it
    progress = order_sync_progress()
    page = support_client.get("/status/").content.decode()
    assert progress.sentence in page and progress.indexed > 0
    assert f"{progress.indexed:,} of {progress.total:,} Fileflare counted" in page


def test_status_page_runs_the_upstream_checks_only_when_asked(
    support_client: Client, sandbox: Sandbox
) -> None:
    first = support_client.get("/status/").content.decode()
    assert "Run the checks" in first and "Checked just now" not in first
    before = sandbox.stats()
    again = support_client.get("/status/").content.decode()  # a reload: the probes' answers are cached
    assert "Checked just now" not in again and sandbox.stats() == before

    response = support_client.post("/status/")
    page = " ".join(response.content.decode().split())
    assert response.status_code == 200 and "Checked just now" in page
    for check in check_upstreams():
        assert f"{check.name}</td>" in page.replace(" </td>", "</td>")
    assert '<span class="badge badge-ok">ok</span>' in page and "badge-bad" not in page
    assert sandbox.key not in page and sandbox.token not in page
    assert sandbox.stats()["fileflare"] > before["fileflare"]


def test_a_get_never_runs_the_upstream_checks(support_client: Client, sandbox: Sandbox) -> None:
    support_client.get("/status/")  # the page's own probes, cached from here on
    before = sandbox.stats()
    for _ in range(40):
        page = support_client.get("/status/", {"check": "1"}).content.decode()
        assert "Checked just now" not in page and "Last checked" not in page
    assert sandbox.stats() == before  # 40 GETs: not one upstream call


def test_the_checks_run_once_in_their_interval_for_the_whole_team(
    support_client: Client, merchant_client: Client, sandbox: Sandbox, settings
) -> None:
    settings.STATUS_CHECK_MIN_SECONDS = 60
    support_client.get("/status/")
    before = sandbox.stats()
    support_client.post("/status/")
    ran = sandbox.stats()
    assert ran["fileflare"] > before["fileflare"] and ran["downloads"] > before["downloads"]

    again = " ".join(merchant_client.post("/status/").content.decode().split())  # a colleague, 0 s later

    assert sandbox.stats() == ran  # one run for both presses
    assert "The checks ran" in again and "at most once every 60 seconds for the whole team" in again
    assert "Last checked" in again and '<span class="badge badge-ok">ok</span>' in again
    shown = " ".join(support_client.get("/status/").content.decode().split())  # and whoever opens it
    assert "Last checked" in shown and "Checked just now" not in shown and sandbox.stats() == ran


def test_the_checks_never_take_the_requests_kept_for_staff(
    support_client: Client, sandbox: Sandbox, settings
) -> None:
    settings.FILEFLARE_BUDGET_PER_MINUTE = 55
    settings.UPSTREAM_WRITE_RESERVE = 5
    settings.STAFF_READ_RESERVE = 20
    support_client.get("/status/")
    for _ in range(26):  # staff's pages have used the budget up to the slots kept for them
        assert budget.acquire(FILEFLARE.budget_name(), 55) is None
    before = sandbox.stats()

    page = " ".join(support_client.post("/status/").content.decode().split())

    assert sandbox.stats() == before
    assert "The checks did not run: the shared budget has no requests to spare" in page
    assert "Try again in 5 seconds." in page
    # The press that ran nothing holds no claim: once there is room, the next one runs.
    settings.STATUS_CHECK_MIN_SECONDS = 60
    settings.FILEFLARE_BUDGET_PER_MINUTE = 100_000
    assert "Checked just now" in support_client.post("/status/").content.decode()


def test_running_the_checks_needs_the_forms_csrf_token(support_user, sandbox: Sandbox) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(support_user)
    before = sandbox.stats()
    assert client.post("/status/").status_code == 403
    assert sandbox.stats() == before
