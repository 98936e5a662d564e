"""The API layer when an upstream is slow or down, against the in-process sandbox: one deadline per
page across retries, the saved copy within the stale wait, the circuit breaker and its probe, a thread
always left free, saved copies that survive writes, the order number ↔ ID fact, and the shared lock.
(The same faults on gunicorn + Redis are in tests/faults/.)"""

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.core.cache import cache

from fileflare_admin.api import breaker, deadline, downloads, errors, fileflare
from fileflare_admin.api.cache import LockBusy, shared_lock
from tests.conftest import Sandbox
from tests.support.waiting import wait_until

EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"


def calls(sandbox: Sandbox) -> dict[str, int]:
    return requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.monotonic()
    try:
        result: Any = call()
    except errors.ApiError as error:
        result = error
    return time.monotonic() - started, result


@pytest.fixture
def hanging(sandbox: Sandbox, settings) -> Sandbox:
    """Every upstream request hangs; reads may wait up to 10 s a try, the page allows 1 s in all."""
    settings.UPSTREAM_READ_TIMEOUT = 10
    settings.UPSTREAM_PAGE_DEADLINE = 1.0
    settings.UPSTREAM_STALE_WAIT = 0.4
    sandbox.config(hang_rate=1.0)
    return sandbox


# --- one deadline per page ---------------------------------------------------------------------------


def test_a_hanging_upstream_costs_a_page_its_deadline_not_three_timeouts(hanging: Sandbox) -> None:
    with deadline.page():
        seconds, failure = timed(lambda: downloads.record_list(search="deadline"))
    assert isinstance(failure, errors.Unavailable)
    assert 0.9 <= seconds < 1.6
    assert failure.user_message == "The downloads API did not answer within 1 second. Try again in a moment."


def test_every_call_of_a_page_shares_its_one_deadline(hanging: Sandbox) -> None:
    with deadline.page():
        first, _ = timed(lambda: downloads.record_list(search="first"))
        second, failure = timed(lambda: fileflare.order_list(page=77))
    assert first + second < 1.6
    assert isinstance(failure, errors.Unavailable) and "did not answer within 1" in failure.user_message


def test_a_saved_copy_is_shown_within_the_stale_wait(sandbox: Sandbox, settings) -> None:
    settings.UPSTREAM_CACHE_TTL = 0.2
    saved = fileflare.order_get(order_id=EXAMPLE_ID)
    time.sleep(0.3)
    settings.UPSTREAM_READ_TIMEOUT = 10
    settings.UPSTREAM_STALE_WAIT = 0.4
    sandbox.config(hang_rate=1.0)
    with deadline.page():
        seconds, again = timed(lambda: fileflare.order_get(order_id=EXAMPLE_ID))
    assert seconds < 0.8
    assert again.stale and again.fetched_at == saved.fetched_at and again.value == saved.value


# --- the circuit breaker -----------------------------------------------------------------------------


def test_after_repeated_timeouts_nobody_waits_then_one_probe_tries(hanging: Sandbox, settings) -> None:
    settings.UPSTREAM_READ_TIMEOUT = 0.3
    settings.UPSTREAM_RETRIES = 0
    settings.UPSTREAM_BREAKER_FAILURES = 2
    settings.UPSTREAM_BREAKER_SECONDS = 1
    for page in (1, 2):
        assert isinstance(timed(lambda page=page: downloads.record_list(page=page))[1], errors.Unavailable)
    before = calls(hanging)["downloads"]
    seconds, refused = timed(lambda: downloads.record_list(page=3))
    assert isinstance(refused, breaker.CircuitOpen) and seconds < 0.1
    assert refused.user_message == (
        "The downloads API did not answer the last few requests in time, so the dashboard is not waiting "
        "on it for now. Try again in 1 second."
    )
    assert calls(hanging)["downloads"] == before  # nothing was sent

    time.sleep(1.1)
    # The pause is over and the probe fails: open again at once, without a second try.
    assert isinstance(timed(lambda: downloads.record_list(page=4))[1], errors.Unavailable)
    assert calls(hanging)["downloads"] == before + 1
    assert isinstance(timed(lambda: downloads.record_list(page=5))[1], breaker.CircuitOpen)

    time.sleep(1.1)
    hanging.config(hang_rate=0)
    assert downloads.record_list(page=6).value.items is not None  # the probe answers: closed
    assert downloads.record_list(page=7).value.items is not None
    assert calls(hanging)["downloads"] == before + 3


def test_a_known_down_upstream_shows_the_saved_copy_at_once(hanging: Sandbox, settings) -> None:
    settings.UPSTREAM_CACHE_TTL = 0.2
    settings.UPSTREAM_READ_TIMEOUT = 0.3
    settings.UPSTREAM_RETRIES = 0
    settings.UPSTREAM_BREAKER_FAILURES = 1
    hanging.config(hang_rate=0)
    saved = downloads.record_list(search="1050")
    time.sleep(0.3)
    hanging.config(hang_rate=1.0)
    assert isinstance(timed(lambda: downloads.record_list(page=9))[1], errors.Unavailable)  # opens it
    seconds, again = timed(lambda: downloads.record_list(search="1050"))
    assert seconds < 0.1 and again.stale and again.value == saved.value


# --- a thread is always left for pages that need no upstream ---------------------------------------


