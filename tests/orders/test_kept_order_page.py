"""The whole order page kept by everything it is made from (fileflare_admin.kept_pages, issue 28): a warm
load hands out the page rendered before while one read of the shared cache finds every key it read as it
was; it is made afresh the moment anything it shows changes (a write here or in another process, an
answer no longer fresh, a time it tells), never reaches another person, and carries each response's own
tokens."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from fileflare_admin import kept_pages, sharedcache
from fileflare_admin.api import cache as read_cache
from orders import pages
from orders.models import KnownCustomerToken
from orders_index.models import IndexedOrder
from tests.conftest import TEST_PASSWORD
from tests.orders.conftest import MadeOrder, count_fixed
from tests.support.pages import order_renders, without_own_values

pytestmark = pytest.mark.django_db
NONCE = re.compile(r"'nonce-([^']+)'")
__all__ = ["order_renders"]  # the fixture, shared with tests/faults/test_kept_pages_on_redis.py


@pytest.fixture
def renders(order_renders: list[str]) -> list[str]:
    return order_renders


@pytest.fixture
def order(make_order: Any) -> MadeOrder:
    """An order whose planner was downloaded 2 times of 5, its customer's link known."""
    made: MadeOrder = make_order({"planner.pdf": (2, 5), "stickers.zip": (0, 5)})
    KnownCustomerToken.remember(order_number=made.order_number, token=made.token, status_url=made.status_url)
    return made


def _load(client: Client, order: MadeOrder) -> str:
    response = client.get(f"/orders/{order.id}/")
    assert response.status_code == 200
    return response.content.decode()


def _kept(client: Client, order: MadeOrder, renders: list[str]) -> str:
    """The page loaded until it is handed out kept (a cold load, a warm one that keeps it, then it)."""
    for _ in range(2):
        _load(client, order)
    renders.clear()
    page = _load(client, order)
    assert renders == [], "the third load was made afresh"
    return page


def test_a_warm_page_is_handed_out_as_it_was_rendered(
    support_client: Client, order: MadeOrder, renders: list[str]
) -> None:
    _load(support_client, order)
    rendered = _load(support_client, order)
    renders.clear()
    kept = _load(support_client, order)
    assert renders == []
    assert without_own_values(kept) == without_own_values(rendered)
    assert "planner.pdf" in kept


