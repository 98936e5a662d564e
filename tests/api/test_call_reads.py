# ruff: noqa: F811  (the cache_calls fixture is imported below and named again as an argument)
"""What one upstream call costs besides the request itself (issue 28): the shared-cache reads it makes
before it is sent, in one round trip; and the connection it is sent on, kept open for the next call of
any thread (a page's calls made at once run on threads started for that page)."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.core.cache import cache, caches
from django.test import Client

from fileflare_admin.api import deadline, fileflare, http
from tests.conftest import Sandbox
from tests.orders.test_readahead import cache_calls  # noqa: F401 (a fixture: each cache call)

EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"


@pytest.fixture
def before_sent(cache_calls: list[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """For each request sent: the shared cache's calls its `http.send` made before sending it."""
    made = cache_calls
    sent: list[list[str]] = []
    request = http.UpstreamSession.request

    def sending(session: http.UpstreamSession, *args: Any, **kwargs: Any) -> requests.Response:
        sent.append(list(made))
        return request(session, *args, **kwargs)

    send = http.send

    def one_call(*args: Any, **kwargs: Any) -> http.Answer:
        made.clear()
        return send(*args, **kwargs)

    monkeypatch.setattr(http.UpstreamSession, "request", sending)
    monkeypatch.setattr(http, "send", one_call)
    yield sent


def test_a_call_reads_its_breaker_and_its_budget_in_one_round_trip_before_it_is_sent(
    sandbox: Sandbox, settings: Any, before_sent: list[list[str]]
) -> None:
    """The breaker's state, whether the upstream said to wait, the budget's window: one get_many (five
    calls before, one after the other); then the count (an add only for the window's first request)."""
    settings.FILEFLARE_BUDGET_PER_MINUTE = 100
    for _ in range(2):
        http.send(http.FILEFLARE, "GET", "/v1/orders", params={"order_number": 1050})
    first, second = before_sent
    for made in (first, second):
        assert made[0] == "get_many" and made.count("get_many") == 1 and "get" not in made
        assert made[1:] in (["incr"], ["incr", "add", "incr"])


def test_a_call_without_a_budget_reads_only_its_breaker_and_whether_to_wait(
    sandbox: Sandbox, settings: Any, before_sent: list[list[str]]
) -> None:
    settings.DOWNLOADS_BUDGET_PER_MINUTE = 0
    http.send(http.DOWNLOADS, "GET", "/downloads", params={"search": "1050"})
    assert before_sent == [["get_many"]]


def test_the_next_call_of_another_thread_is_sent_on_the_same_kept_session(sandbox: Sandbox) -> None:
    used: list[http.UpstreamSession] = []

    def call() -> None:
        with http.session_for(http.FILEFLARE) as session:
            used.append(session)

    for _ in range(2):
        thread = threading.Thread(target=call)
        thread.start()
        thread.join()
    assert used[0] is used[1]


def test_calls_made_at_once_each_have_a_session_of_their_own() -> None:
    with http.session_for(http.DOWNLOADS) as one, http.session_for(http.DOWNLOADS) as other:
        assert one is not other
    with http.session_for(http.DOWNLOADS) as again:
        assert again in (one, other)


def test_a_page_pools_task_uses_the_requests_shared_cache_client_not_a_new_one() -> None:
    """Django gives each thread a cache client of its own: a page's call on a new thread would open a
    connection to Redis (and greet it) before its first read. The pool's tasks use the page's."""
    with deadline.PagePool(max_workers=2) as pool:
        used = [pool.submit(lambda: caches["default"]).result() for _ in range(2)]
    assert used == [caches["default"]] * 2
    own: list[Any] = []  # a thread of its own still gets a client of its own
    thread = threading.Thread(target=lambda: own.append(caches["default"]))
    thread.start()
    thread.join()
    assert own[0] is not caches["default"]


