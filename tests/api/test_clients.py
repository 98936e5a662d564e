"""The API layer against the sandbox over a real socket: typed results, each failure class with its
sentence, retries only where repeating is safe, no secret anywhere, and the shared budget and cache."""

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import requests

from fileflare_admin.api import budget, downloads, errors, fileflare, types
from tests.conftest import Sandbox, free_port
from tests.faults.redis_server import RedisServer

EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
PROJECT = Path(__file__).resolve().parents[2]


def calls(sandbox: Sandbox) -> dict[str, int]:
    return requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()


def test_clients_return_typed_results(sandbox: Sandbox) -> None:
    page = fileflare.order_list(order_number=1050, with_assets=True).value
    assert isinstance(page, types.Page) and page.total == 1 and not page.has_next
    order = fileflare.order_get(order_id=EXAMPLE_ID).value
    assert order.order_number == 1050 and order.assets[0].size_bytes == 20 * 1024**2
    view = fileflare.customer_view_get(token="0c732eb6fd9802a0821a9d29888baee8").value
    assert view.lines[0].assets[0].limits == types.AssetLimit(downloaded=5, limit=10)
    assert view.lines[1].assets == ()
    records = downloads.record_list(search="1050", per_page=5).value
    assert records.total is not None and all(isinstance(r, types.DownloadRecord) for r in records.items)
    assert fileflare.product_list(sku="my-sku").value.items[0].tags[0] == "books"
    assert fileflare.asset_list(filename="part 2").value.items


@pytest.mark.parametrize("bad", ["../x", "a?b", "a#b", "a%2Fb", " abc", "\uff11\uff12\uff13", "a" * 65, ""])
def test_bad_ids_are_refused_before_any_request(sandbox: Sandbox, bad: str) -> None:
    before = calls(sandbox)
    for call in (
        lambda: downloads.record_get(download_id=bad),
        lambda: fileflare.order_get(order_id=bad),
        lambda: fileflare.customer_view_get(token=bad),
    ):
        with pytest.raises(errors.InvalidIdentifier):
            call()
    assert calls(sandbox) == before


def test_wrong_keys_and_missing_settings_are_not_configured(sandbox: Sandbox, settings) -> None:
    settings.FILEFLARE_API_KEY = "wrong"
    with pytest.raises(errors.NotConfigured, match="FILEFLARE_API_KEY"):
        fileflare.order_list()
    settings.DOWNLOADS_API_TOKEN = "wrong"
    with pytest.raises(errors.NotConfigured, match="DOWNLOADS_API_TOKEN"):
        downloads.record_list()
    settings.DOWNLOADS_API_URL = ""
    with pytest.raises(errors.NotConfigured, match="DOWNLOADS_API_URL"):
        downloads.record_list()


def test_not_found_and_validation_errors_carry_sentences_and_fields(sandbox: Sandbox) -> None:
    with pytest.raises(errors.NotFound):
        fileflare.order_get(order_id="00000000-0000-4000-8000-000000000000")
    with pytest.raises(errors.NotFound):
        downloads.record_get(download_id="abc123")
    with pytest.raises(errors.ValidationFailed) as refused:
        downloads.record_create(fields={"order_id": 1, "download_count": -2})
    assert "download_count" in refused.value.field_errors and "download_count" in refused.value.user_message


def test_gets_are_retried_and_posts_are_sent_once(sandbox: Sandbox, settings) -> None:
    settings.UPSTREAM_RETRIES = 2
    sandbox.config(error_rate=1.0)
    before = calls(sandbox)["downloads"]
    with pytest.raises(errors.Unavailable, match="had a problem on its side"):
        downloads.record_list()
    assert calls(sandbox)["downloads"] - before == 3
    before = calls(sandbox)["downloads"]
    with pytest.raises(errors.Unavailable):
        downloads.record_create(fields={"order_id": 1})
    assert calls(sandbox)["downloads"] - before == 1


def test_a_create_that_times_out_is_outcome_unknown_and_never_repeated(sandbox: Sandbox, settings) -> None:
    settings.UPSTREAM_READ_TIMEOUT = 0.5
    sandbox.config(hang_rate=1.0)
    before = calls(sandbox)["downloads"]
    with pytest.raises(errors.OutcomeUnknown, match="cannot tell whether"):
        downloads.record_create(fields={"order_id": 1})
    assert calls(sandbox)["downloads"] - before == 1
    # The sentence states the whole wait (every try of 0.5 s and the pauses between), not one try's.
    with pytest.raises(errors.Unavailable, match=r"did not answer within [\d.]+ seconds") as waited:
        downloads.record_get(download_id="abc123", fresh=True)
    seconds = float(re.search(r"within ([\d.]+) seconds", waited.value.user_message).group(1))  # type: ignore[union-attr]
    assert 1.0 <= seconds < 3


