"""Search, the order page and the Orders page read the order index first (issue 19.1).

The index is filled by its own sync's read (orders_index.sync.read_once: one real list request to the
sandbox, as the background worker makes it), then the read cache is emptied, so nothing but the index
knows which number has which ID. Fileflare's requests are counted by the sandbox itself."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from fileflare_admin.api import fileflare
from fileflare_admin.api.http import FILEFLARE
from orders.models import KnownCustomerToken
from orders_index import sync
from orders_index.models import IndexedOrder, OrderSync
from orders_index.services import order_index_get, order_index_note
from tests.conftest import Sandbox
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.django_db


def _index_newest_orders() -> OrderSync:
    """The sync's first step, as the worker runs it: the newest 1,000 orders read into the index."""
    state = sync.sync_row(FILEFLARE.identity())
    sync.read_once(state, sync.Read(page=1, refresh=True))
    cache.clear()  # forget every answer: only the index knows numbers and IDs now
    return state


def _an_indexed_order(sandbox: Sandbox) -> dict[str, Any]:
    """One of the orders the index holds (the newest 1,000), as the customer knows it."""
    row = IndexedOrder.objects.filter(email_sent_at__isnull=False).order_by("-ordered_at")[7]
    return sandbox.customer(row.order_number)


def _fileflare_calls(sandbox: Sandbox) -> int:
    return sandbox.stats()["fileflare"]


def test_a_number_the_index_holds_is_found_without_a_call(support_client: Client, sandbox: Sandbox) -> None:
    _index_newest_orders()
    example = _an_indexed_order(sandbox)
    number = example["order_number"]
    assert fileflare.order_id_for(number) is None  # the API layer has no answer to remember it from
    before = _fileflare_calls(sandbox)
    response = support_client.get("/orders/", {"q": f"#{number}"})
    assert response.status_code == 302 and response["Location"] == f"/orders/{example['id']}/"
    assert _fileflare_calls(sandbox) == before


def test_the_orders_page_reads_the_index_and_says_as_of_when_it_is_old(
    support_client: Client, sandbox: Sandbox
) -> None:
    _index_newest_orders()
    newest = IndexedOrder.objects.order_by("-ordered_at", "-order_number").first()
    assert newest is not None
    before = _fileflare_calls(sandbox)
    page = support_client.get("/orders/").content.decode()
    assert f">#{newest.order_number}</a>" in page and "Orders as of" not in page
    assert _fileflare_calls(sandbox) == before
    IndexedOrder.objects.update(seen_at=timezone.now() - timedelta(minutes=10))
    page = support_client.get("/orders/").content.decode()
    assert "Orders as of" in page and "from the dashboard's order index" in page
    assert _fileflare_calls(sandbox) == before


def test_never_sent_covers_the_whole_shop_once_the_index_has_every_order(
    support_client: Client, sandbox: Sandbox
) -> None:
    state = _index_newest_orders()  # (no order is made here: other tests count the newest orders)
    never = IndexedOrder.objects.filter(email_sent_at__isnull=True).order_by("-ordered_at").values().first()
    assert never is not None, "the seeded shop has orders whose e-mail was never sent"
    if state.walk_finished_at is None:  # more than 1,000 orders: before the walk ends, Fileflare's 1,000
        page = support_client.get("/orders/", {"email": "never"}).content.decode()
        assert "(among the newest 1,000)" not in page  # the filter is on: the link to it is not shown
        assert "of the newest" in page
        OrderSync.objects.filter(pk=state.pk).update(walk_finished_at=timezone.now(), next_page=0)
    unsent = IndexedOrder.objects.filter(email_sent_at__isnull=True).count()
    before = _fileflare_calls(sandbox)
    page = support_client.get("/orders/", {"email": "never", "per_page": 100}).content.decode()
    counted = f"{unsent:,} order{'s' if unsent != 1 else ''} in this shop had no download e-mail sent as of "
    assert counted in page
    assert f">#{never['order_number']}</a>" in page
    assert _fileflare_calls(sandbox) == before
    assert "(in the whole shop)" in support_client.get("/orders/").content.decode()


@pytest.mark.engine
def test_a_resend_updates_the_index_at_once(support_client: Client, sandbox: Sandbox) -> None:
    _index_newest_orders()
    order_id = _an_indexed_order(sandbox)["id"]
    before = order_index_get(order_id)
    assert before is not None and before.order.email_sent_at is not None
    page = support_client.get(f"/orders/{order_id}/").content.decode()
    token = page.split('name="submission" value="', 1)[1].split('"', 1)[0]
    support_client.post(f"/orders/{order_id}/resend/", {"submission": token, "reason": ""})
    after = order_index_get(order_id)
    assert after is not None and after.order.email_sent_at is not None
    assert after.order.email_sent_at > before.order.email_sent_at


def test_an_indexed_order_fileflare_no_longer_has_leaves_the_index(
    support_client: Client, sandbox: Sandbox
) -> None:
    _index_newest_orders()
    real = fileflare.order_get(order_id=_an_indexed_order(sandbox)["id"]).value
    gone = replace(real, id=str(uuid.uuid4()), order_number=real.order_number + 10_000_000)
    order_index_note(gone)  # as if the index had read it before the shop deleted it
    response = support_client.get(f"/orders/{gone.id}/")
    assert response.status_code == 404
    assert order_index_get(gone.id) is None


class TimingProxy(FaultProxy):
    """Every request waits `pause` before it is forwarded; when each began and ended is kept."""

    def __init__(self, upstream: str, pause: float) -> None:
        super().__init__(upstream)
        self.pause = pause
        self.spans: list[tuple[str, str, float, float]] = []

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> requests.Response:
        began = time.monotonic()
        time.sleep(self.pause)
        answer = super()._forward(method, path, headers, body)
        with self._lock:
            self.spans.append((method, path, began, time.monotonic()))
        return answer


@pytest.fixture
def timing_proxy(sandbox: Sandbox, settings: Any) -> Iterator[TimingProxy]:
    with TimingProxy(sandbox.url, pause=0.3) as proxy:
        settings.FILEFLARE_API_URL = f"{proxy.url}/api"
        settings.DOWNLOADS_API_URL = f"{proxy.url}/easycart"
        yield proxy


def test_a_cold_order_page_asks_for_order_records_and_customer_view_at_once(
    support_client: Client, sandbox: Sandbox, timing_proxy: TimingProxy
) -> None:
    _index_newest_orders()  # through the proxy: the index belongs to the shop the dashboard talks to
    example = _an_indexed_order(sandbox)
    number = example["order_number"]
    KnownCustomerToken.remember(order_number=number, token=example["customer_token"])
    timing_proxy.spans.clear()
    response = support_client.get(f"/orders/{example['id']}/")
    assert response.status_code == 200 and f"#{number}" in response.content.decode()
    asked = {path.split("?")[0]: (began, ended) for _method, path, began, ended in timing_proxy.spans}
    assert set(asked) == {
        f"/api/v1/orders/{example['id']}",
        "/easycart/downloads",
        "/api/v2/customer-account-orders",
    }
    # Each waited 0.3 s in the proxy: one after the other, a later one would begin after an earlier ended.
    assert max(began for began, _ in asked.values()) < min(ended for _, ended in asked.values())
