"""A warm page answers from the read cache on its own thread; only the calls that must reach an
upstream go to a PagePool (fileflare_admin.api.deadline.PageCalls, issue 28)."""

import threading
import time
from typing import Any

import pytest
from django.test import Client

from fileflare_admin.api import cache, deadline, fileflare
from fileflare_admin.api.errors import InvalidIdentifier
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"


@pytest.fixture
def pool_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions handed to a PagePool thread."""
    made: list[str] = []
    submit_call = deadline.PagePool.submit_call

    def counted(self: deadline.PagePool, call: Any, **kwargs: Any) -> Any:
        fn = call
        while hasattr(fn, "func"):  # partials (PageCalls.submit_many's, PagePool.submit's): the function
            fn = fn.func
        made.append(fn.__name__)
        return submit_call(self, call, **kwargs)

    monkeypatch.setattr(deadline.PagePool, "submit_call", counted)
    return made


def test_the_warm_order_page_starts_no_thread_and_the_cold_one_makes_its_calls_on_the_pool(
    support_client: Client, pool_calls: list[str]
) -> None:
    cold = support_client.get(f"/orders/{EXAMPLE_ID}/")
    assert cold.status_code == 200 and "order_get" in pool_calls
    pool_calls.clear()
    warm = support_client.get(f"/orders/{EXAMPLE_ID}/")
    assert warm.status_code == 200 and pool_calls == []
    assert warm.content.decode().count("#1050") == cold.content.decode().count("#1050")


def test_a_read_with_no_fresh_copy_is_not_fetched_from_cache_only(
    sandbox: Sandbox, pool_calls: list[str]
) -> None:
    assert deadline.from_cache_only(fileflare.order_get, order_id=EXAMPLE_ID) is None  # nothing saved yet
    with deadline.PageCalls(max_workers=2) as calls:
        first = calls.submit(fileflare.order_get, order_id=EXAMPLE_ID).result()
    assert pool_calls == ["order_get"]
    saved = deadline.from_cache_only(fileflare.order_get, order_id=EXAMPLE_ID)
    assert saved is not None and saved.result().value == first.value and not saved.result().stale
    cache.invalidate("fileflare")  # a write since: the copy is no longer fresh
    assert deadline.from_cache_only(fileflare.order_get, order_id=EXAMPLE_ID) is None


def test_an_error_from_the_cache_only_attempt_is_raised_where_the_result_is_read() -> None:
    done = deadline.from_cache_only(fileflare.order_get, order_id="not an order id")
    assert done is not None
    with pytest.raises(InvalidIdentifier):
        done.result()


def test_a_saved_list_of_records_is_parsed_once_and_a_new_answer_afresh(
    sandbox: Sandbox, settings: Any
) -> None:
    """A warm page gets the records parsed from the same saved answer (_reads.parsed_once, issue 28); a
    write makes the next read a new answer, parsed anew, and another zone for the API's dates too."""
    from fileflare_admin.api import downloads

    first = downloads.record_list(search="1050", per_page=5).value
    assert downloads.record_list(search="1050", per_page=5).value is first  # the saved answer, parsed once
    record = first.items[0]
    downloads.record_update(
        download_id=record.download_id, fields={"download_count": record.download_count + 1}
    )
    after = downloads.record_list(search="1050", per_page=5).value
    changed = next(item for item in after.items if item.download_id == record.download_id)
    assert changed.download_count == record.download_count + 1
    settings.DOWNLOADS_API_TIMEZONE = "-05:00"  # the same saved answer, read in another zone
    shifted = downloads.record_list(search="1050", per_page=5).value
    assert shifted is not after and shifted.items[0].date_created != after.items[0].date_created


