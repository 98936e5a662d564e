"""A page's shared-cache reads in few round trips (fileflare_admin.readahead, issue 28): under gunicorn each
call to the shared cache is a round trip to Redis, one after the other; the warm order page made six to
eight of them."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from fileflare_admin import readahead
from orders.models import KnownCustomerToken, ReplyTemplate
from tests.orders.conftest import MadeOrder, count_fixed

pytestmark = pytest.mark.django_db
CALLS = ("get", "get_many", "set", "set_many", "add", "delete", "delete_many", "incr", "touch", "has_key")


@pytest.fixture
def cache_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each call made to the shared cache's backend (a get_many or set_many is one call, as one Redis
    round trip), by method name."""
    backend = caches["default"]
    made: list[str] = []
    inside: list[str] = []  # the local-memory cache's get_many calls its get: one call, not two

    for name in CALLS:
        original = getattr(backend, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            if not inside:
                made.append(_name)
            inside.append(_name)
            try:
                return _original(*args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(backend, name, counted)
    yield made


@pytest.fixture
def no_guesses(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process has served no page yet: no later keys to guess."""
    monkeypatch.setattr(readahead, "_later", type(readahead._later)())


@pytest.fixture
def busy_order(make_order: Any, support_user: Any) -> MadeOrder:
    """An order with two records, its customer's view known (its token remembered) and an audit entry."""
    order: MadeOrder = make_order({"planner.pdf": (1, 5), "stickers.zip": (0, 5)})
    KnownCustomerToken.remember(
        order_number=order.order_number, token=order.token, status_url=order.status_url
    )
    count_fixed(support_user, order, "planner.pdf", 2, 1)
    return order


def test_the_warm_order_page_reads_the_shared_cache_in_one_round_trip(
    support_client: Client, busy_order: MadeOrder, cache_calls: list[str]
) -> None:
    """Its three upstream answers, what they name (the order index's and the counts' notes, the product
    names), the records' rows and the History entries, all in one: the keys after the answers' as this
    process's last load of the page read them (fileflare_admin.readahead); no write (the product names the
    customer's view teaches are written only when new): 9 before, 4 before the fragments were read
    together, 3 before the page's later keys were read with its answers."""
    url = f"/orders/{busy_order.id}/"
    for _ in range(3):  # cold; then warm, learning the later keys (a test's transaction never commits)
        assert support_client.get(url).status_code == 200
    cache_calls.clear()
    page = support_client.get(url).content.decode()
    assert "stickers.zip" in page and 'id="order-history"' in page
    assert cache_calls == ["get_many"]


def test_a_history_entry_added_since_costs_one_round_trip_and_shows(
    support_client: Client, busy_order: MadeOrder, support_user: Any, cache_calls: list[str]
) -> None:
    """The kept page no longer fits (one round trip finds that out, its answers handed to the page made
    afresh); the History entries' keys read with the fragments are last time's: a new entry is not among
    them, so the page asks for it (one more round trip), shows it, and learns its keys for the next load."""
    url = f"/orders/{busy_order.id}/"
    for _ in range(3):
        assert support_client.get(url).status_code == 200
    added = count_fixed(support_user, busy_order, "stickers.zip", 0, 4)
    cache_calls.clear()
    page = support_client.get(url).content.decode()
    assert f'id="timeline-entry-{added.pk}"' in page
    assert cache_calls == ["get_many"] * 3 + ["set_many"]
    cache_calls.clear()
    support_client.get(url)
    assert cache_calls == ["get_many"]


def test_product_names_learned_from_the_customers_view_show_on_that_very_page(
    support_client: Client, busy_order: MadeOrder
) -> None:
    """The names are read ahead before the customer's view teaches them: the page still shows them."""
    cache.clear()
    first = support_client.get(f"/orders/{busy_order.id}/").content.decode()
    assert "Budget Planner" in first


def test_a_key_read_ahead_is_answered_from_it_and_others_from_the_cache(cache_calls: list[str]) -> None:
    cache.set_many({"a": 1, "b": 2})
    with readahead.ahead(["a", "missing"]):
        cache.set("a", 10)  # another process's write meanwhile: the page keeps what it read ahead
        cache_calls.clear()
        assert readahead.get_many(["a", "missing"]) == {"a": 1}
        assert cache_calls == []  # no round trip for keys read ahead, present or not
        assert readahead.get_many(["a", "b"]) == {"a": 1, "b": 2}
        assert cache_calls == ["get_many"]  # one for the rest
    assert readahead.get("a") == 10  # the scope over: the cache again


def test_a_write_through_readahead_is_seen_by_the_scopes_later_reads() -> None:
    with readahead.scope():
        readahead.read_ahead(["name"])
        readahead.set_many({"name": "Field Guide"}, 60)
        assert readahead.get("name") == "Field Guide" and cache.get("name") == "Field Guide"


def test_outside_a_scope_nothing_is_read_ahead(cache_calls: list[str]) -> None:
    readahead.read_ahead(["a", "b"])
    assert cache_calls == []


def test_gathering_notes_the_keys_a_read_would_ask_for() -> None:
    assert not readahead.gather(["x"])  # not gathering: the read goes on
    with readahead.gathering() as keys:
        assert readahead.gather(["x", "y"])
    assert keys == ["x", "y"]


def test_a_pages_later_reads_are_read_with_its_first_next_time_as_the_cache_holds_them_then(
    cache_calls: list[str], no_guesses: None
) -> None:
    """A page whose first read names the same keys reads last time's later keys with it: their values
    are the cache's when the page begins (a value changed since is seen), a key no longer read costs
    nothing, and a key outside last time's guess costs the one round trip it always did."""
    cache.set_many({"answer": 1, "note": "a", "fragment": "<li>old</li>"})
    cache_calls.clear()

    def page(later: list[str]) -> dict[str, object]:
        with readahead.scope():
            readahead.read_ahead(["answer"])
            return readahead.get_many(later)

    assert page(["note", "fragment"]) == {"note": "a", "fragment": "<li>old</li>"}
    assert cache_calls == ["get_many"] * 2
    cache.set("fragment", "<li>new</li>")  # another process's write between two loads
    cache_calls.clear()
    assert page(["note", "fragment"]) == {"note": "a", "fragment": "<li>new</li>"}
    assert cache_calls == ["get_many"]
    cache_calls.clear()
    cache.set("other", 2)
    assert page(["note", "other"]) == {"note": "a", "other": 2}  # "other" not guessed: one more trip
    cache_calls.clear()
    assert page(["note", "other"]) == {"note": "a", "other": 2}
    assert cache_calls == ["get_many"]


def test_a_guess_is_kept_per_first_read_language_and_time_zone(
    cache_calls: list[str], no_guesses: None
) -> None:
    """Another page (another first read), or the same in another language, learns its own later keys."""
    cache.set_many({"answer": 1, "other-answer": 2, "note": "a"})
    cache_calls.clear()

    def page(first: str) -> None:
        with readahead.scope():
            readahead.read_ahead([first])
            readahead.get_many(["note"])

    page("answer")
    cache_calls.clear()
    page("other-answer")
    assert cache_calls == ["get_many"] * 2
    cache_calls.clear()
    with translation.override("de"):
        page("answer")
    assert cache_calls == ["get_many"] * 2


def test_a_cold_pages_notes_are_written_after_its_response_with_its_fragments(
    support_client: Client, busy_order: MadeOrder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a cold page notes in the shared cache so the next reads skip work (the order index holds this
    answer, these counts are noted) goes with its rendered fragments once its response is sent
    (readahead.set_later, deadline.later): no round trip of its own on the page's way (issue 28)."""
    import threading

    backend = caches["default"]
    on_page: list[str] = []  # keys written one by one by the request's own thread
    later: list[str] = []  # keys written by set_many from the page pool
    set_one, set_many = backend.set, backend.set_many

    def one(key: str, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            on_page.append(key)
        return set_one(key, *args, **kwargs)

    def many(values: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            later.extend(values)
        return set_many(values, *args, **kwargs)

    url = f"/orders/{busy_order.id}/"
    assert support_client.get(url).status_code == 200  # the order index learns its number
    backend.clear()
    monkeypatch.setattr(backend, "set", one)
    monkeypatch.setattr(backend, "set_many", many)
    assert support_client.get(url).status_code == 200
    assert not [key for key in on_page if key.startswith(("ffa:index-kept:", "ffa:counts-noted:"))]
    # (The order index's note waits for its transaction's commit, which a test's own transaction holds.)
    notes = [key for key in later if key.startswith("ffa:counts-noted:")]
    assert len(notes) == 1 and backend.get(notes[0]) is True


def test_the_warm_order_page_reads_history_limits_counts_and_reply_without_a_query(
    support_client: Client,
    make_order: Any,
    support_user: Any,
) -> None:
    """It asks the database for the session with its person alone, not for the order's number with its
    customer's link, its History, limits, count history or reply (fileflare_admin.kept). A History entry
    and a new wording of the reply each show on the next load."""
    order: MadeOrder = make_order({"planner.pdf": (1, 5), "stickers.zip": (0, 5)})
    KnownCustomerToken.remember(
        order_number=order.order_number, token=order.token, status_url=order.status_url
    )
    url = f"/orders/{order.id}/"
    for _ in range(3):
        assert support_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        support_client.get(url)
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert "django_session" in read  # the one it makes
    for table in (
        "orders_knowncustomertoken",
        "orders_index_indexedorder",
        "audit_auditentry",
        "downloads_countchange",
        "downloads_seenlimit",
        "orders_replytemplate",
    ):
        assert table not in read
    added = count_fixed(support_user, order, "stickers.zip", 0, 4)
    assert f'id="timeline-entry-{added.pk}"' in support_client.get(url).content.decode()
    ReplyTemplate.objects.create(situation="ready", language="en", body="Kept or not, {order_number}.")
    page = support_client.get(url).content.decode()
    assert f"Kept or not, {order.order_number}." in page