def test_each_response_has_its_own_csrf_token_nonce_and_one_time_resend_token(
    merchant_user: User, order: MadeOrder, renders: list[str]
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(merchant_user)
    _kept(client, order, renders)
    responses = [client.get(f"/orders/{order.id}/") for _ in range(2)]
    assert renders == []
    seen: list[tuple[str, ...]] = []
    for response in responses:
        html = response.content.decode()
        policy = NONCE.search(response.headers["Content-Security-Policy"])
        assert policy is not None
        nonce = policy.group(1)
        assert re.findall(r'<script[^>]*nonce="([^"]*)"', html) == [nonce, nonce]
        csrf = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
        submission = re.findall(r'name="submission" value="([^"]*)"', html)
        assert len(csrf) >= 1 and len(submission) == 1 and submission[0]
        assert not re.search("fragmentcsrftokenplaceholder|keptpagecspnonceplaceholder|keptpageown", html)
        seen.append((nonce, *sorted(csrf), submission[0]))
    assert not set(seen[0]) & set(seen[1])  # nothing of one response's own is in the other's
    # A form of the kept page posts with its token: the resend goes (the person confirms it first).
    html = responses[1].content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found is not None
    token = found.group(1)
    response = client.post(f"/orders/{order.id}/resend/", {"csrfmiddlewaretoken": token})
    assert response.status_code != 403


def test_a_write_here_shows_on_the_next_load(
    support_client: Client, support_user: User, order: MadeOrder, renders: list[str]
) -> None:
    _kept(support_client, order, renders)
    added = count_fixed(support_user, order, "stickers.zip", 0, 4)
    page = _load(support_client, order)
    assert renders == [order.id]
    assert f'id="timeline-entry-{added.pk}"' in page


def test_a_write_in_another_process_shows_on_the_next_load(
    support_client: Client, order: MadeOrder, renders: list[str]
) -> None:
    """Another worker's write reaches this one through the shared cache only: the generation it moved."""
    _kept(support_client, order, renders)
    generation = read_cache.generation_keys("downloads")[0]
    cache.set(generation, int(cache.get(generation) or 0) + 1, timeout=None)
    _load(support_client, order)
    assert renders == [order.id]


def test_a_link_pasted_for_the_order_by_anyone_shows_on_the_next_load(
    support_client: Client, make_order: Any, renders: list[str]
) -> None:
    """The order's number and pasted link are not in the kept page's name but among its reads
    (orders.identity keeps them): a link remembered for the order makes the page afresh, with the
    customer's view."""
    order: MadeOrder = make_order({"planner.pdf": (2, 5)})
    before = _kept(support_client, order, renders)
    assert 'id="customer-view"' not in before or "downloaded 2 of 5" not in before
    KnownCustomerToken.remember(
        order_number=order.order_number, token=order.token, status_url=order.status_url
    )
    page = _load(support_client, order)
    assert renders == [order.id]
    assert "downloaded 2 of 5" in page


def test_an_order_the_index_does_not_hold_is_made_afresh_each_load(
    support_client: Client, order: MadeOrder, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its number and link then come from the cache and the database (orders.identity's other ways),
    which no kept page could see change (kept_pages.unkept)."""
    monkeypatch.setattr(pages, "indexed_number_and_link", lambda order_id: None)
    for _ in range(3):
        assert "planner.pdf" in _load(support_client, order)
    assert renders == [order.id] * 3


def test_the_order_gone_from_the_index_makes_the_page_afresh_and_a_sync_pass_does_not(
    support_client: Client, order: MadeOrder, renders: list[str]
) -> None:
    """A sync pass updates every row it read (an order's number never changes: the index is followed with
    updates=False, orders_index/apps.py), which changes nothing the page shows; a row deleted (the order
    gone) does."""
    _kept(support_client, order, renders)
    assert IndexedOrder.objects.filter(order_id=order.id).update(seen_at=timezone.now()) == 1
    _load(support_client, order)
    assert renders == []
    IndexedOrder.objects.filter(order_id=order.id).delete()
    _load(support_client, order)
    assert renders == [order.id]


def test_an_answer_replaced_in_the_cache_makes_the_page_afresh(
    support_client: Client, order: MadeOrder, renders: list[str]
) -> None:
    """Someone's "read it again now" stored a newer answer: the page shows that one."""
    _kept(support_client, order, renders)
    answers = [key for key in cast(Any, cache)._cache if ":ffa:read:fileflare:" in key]  # locmem's own dict
    assert answers
    for key in answers:
        entry = cache.get(key.split(":", 2)[2])
        cache.set(key.split(":", 2)[2], {**entry, "at": entry["at"] + 0.001}, timeout=60)
    _load(support_client, order)
    assert renders == [order.id]


def test_a_page_is_not_handed_out_past_its_answers_freshness(
    support_client: Client, order: MadeOrder, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _kept(support_client, order, renders)
    later = time.time() + read_cache.settings.UPSTREAM_CACHE_TTL + 1
    monkeypatch.setattr(kept_pages, "time", SimpleNamespace(time=lambda: later))
    _load(support_client, order)
    assert renders == [order.id]


def test_a_time_the_page_tells_is_told_afresh(
    support_client: Client, support_user: User, make_order: Any, renders: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A count given back within the last two hours is in the ready reply; two hours later it is not,
    though nothing was written. (No customer's link is known: no limit's "seen 3 minutes ago" is shown,
    which would make the page afresh each minute anyway.)"""
    order: MadeOrder = make_order({"planner.pdf": (2, 5)})
    count_fixed(support_user, order, "planner.pdf", 3, 2)
    page = _kept(support_client, order, renders)
    reply = page.split('id="support-reply"', 1)[1].split("</textarea>", 1)[0]
    assert "reset your downloads for" in reply
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(hours=2, minutes=1))
    later = _load(support_client, order)
    assert renders == [order.id]
    reply = later.split('id="support-reply"', 1)[1].split("</textarea>", 1)[0]
    assert "reset your downloads for" not in reply


def test_how_long_ago_a_limit_was_seen_is_told_afresh(
    support_client: Client, order: MadeOrder, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _kept(support_client, order, renders)
    assert "just now" in page and "1 minute ago" not in page
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(seconds=61))
    later = _load(support_client, order)
    assert renders == [order.id]
    assert "1 minute ago" in later


def test_another_person_never_gets_someone_elses_page(
    support_client: Client, order: MadeOrder, renders: list[str]
) -> None:
    _kept(support_client, order, renders)
    other = User.objects.create_user("pat-support", password=TEST_PASSWORD)
    other.groups.add(*User.objects.get(username="sam-support").groups.all())
    client = Client()
    client.force_login(other)
    page = _load(client, order)
    assert renders == [order.id]
    assert "pat-support" in page and "sam-support" not in page.split("<main", 1)[0]


def test_a_flash_message_is_shown_and_the_page_with_it_is_not_kept(
    support_client: Client, order: MadeOrder, renders: list[str]
) -> None:
    _kept(support_client, order, renders)
    response = support_client.post(f"/orders/{order.id}/customer-link/", {"link": order.status_url})
    assert response.status_code == 302
    with_message = _load(support_client, order)
    assert 'id="flashes"' in with_message
    assert renders == [order.id]
    assert 'id="flashes"' not in _load(support_client, order)


def test_nothing_is_handed_out_while_the_shared_cache_is_down(
    support_client: Client, order: MadeOrder, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's write could not reach this one then."""
    _kept(support_client, order, renders)
    monkeypatch.setattr(sharedcache, "degraded", lambda: True)
    _load(support_client, order)
    _load(support_client, order)
    assert renders == [order.id, order.id]


def test_a_page_showing_an_upstream_failure_is_not_kept(
    support_client: Client, order: MadeOrder, renders: list[str], settings: Any
) -> None:
    """Each load asks again: the records that could not be read are asked for, not an error handed out."""
    settings.DOWNLOADS_API_URL = "http://127.0.0.1:9/easycart"  # nothing listens there
    settings.UPSTREAM_RETRIES = 0
    pages = [_load(support_client, order) for _ in range(3)]
    assert renders == [order.id] * 3
    assert "planner.pdf" in pages[-1]  # the order's own files still show


def test_a_time_told_to_the_minute_reads_otherwise_at_the_next_minute() -> None:
    seen = timezone.now()
    assert kept_pages.next_minute(seen, seen + timedelta(seconds=5)) == seen + timedelta(minutes=1)
    assert kept_pages.next_minute(seen, seen + timedelta(minutes=3, seconds=1)) == seen + timedelta(minutes=4)
    assert kept_pages.next_minute(seen, seen - timedelta(seconds=5)) == seen + timedelta(minutes=1)