def test_refused_connection_and_malformed_json(sandbox: Sandbox, settings) -> None:
    settings.UPSTREAM_RETRIES = 0
    sandbox.config(malformed_rate=1.0)
    with pytest.raises(errors.BadResponse, match="not JSON"):
        fileflare.order_list(page=3)
    settings.FILEFLARE_API_URL = f"http://127.0.0.1:{free_port()}/api"
    with pytest.raises(errors.Unavailable, match="Could not connect"):
        fileflare.order_list()


def test_upstream_429_is_rate_limited_with_when(sandbox: Sandbox, settings) -> None:
    sandbox.config(rate_limit=1)
    fileflare.order_list(page=5)
    with pytest.raises(errors.RateLimited) as limited:
        fileflare.order_list(page=6)
    assert limited.value.retry_after >= 1 and "try again in" in limited.value.user_message


class _PlanLimitHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"message": "Upgrade required."}).encode()
        self.send_response(402)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plan_limit_server() -> Iterator[str]:
    """402 is a fault the sandbox cannot produce on demand: a fake at the wire."""
    server = HTTPServer(("127.0.0.1", 0), _PlanLimitHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api"
    server.shutdown()


def test_a_402_is_the_plan_limit(settings, plan_limit_server: str) -> None:
    settings.FILEFLARE_API_URL = plan_limit_server
    with pytest.raises(errors.PlanLimit, match="plan limit"):
        fileflare.order_list()


def test_no_secret_in_logs_or_messages(sandbox: Sandbox, settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fileflare_admin.api")
    messages = []
    fileflare.order_list()
    downloads.record_list()
    for setting in ("FILEFLARE_API_KEY", "DOWNLOADS_API_TOKEN"):
        original = getattr(settings, setting)
        setattr(settings, setting, original + "-revoked")
        try:
            (fileflare.order_list if setting.startswith("FILE") else downloads.record_list)(page=9)
        except errors.ApiError as error:
            messages.append(str(error))
        setattr(settings, setting, original)
    record = downloads.record_create(
        fields={"order_id": 9, "is_amazon": True, "amazon_key": "s3/secret-key.zip"}
    )
    assert "secret-key" not in repr(record)
    text = caplog.text + " ".join(messages)
    assert len(messages) == 2 and caplog.records
    for secret in (sandbox.key, sandbox.token, "secret-key"):
        assert secret not in text


def test_ten_readers_at_once_cost_one_upstream_call(sandbox: Sandbox) -> None:
    before = calls(sandbox)["fileflare"]
    sandbox.config(latency_ms=300)
    results: list[types.Order] = []
    threads = [
        threading.Thread(target=lambda: results.append(fileflare.order_get(order_id=EXAMPLE_ID).value))
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 10 and calls(sandbox)["fileflare"] - before == 1


def test_a_write_invalidates_the_read_cache(sandbox: Sandbox) -> None:
    made = downloads.record_create(fields={"order_id": 4200, "download_count": 1})
    assert downloads.record_get(download_id=made.download_id).value.download_count == 1
    downloads.record_update(download_id=made.download_id, fields={"download_count": 6})
    fetched = downloads.record_get(download_id=made.download_id)
    assert fetched.value.download_count == 6 and not fetched.stale


def test_a_write_makes_every_read_that_shows_its_fact_stale(sandbox: Sandbox) -> None:
    """The customer's page (a Fileflare read) shows the download records' counts: a records write makes
    it stale as it does the records' own reads, and a Fileflare write too (it shows the order's files)."""
    order = sandbox.create_order(
        {"lines": [{"product": {"name": "Planner"}, "assets": [{"filename": "p.pdf", "downloaded": 0}]}]}
    )
    made = downloads.record_create(
        fields={"order_id": order["order_number"], "download_count": 4, "download_file_name": "p.pdf"}
    )
    token = order["customer_token"]
    assert fileflare.customer_view_get(token=token).value.all_assets[0].limits.downloaded == 4
    downloads.record_update(download_id=made.download_id, fields={"download_count": 1})
    fetched = fileflare.customer_view_get(token=token)
    assert fetched.value.all_assets[0].limits.downloaded == 1 and not fetched.stale
    before = calls(sandbox)["fileflare"]
    fileflare.customer_view_get(token=token)
    assert calls(sandbox)["fileflare"] == before  # fresh again: cached until the next write
    fileflare.order_attach_assets(order_id=order["id"], asset_ids=["82664d96-6dfd-4343-96b0-05c46f41000a"])
    fileflare.customer_view_get(token=token)
    assert calls(sandbox)["fileflare"] == before + 2  # the attach, and the read it made stale


def test_a_spent_budget_serves_the_last_copy_marked_stale(sandbox: Sandbox, settings) -> None:
    settings.FILEFLARE_BUDGET_PER_MINUTE = 1
    settings.UPSTREAM_CACHE_TTL = 0.2
    first = fileflare.order_get(order_id=EXAMPLE_ID)
    time.sleep(0.3)
    again = fileflare.order_get(order_id=EXAMPLE_ID)
    assert again.stale and again.fetched_at == first.fetched_at and again.value == first.value
    with pytest.raises(errors.RateLimited):
        fileflare.order_list(page=11)  # nothing cached to fall back on


def test_300_support_reads_send_no_more_than_the_budget(sandbox: Sandbox, settings) -> None:
    import random

    settings.FILEFLARE_BUDGET_PER_MINUTE = 20
    settings.UPSTREAM_WRITE_RESERVE = 0  # reads only here; the reserve has its own test
    rng = random.Random(3)
    numbers = list(range(1100, 1140))
    weights = [1 / rank**1.2 for rank in range(1, len(numbers) + 1)]
    before = calls(sandbox)["fileflare"]
    served: set[int] = set()
    errors_after_served = 0
    for number in rng.choices(numbers, weights=weights, k=300):
        try:
            page = fileflare.order_list(order_number=number, with_assets=True)
            fileflare.order_get(order_id=page.value.items[0].id)  # primed by the list: no extra call
            served.add(number)
        except errors.RateLimited:
            errors_after_served += number in served
    assert calls(sandbox)["fileflare"] - before <= 20
    # Every order fetched once stays answerable (fresh or "as of") for the rest of the minute.
    assert errors_after_served == 0
    assert len(served) == 20  # the budget was spent on twenty different orders, none twice


def test_the_budget_holds_across_two_worker_processes() -> None:
    redis = RedisServer().start()
    try:
        script = (
            "import django; django.setup()\n"
            "from fileflare_admin.api import budget\n"
            "print(sum(budget.acquire('two-workers', 55) is None for _ in range(60)))\n"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "fileflare_admin.settings",
            "CACHE_URL": redis.url,
        }
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", script], cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        admitted = [int(worker.communicate(timeout=60)[0].strip()) for worker in workers]
        assert sum(admitted) == 55
    finally:
        redis.stop()


def test_budget_window_refuses_past_the_limit_and_says_when() -> None:
    assert [budget.acquire("unit", 3) for _ in range(3)] == [None, None, None]
    wait = budget.acquire("unit", 3)
    assert wait is not None and 1 <= wait <= 65


def test_a_resend_refreshes_its_order_and_keeps_every_other_cached_order(sandbox: Sandbox) -> None:
    listed = fileflare.order_list(limit=50, with_assets=True).value.items
    first, other = listed[0], listed[1]
    before = calls(sandbox)["fileflare"]
    sent = fileflare.order_send_email(order_id=first.id)
    assert calls(sandbox)["fileflare"] - before == 1
    assert (
        fileflare.order_get(order_id=first.id).value.email_sent_at == sent.email_sent_at
    )  # own change, at once
    assert fileflare.order_get(order_id=other.id).value == other  # still cached
    assert calls(sandbox)["fileflare"] - before == 1
    relisted = fileflare.order_list(
        limit=50, with_assets=True
    ).value.items  # lists show e-mail times: re-read
    assert calls(sandbox)["fileflare"] - before == 2
    assert relisted[0].email_sent_at == sent.email_sent_at


def test_reads_leave_the_last_slots_of_the_budget_to_writes(sandbox: Sandbox, settings) -> None:
    settings.FILEFLARE_BUDGET_PER_MINUTE = 4
    settings.UPSTREAM_WRITE_RESERVE = 1
    for page in (21, 22, 23):
        fileflare.order_list(page=page)
    with pytest.raises(errors.RateLimited):
        fileflare.order_list(page=24)  # the fourth slot is kept for a write...
    order = sandbox.customer(4300)
    assert fileflare.order_send_email(order_id=order["id"]).order_number == 4300  # ...and a resend gets it