def test_a_saved_list_of_orders_is_parsed_once_and_a_new_answer_afresh(sandbox: Sandbox) -> None:
    """The landing page's 1,000 orders with their files are parsed once per saved answer, not on every
    load (_reads.parsed_once); a write to the lists makes the next read a new answer, parsed anew."""
    first = fileflare.order_list(limit=5, with_assets=True).value
    again = fileflare.order_list(limit=5, with_assets=True).value
    assert again is first and len(first.items) == 5 and all(order.assets_loaded for order in first.items)
    assert fileflare.order_list(limit=4, with_assets=True).value.items == first.items[:4]  # its own query
    cache.invalidate(fileflare.LISTS)  # as a resend does: the saved list is no longer fresh
    fetched_anew = fileflare.order_list(limit=5, with_assets=True).value
    assert fetched_anew is not first and fetched_anew.items == first.items


def test_a_page_s_calls_run_on_threads_kept_for_the_next_page_and_the_block_waits_for_them() -> None:
    def slow_ident() -> int:
        if deadline.cache_only():
            raise deadline.NotFresh  # an upstream call: no fresh saved answer
        time.sleep(0.05)
        return threading.get_ident()

    with deadline.PageCalls(max_workers=2) as calls:
        first = [calls.submit_many([slow_ident, slow_ident])]
    assert all(future.done() for future in first[0])  # leaving the block waited for them
    threads = set(deadline.page_pool()._threads)
    with deadline.PageCalls(max_workers=2) as calls:
        second = calls.submit_many([slow_ident, slow_ident])
    assert {future.result() for future in second} <= {thread.ident for thread in threads}
    assert set(deadline.page_pool()._threads) == threads  # no new thread for the second page


def test_a_page_makes_no_more_calls_at_once_than_its_max_workers() -> None:
    out, most = [0], [0]
    lock = threading.Lock()

    def counted() -> None:
        if deadline.cache_only():
            raise deadline.NotFresh
        with lock:
            out[0] += 1
            most[0] = max(most[0], out[0])
        time.sleep(0.03)
        with lock:
            out[0] -= 1

    with deadline.PageCalls(max_workers=2) as calls:
        calls.submit_many([counted] * 5)
    assert most[0] == 2


def test_a_requests_later_work_runs_on_the_pool_once_its_response_is_sent_not_before() -> None:
    """deadline.later's work (the Status figures, an answer kept, the fragments a page rendered) runs on the
    page pool once the response of a request served by Django is sent (request_finished), and is over
    before the request ends: it never takes turns with the page being made, the response never waits for
    it, and the connection's next request finds it done."""
    from django.core.signals import request_finished

    started, done = threading.Event(), threading.Event()
    threads: list[str] = []

    def work() -> None:
        started.set()
        threads.append(threading.current_thread().name)
        time.sleep(0.05)
        done.set()

    with deadline.page(settled_when_sent=True) as page:
        page.pooled = True  # its calls went out on the page pool (a cold page)
        deadline.later(work)
        time.sleep(0.05)
        assert not started.is_set()  # not while the page is made
    assert not started.is_set()  # the page is over; its response not sent yet
    request_finished.send(sender=None)
    assert done.is_set() and threads[0].startswith("page-calls")


def test_once_sent_work_runs_in_the_requests_thread_after_its_response_and_never_fails_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """deadline.once_sent's work (the order page's note in the order index) runs in the request's own
    thread once its response is sent, after the pool's; one that fails is logged, and the rest still run.
    Outside a request it runs at once."""
    from django.core.signals import request_finished

    ran: list[str] = []

    def failing() -> None:
        ran.append("failing")
        raise RuntimeError("the index's database went away")

    with deadline.page(settled_when_sent=True):
        deadline.once_sent(failing)
        deadline.once_sent(lambda: ran.append(threading.current_thread().name))
    assert ran == []  # the page is over; its response not sent yet
    request_finished.send(sender=None)
    assert ran == ["failing", threading.current_thread().name]
    assert "Bookkeeping left for after the page failed" in caplog.text
    deadline.once_sent(lambda: ran.append("outside"))
    assert ran[-1] == "outside"


