"""The order page's parts cached by what they show (orders.templatetags.order_page, issue 28): the
actions, the diagnosis, the support reply, what the customer sees and the order's files come from the
shared cache on a warm load, exactly as they would render afresh; each changes the moment its data does,
never reaches a person who would see it otherwise, and carries each load's own tokens."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

from fileflare_admin import fragments, kept_pages
from orders.models import KnownCustomerToken, ReplyTemplate
from tests.orders.conftest import MadeOrder
from tests.support.pages import without_own_values

pytestmark = pytest.mark.django_db
PARTS = {  # each part's root, and where it ends
    "actions": ('class="card order-actions"', "</section>"),
    "facts": ('<dl class="facts">', "</section>"),
    "diagnosis": ('id="diagnosis"', "</section>"),
    "support reply": ('id="support-reply-box"', "</section>"),
    "what the customer sees": ('id="customer-view"', "</section>"),
    "files": ('id="order-assets"', "</section>"),
}


@pytest.fixture(autouse=True)
def _every_load_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """These are the parts' promises: each load renders its page (a whole page kept by what it is made
    from is tests/test_kept_pages.py's)."""
    monkeypatch.setattr(kept_pages, "_pages", fragments.Near(0))


@pytest.fixture
def used_up(make_order: Any) -> MadeOrder:
    """An order whose planner was downloaded 5 times of 5 (a finding with a count fix), its customer's
    link known."""
    order: MadeOrder = make_order({"planner.pdf": (5, 5), "stickers.zip": (0, 5)})
    KnownCustomerToken.remember(
        order_number=order.order_number, token=order.token, status_url=order.status_url
    )
    return order


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The set_many calls made to the shared cache (a part rendered afresh is written with them)."""
    backend = caches["default"]
    made: list[str] = []
    original = backend.set_many

    def counted(values: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        made.extend(key for key in values if fragments.PREFIX in key)
        return original(values, *args, **kwargs)

    monkeypatch.setattr(backend, "set_many", counted)
    yield made


def _page(client: Client, order: MadeOrder, **query: str) -> str:
    response = client.get(f"/orders/{order.id}/", query)
    assert response.status_code == 200
    return response.content.decode()


def _part(page: str, name: str) -> str:
    start, end = PARTS[name]
    assert start in page, f"{name} is not on the page"
    return page.split(start, 1)[1].split(end, 1)[0]


def _tokens(html: str) -> tuple[str, list[str], list[str]]:
    """The page without its own tokens; its CSRF tokens; its one-time resend tokens."""
    csrf = re.findall(r'(?:name="csrfmiddlewaretoken" value|data-csrf)="([^"]+)"', html)
    submission = re.findall(r'name="submission" value="([^"]*)"', html)
    for token in {*csrf, *submission}:
        html = html.replace(token, "TOKEN")
    return html, csrf, submission


def test_the_parts_from_the_cache_are_the_parts_rendered_afresh(
    merchant_client: Client, used_up: MadeOrder, writes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(2):
        _page(merchant_client, used_up)
    writes.clear()
    kept = _page(merchant_client, used_up)
    assert writes == []  # every part came from the cache
    monkeypatch.setattr(fragments, "_template_version", lambda template: str(object.__hash__(object())))
    afresh = _page(merchant_client, used_up)
    assert len(writes) >= len(PARTS)  # every part rendered again
    assert "Give back" in _part(afresh, "diagnosis") or "Reset" in _part(afresh, "diagnosis")
    for name in PARTS:
        assert _tokens(_part(kept, name))[0] == _tokens(_part(afresh, name))[0], name


def test_each_load_has_its_own_csrf_and_one_time_resend_token(
    merchant_client: Client, used_up: MadeOrder
) -> None:
    pages = [_page(merchant_client, used_up) for _ in range(2)]
    first, second = (_tokens("".join(_part(page, name) for name in PARTS)) for page in pages)
    assert first[0] == second[0]
    assert first[1] and second[1] and set(first[1]).isdisjoint(second[1])
    assert len(first[2]) == len(second[2]) == 1 and first[2] != second[2]
    assert first[2][0] and "fragmentown" not in first[0] and fragments.CSRF_PLACEHOLDER not in first[0]


@pytest.mark.engine  # the reply template is read by SQL of its own (orders.replies._bodies_sql)
def test_the_support_reply_changes_the_moment_its_template_or_the_choice_does(
    merchant_client: Client, used_up: MadeOrder
) -> None:
    before = _part(_page(merchant_client, used_up, reply="ready"), "support reply")
    ReplyTemplate.objects.create(situation="ready", language="en", body="Hello from the shop: {order_number}")
    after = _part(_page(merchant_client, used_up, reply="ready"), "support reply")
    assert "Hello from the shop" not in before and f"Hello from the shop: {used_up.order_number}" in after
    french = _part(_page(merchant_client, used_up, reply="ready", reply_language="fr"), "support reply")
    assert 'lang="fr"' in french and "Hello from the shop" not in french


def test_the_diagnosis_and_the_customers_view_change_the_moment_the_counts_do(
    merchant_client: Client, used_up: MadeOrder
) -> None:
    page = _page(merchant_client, used_up)
    assert "downloaded 5 of 5" in _part(page, "what the customer sees")
    diagnosis = _part(page, "diagnosis")
    form = re.search(r'action="([^"]*fix-count/)"(.*?)</form>', diagnosis, re.S)
    assert form is not None
    record = re.search(r'name="record" value="([^"]+)"', form.group(2))
    assert record is not None
    response = merchant_client.post(
        form.group(1), {"file": "planner.pdf", "record": record.group(1), "reason": "ticket 7"}
    )
    assert response.status_code == 302
    page = _page(merchant_client, used_up)
    assert "downloaded 0 of 5" in _part(page, "what the customer sees")
    assert _part(page, "diagnosis") != diagnosis and "fix-count/" not in _part(page, "diagnosis")


def test_a_part_never_crosses_roles(
    merchant_client: Client, support_client: Client, used_up: MadeOrder
) -> None:
    merchant = _page(merchant_client, used_up)
    support = _page(support_client, used_up)
    assert "Edit the shop's replies" in _part(merchant, "support reply")
    assert "Edit the shop's replies" not in _part(support, "support reply")


def test_a_part_never_crosses_time_zones(merchant_client: Client, used_up: MadeOrder) -> None:
    utc = _part(_page(merchant_client, used_up), "diagnosis")
    assert "<time" in utc
    response = merchant_client.post("/staff/time-zone/", {"time_zone": "Asia/Tokyo", "next": "/audit/"})
    assert response.status_code == 302
    tokyo = _part(_page(merchant_client, used_up), "diagnosis")
    assert "<time" in tokyo and tokyo != utc and "JST" in tokyo


def test_a_pasted_links_error_is_shown_once_and_never_kept(
    merchant_client: Client, make_order: Any
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 5)})
    _page(merchant_client, order)
    response = merchant_client.post(f"/orders/{order.id}/customer-link/", {"link": "not a link at all"})
    shown = _part(response.content.decode(), "what the customer sees")
    assert 'aria-invalid="true"' in shown and "not a link at all" in shown
    again = _part(_page(merchant_client, order), "what the customer sees")
    assert 'aria-invalid="true"' not in again and "not a link at all" not in again


def _slow_records(
    monkeypatch: pytest.MonkeyPatch, seconds: float, *, then: Callable[[], None] = lambda: None
) -> None:
    """The records' call still on its way when the order's answer is in (a look in the read cache is
    not); `then` is called as it comes back."""
    from fileflare_admin.api import deadline
    from orders import services

    records = services._records

    def slow(number: int) -> Any:
        if not deadline.cache_only():
            time.sleep(seconds)
            then()
        return records(number)

    monkeypatch.setattr(services, "_records", slow)


@pytest.mark.parametrize("link", ["known", "not known"])
def test_a_cold_page_is_rendered_while_its_records_are_on_their_way_and_is_what_one_render_makes(
    merchant_client: Client, make_order: Any, monkeypatch: pytest.MonkeyPatch, link: str
) -> None:
    """All but the parts that show the records (and the customer's view, while its call is out too) is
    rendered before the records come back (orders.pages.LATER_PARTS); those parts alone are rendered
    after them. The page is the one a warm load renders in one go (issue 28)."""
    from django.core.cache import cache
    from django.test.signals import template_rendered

    order: MadeOrder = make_order({"planner.pdf": (5, 5), "stickers.zip": (0, 5)})
    if link == "known":
        KnownCustomerToken.remember(
            order_number=order.order_number, token=order.token, status_url=order.status_url
        )
    later = {"orders/_diagnosis.html", "orders/_support_reply.html", "orders/_order_records.html"}
    if link == "known":
        later.add("orders/_customer_section.html")
    before = {"orders/order_detail.html", "base.html", "orders/_order_actions.html"}
    before |= {"orders/_order_facts.html", "orders/_order_files.html"}
    rendered: list[str] = []
    before_records: list[list[str]] = []

    def noted(sender: Any, template: Any, **kwargs: Any) -> None:
        rendered.append(str(template.name))

    _page(merchant_client, order)  # the order index learns its number: its calls go at once
    cache.clear()
    _slow_records(monkeypatch, 0.3, then=lambda: before_records.append(list(rendered)))
    template_rendered.connect(noted)
    try:
        cold = _page(merchant_client, order)
    finally:
        template_rendered.disconnect(noted)
    assert before_records and before <= set(before_records[0]) and not later & set(before_records[0])
    assert all(rendered.count(name) == 1 for name in before | later)  # once each, nothing twice
    assert "<!--later-" not in cold
    warm = _page(merchant_client, order)  # its records in the read cache: one render
    assert without_own_values(cold) == without_own_values(warm)
    assert 'class="finding' in _part(cold, "diagnosis")
    assert 'id="order-records"' in cold and "planner.pdf" in cold.split('id="order-records"', 1)[1]


def test_only_the_whole_page_of_a_plain_get_is_rendered_ahead(
    merchant_client: Client, used_up: MadeOrder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page an action shows again (its form, its error) or an htmx swap of one box is rendered as it
    always was: with what the action adds, in one go."""
    from django.core.cache import cache

    from orders import pages

    made: list[str] = []
    later_parts = pages._later_parts

    def counted(page: Any) -> dict[str, str]:
        made.append(page.order.id)
        return later_parts(page)

    _page(merchant_client, used_up)
    _slow_records(monkeypatch, 0.2)
    monkeypatch.setattr(pages, "_later_parts", counted)
    for load in ("a pasted link's error", "htmx", "plain"):
        cache.clear()
        if load == "htmx":
            response = merchant_client.get(
                f"/orders/{used_up.id}/", {"reply": "ready"}, HTTP_HX_REQUEST="true"
            )
        elif load == "plain":
            response = merchant_client.get(f"/orders/{used_up.id}/")
        else:
            response = merchant_client.post(f"/orders/{used_up.id}/customer-link/", {"link": "not a link"})
        assert response.status_code == 200, load
        assert made == ([used_up.id] if load == "plain" else []), load


SUSPECT_SQL = "GROUP BY download_id, hour"  # downloads.history.suspect_changes_of_order's query
REPLY_SQL = "SELECT situation, body FROM"  # orders.replies.reply_bodies's


@pytest.mark.parametrize("counts", ["unchanged", "changed upstream"])
def test_a_cold_page_reads_what_the_records_do_not_name_while_they_are_on_their_way(
    merchant_client: Client, used_up: MadeOrder, upstream: Any, monkeypatch: pytest.MonkeyPatch, counts: str
) -> None:
    """The count history behind the link-scanner line and the reply wording are read before the records
    come back (orders.services.order_page). After them neither is asked again, unless noting the records'
    counts changed the count history: then the link-scanner line is read afresh (issue 28)."""
    from django.core.cache import cache
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    _page(merchant_client, used_up)  # the order index learns its number; the counts are noted
    main = connections["default"]  # this thread's: the page's queries (not the pool's threads')
    if counts == "changed upstream":
        upstream.set_count(used_up.records["planner.pdf"], 9)
    cache.clear()
    with CaptureQueriesContext(main) as captured:
        back: list[int] = []
        _slow_records(
            monkeypatch, 0.3, then=lambda: back.append(len(main.queries_log) - captured.initial_queries)
        )
        page = _page(merchant_client, used_up)
    before = [query["sql"] for query in captured.captured_queries[: back[0]]]
    after = [query["sql"] for query in captured.captured_queries[back[0] :]]
    assert sum(SUSPECT_SQL in sql for sql in before) == 1 and sum(REPLY_SQL in sql for sql in before) == 1
    assert not any(REPLY_SQL in sql for sql in after)
    assert sum(SUSPECT_SQL in sql for sql in after) == (1 if counts == "changed upstream" else 0)
    assert ("9 of 5" in page or ">9<" in page or 'value="9"' in page) == (counts == "changed upstream")


def _first_time() -> None:
    """As a process that never served the page: nothing in the shared cache, no keys learned last time."""
    from django.core.cache import cache

    from fileflare_admin import readahead

    cache.clear()
    with readahead._later_lock:
        readahead._later.clear()


def test_a_cold_page_reads_its_parts_in_one_round_trip(
    merchant_client: Client, used_up: MadeOrder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts' kept renderings are read together before any is rendered (read_ahead_parts), not one
    round trip each; a cold page rendered while its records are on their way reads those it renders then
    in one, and the later ones in one more (issue 28)."""

    backend = caches["default"]
    read: list[int] = []  # for each read of the shared cache that looked for fragments: how many
    get_many = backend.get_many

    def noted(keys: Any, *args: Any, **kwargs: Any) -> Any:
        keys = list(keys)
        if any(key.startswith(fragments.PREFIX) for key in keys):
            read.append(sum(key.startswith(fragments.PREFIX) for key in keys))
        return get_many(keys, *args, **kwargs)

    from fileflare_admin.api import deadline, fileflare

    order_get = fileflare.order_get

    def slow_order(**kwargs: Any) -> Any:
        if not deadline.cache_only():
            time.sleep(0.2)  # the records are in first: the page is rendered in one go
        return order_get(**kwargs)

    _page(merchant_client, used_up)  # the order index learns its number: its calls go at once
    monkeypatch.setattr(backend, "get_many", noted)
    _first_time()
    with monkeypatch.context() as patched:
        patched.setattr(fileflare, "order_get", slow_order)
        _page(merchant_client, used_up)
    # The six parts at once; then the records table's: all its rows at once and each row's, together.
    assert read == [len(PARTS), 1 + len(used_up.records)]
    read.clear()
    _first_time()
    _slow_records(monkeypatch, 0.2)
    _page(merchant_client, used_up)
    # Before the records: actions, facts, files; after them: the diagnosis, the reply and the customer's
    # view (its call was out too); then the records table's.
    assert read == [3, 3, 1 + len(used_up.records)]


def test_the_records_known_limits_are_read_with_what_else_the_records_name(
    merchant_client: Client, make_order: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the records are in, their files' known limits on the order (a kept read of the database) are
    read in the same round trip as their product names and noted counts, not in one of their own (the
    customer's link not known: no view of theirs teaches limits first)."""

    from fileflare_admin import kept

    backend = caches["default"]
    reads: list[list[str]] = []
    get_many = backend.get_many

    def noted(keys: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(list(keys))
        return get_many(reads[-1], *args, **kwargs)

    order: MadeOrder = make_order({"planner.pdf": (5, 5), "stickers.zip": (0, 5)})
    _page(merchant_client, order)
    monkeypatch.setattr(backend, "get_many", noted)
    _first_time()
    _slow_records(monkeypatch, 0.2)
    _page(merchant_client, order)
    limits = [keys for keys in reads if any(key.startswith(kept.PREFIX + kept.LIMITS) for key in keys)]
    assert len(limits) == 1 and any(key.startswith("product-name:") for key in limits[0]), limits