def test_a_worker_lets_only_so_many_pages_wait_on_upstreams(hanging: Sandbox, settings) -> None:
    settings.UPSTREAM_WAITING_PAGES = 1
    waiting = threading.Thread(target=lambda: timed(_one_page(lambda: downloads.record_list(search="a"))))
    sent = calls(hanging)["downloads"]
    waiting.start()
    wait_until("the first page to wait on the API", lambda: calls(hanging)["downloads"] > sent)
    before = calls(hanging)["downloads"]
    seconds, refused = timed(_one_page(lambda: downloads.record_list(search="b")))
    waiting.join()
    assert isinstance(refused, deadline.Busy) and seconds < 0.6
    assert "other pages are already waiting for it" in refused.user_message
    assert calls(hanging)["downloads"] == before  # told at once, nothing sent


def test_parallel_calls_of_one_page_share_its_slot_and_its_deadline(hanging: Sandbox, settings) -> None:
    settings.UPSTREAM_WAITING_PAGES = 1
    started = time.monotonic()
    with deadline.page(), deadline.PagePool(max_workers=3) as pool:
        futures = [
            pool.submit(timed, lambda page=page: downloads.record_list(page=page)) for page in (1, 2, 3)
        ]
        outcomes = [future.result()[1] for future in futures]
    assert time.monotonic() - started < 1.6
    assert all(type(outcome) is errors.Unavailable for outcome in outcomes), outcomes  # none was Busy


def _one_page(call: Callable[[], Any]) -> Callable[[], Any]:
    def page() -> Any:
        with deadline.page():
            return call()

    return page


# --- saved copies survive writes ----------------------------------------------------------------------


def test_after_a_write_the_next_read_is_fresh_but_the_saved_copy_stays_for_an_outage(
    sandbox: Sandbox, settings
) -> None:
    number = str(random.randint(700_000, 799_999))
    made = downloads.record_create(fields={"order_id": int(number), "download_count": 1})

    def counts(fetched: Any) -> list[int]:
        return [item.download_count for item in fetched.value.items if item.download_id == made.download_id]

    listed = downloads.record_list(search=number)
    assert counts(listed) == [1]
    downloads.record_update(download_id=made.download_id, fields={"download_count": 2})
    fresh = downloads.record_list(search=number)
    assert not fresh.stale and counts(fresh) == [2]  # one's own change at once
    downloads.record_update(download_id=made.download_id, fields={"download_count": 3})
    settings.UPSTREAM_RETRIES = 0
    sandbox.config(error_rate=1.0)
    during_outage = downloads.record_list(search=number)
    assert during_outage.stale and during_outage.fetched_at == fresh.fetched_at
    assert counts(during_outage) == [2]


def test_after_a_resend_the_orders_list_is_still_shown_as_of_during_an_outage(
    sandbox: Sandbox, settings
) -> None:
    listed = fileflare.order_list(limit=5)
    fileflare.order_send_email(order_id=listed.value.items[0].id)
    settings.UPSTREAM_RETRIES = 0
    sandbox.config(error_rate=1.0)
    again = fileflare.order_list(limit=5)
    assert again.stale and again.value == listed.value


# --- which order ID has which number -----------------------------------------------------------------


def test_every_order_answer_remembers_its_number_and_id(sandbox: Sandbox, settings) -> None:
    assert fileflare.order_number_for(EXAMPLE_ID) is None and fileflare.order_id_for(1050) is None
    fileflare.order_get(order_id=EXAMPLE_ID)
    assert fileflare.order_number_for(EXAMPLE_ID) == 1050
    assert fileflare.order_id_for(1050) == EXAMPLE_ID
    listed = fileflare.order_list(limit=3).value.items
    assert all(fileflare.order_id_for(order.order_number) == order.id for order in listed)
    sent = fileflare.order_send_email(order_id=sandbox.customer(4301)["id"])
    assert fileflare.order_number_for(sent.id) == 4301
    # Keyed by the API identity: another shop (another key) knows nothing of these.
    settings.FILEFLARE_API_KEY = "another-shops-key"
    assert fileflare.order_number_for(EXAMPLE_ID) is None and fileflare.order_id_for(1050) is None


# --- the shared lock ----------------------------------------------------------------------------------


def test_the_shared_lock_lets_one_holder_in_at_a_time() -> None:
    inside: list[int] = []
    overlaps: list[int] = []

    def hold(number: int) -> None:
        with shared_lock("record:abc", timeout=5):
            if inside:
                overlaps.append(number)
            inside.append(number)
            time.sleep(0.05)
            inside.remove(number)

    threads = [threading.Thread(target=hold, args=(number,)) for number in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [] and cache.get("ffa:lock:record:abc") is None


def test_the_shared_lock_says_so_when_it_stays_busy_and_frees_itself_after_its_timeout() -> None:
    with shared_lock("record:busy", timeout=1):
        started = time.monotonic()
        with pytest.raises(LockBusy) as busy, shared_lock("record:busy", timeout=1, wait=0.2):
            pass
        assert 0.2 <= time.monotonic() - started < 0.5
        assert busy.value.user_message.startswith("Someone else is changing this right now.")
    cache.add("ffa:lock:record:dead", "a worker that died holding it", timeout=1)
    started = time.monotonic()
    with shared_lock("record:dead", timeout=5):
        assert time.monotonic() - started < 1.5