def test_a_cold_pages_rendered_parts_are_written_after_its_response_and_read_by_the_next(
    support_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import caches

    from fileflare_admin import fragments
    from fileflare_admin.middleware import ResilienceMiddleware

    backend = caches["default"]
    written: list[tuple[str, bool]] = []  # (fragment key, written before the response left the middleware)
    set_many, call = backend.set_many, ResilienceMiddleware.__call__
    left: list[bool] = []

    def noted(values: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        written.extend((key, not left) for key in values if key.startswith(fragments.PREFIX))
        return set_many(values, *args, **kwargs)

    def leaving(self: ResilienceMiddleware, request: Any) -> Any:
        left.clear()
        response = call(self, request)
        left.append(True)
        return response

    monkeypatch.setattr(backend, "set_many", noted)
    monkeypatch.setattr(ResilienceMiddleware, "__call__", leaving)
    url = f"/orders/{EXAMPLE_ID}/"
    assert support_client.get(url).status_code == 200
    backend.clear()
    written.clear()
    cold = support_client.get(url)
    assert cold.status_code == 200 and written and not any(before for _, before in written)
    written.clear()
    assert support_client.get(url).content.decode().count("#1050") == cold.content.decode().count("#1050")
    assert written == []  # the next load found them all


def test_a_page_goes_on_once_its_calls_are_on_their_way_and_waits_no_longer_than_its_patience() -> None:
    """PageCalls.wait_sent: the page's own work starts once each call it handed to the pool is about to
    go out (http's deadline.on_wire) or is over, so it does not take turns with their threads before then
    (issue 28); a call slow to go out holds it `within` seconds at most."""
    sent = threading.Event()

    def call(before: float) -> str:
        if deadline.cache_only():
            raise deadline.NotFresh("not saved")  # not in the read cache: handed to the pool
        time.sleep(before)
        deadline.on_wire()
        sent.set()
        time.sleep(0.3)  # the upstream's answer on its way
        return "answer"

    def failing() -> str:
        if deadline.cache_only():
            raise deadline.NotFresh("not saved")
        raise RuntimeError("never sent")

    with deadline.PageCalls(max_workers=3) as calls:
        answered = calls.submit(call, 0.05)
        broken = calls.submit(failing)
        calls.wait_sent(within=5)
        assert sent.is_set() and not answered.done() and broken.done()
    sent.clear()
    with deadline.PageCalls(max_workers=3) as calls:
        late = calls.submit(call, 1.0)
        started = time.monotonic()
        calls.wait_sent(within=0.1)
        assert time.monotonic() - started < 0.5 and not sent.is_set() and not late.done()


def test_an_answer_fetched_for_a_cold_page_is_kept_off_its_way_and_before_its_request_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The read cache keeps an answer it fetched as the request's bookkeeping (deadline.later, on the page
    pool): the page has it without waiting for the write's round trip, and the connection's next request
    finds it kept. Outside a request it is kept at once, by the caller."""
    from django.core.cache import cache as shared
    from django.core.signals import request_finished

    from fileflare_admin import sharedcache

    writers: list[str] = []
    write = sharedcache.set_many_then_delete

    def noted(*args: Any, **kwargs: Any) -> None:
        writers.append(threading.current_thread().name)
        write(*args, **kwargs)

    monkeypatch.setattr(sharedcache, "set_many_then_delete", noted)
    key = cache.read_key("fileflare", "test", "/orders/1", None)
    with deadline.page(settled_when_sent=True) as page:
        page.pooled = True  # its calls went out on the page pool (a cold page)
        fetched = cache.cached(key, lambda known: {"id": 1}, on_event=lambda event: None)
        assert fetched.value == {"id": 1}
    request_finished.send(sender=None)
    assert shared.get(key)["payload"] == {"id": 1} and shared.get(f"{key}:lock") is None
    assert writers[0].startswith("page-calls")
    other = cache.read_key("fileflare", "test", "/orders/2", None)
    cache.cached(other, lambda known: {"id": 2}, on_event=lambda event: None)
    assert shared.get(other)["payload"] == {"id": 2} and writers[1] == threading.current_thread().name