@pytest.mark.django_db
def test_a_cold_pages_calls_start_on_what_the_page_just_read_with_no_second_read(
    support_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PageCalls.submit_many reads the cached answers of all the page's calls in one round trip; a call
    that must be fetched then starts from what was read (its first call to the shared cache is the fetch's
    lock), not from a second read of the same keys on its thread."""
    backend = caches["default"]
    on_threads: list[tuple[str, str]] = []  # (call, first key) made by the page's pool threads
    get_many, add = backend.get_many, backend.add

    def noted(name: str, original: Any) -> Any:
        def call(keys: Any, *args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not threading.main_thread():
                on_threads.append((name, str(keys if isinstance(keys, str) else next(iter(keys), ""))))
            return original(keys, *args, **kwargs)

        return call

    url = "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/"
    assert support_client.get(url).status_code == 200  # the order index knows its number now
    monkeypatch.setattr(backend, "get_many", noted("get_many", get_many))
    monkeypatch.setattr(backend, "add", noted("add", add))
    cache.clear()  # a cold page: its calls made at once
    assert support_client.get(url).status_code == 200
    locks = [key for name, key in on_threads if name == "add" and key.endswith(":lock")]
    assert len(locks) == 2  # the order and its records, each fetched on a pool thread
    assert not [key for name, key in on_threads if name == "get_many" and key.startswith("ffa:read:")]


def test_a_pages_call_hands_its_answer_back_before_the_status_figures_are_kept_and_the_page_ends_after(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Status page's figures (a read and a write of the shared cache) are kept on the page's pool, off
    the way of the page waiting for the answer (issue 28); they are all kept before the request ends, and
    a page reading them (the Status page, stats_of) sees its own calls'."""
    release = threading.Event()
    keep = http._keep_stats

    def held(*args: Any, **kwargs: Any) -> None:
        assert release.wait(5)
        keep(*args, **kwargs)

    monkeypatch.setattr(http, "_keep_stats", held)

    with deadline.page():
        with deadline.PageCalls(max_workers=2) as calls:  # a cold page's read, sent on the page pool
            order = calls.submit(fileflare.order_get, order_id=EXAMPLE_ID).result(timeout=5)
        assert order.value.order_number == 1050 and cache.get("ffa:stats:fileflare") is None  # not kept yet
        release.set()
        assert len(http.stats_of(http.FILEFLARE)["latencies"]) == 1  # its own call, kept meanwhile
        http.send(http.FILEFLARE, "GET", "/v1/orders", params={"order_number": 1051})
    stats = cache.get("ffa:stats:fileflare")
    assert len(stats["latencies"]) == 2 and stats["last_ok"] and stats["errors"] == []


def test_a_page_whose_calls_used_no_thread_keeps_its_figures_itself(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that sends on its own thread (a write, a warm page's) starts no thread for its figures."""
    pooled: list[object] = []
    monkeypatch.setattr(deadline.PagePool, "submit", lambda *args, **kwargs: pooled.append(args))
    with deadline.page():
        http.send(http.FILEFLARE, "GET", "/v1/orders", params={"order_number": 1050})
        assert len(cache.get("ffa:stats:fileflare")["latencies"]) == 1 and pooled == []


def test_outside_a_request_the_status_figures_are_kept_at_once(sandbox: Sandbox) -> None:
    http.send(http.DOWNLOADS, "GET", "/downloads", params={"search": "1050"})
    assert len(cache.get("ffa:stats:downloads")["latencies"]) == 1


def test_figures_kept_out_of_order_keep_the_newest_success_and_error() -> None:
    http._keep_stats("fileflare", ok=False, seconds=0.2, now=200.0, said={"en": "Newer."})
    http._keep_stats("fileflare", ok=False, seconds=0.1, now=100.0, said={"en": "Older."})
    http._keep_stats("fileflare", ok=True, seconds=0.3, now=300.0, said=None)
    http._keep_stats("fileflare", ok=True, seconds=0.3, now=250.0, said=None)
    stats = cache.get("ffa:stats:fileflare")
    assert stats["last_error"] == {"en": "Newer."} and stats["last_error_at"] == 200.0
    assert stats["last_ok"] == 300.0 and stats["errors"] == [200.0, 100.0] and len(stats["latencies"]) == 4
