"""Attaching and detaching files updates the order index at once (issue 19.1: "our own writes update it"),
so the Orders page, which reads the index, counts an order's own files right without asking Fileflare.

The index is filled by its own sync's read (one real list request to the sandbox); the writes go to the
in-process sandbox; Fileflare's requests are counted by the sandbox itself."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from audit.models import AuditEntry
from fileflare_admin.api.http import FILEFLARE
from orders_index import sync
from orders_index.services import order_index_get
from tests.conftest import Sandbox
from tests.orders.conftest import MadeOrder, SandboxHttp
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.django_db
PART_2 = "82664d96-6dfd-4343-96b0-05c46f41000a"  # "My new book - part 2", a file of the seeded shop
PART_2_NAME = "My new book - part 2"


def _index_newest_orders() -> None:
    """The sync's first step, as the worker runs it: the newest 1,000 orders read into the index."""
    state = sync.sync_row(FILEFLARE.identity())
    sync.read_once(state, sync.Read(page=1, refresh=True))
    cache.clear()


def _files_cell(page: str, order: MadeOrder) -> str:
    row = page.split(f">#{order.order_number}</a>", 1)[1].split("</tr>", 1)[0]
    return row.split('data-label="Files">', 1)[1].split("</td>", 1)[0]


@pytest.mark.engine
def test_an_attach_shows_in_the_index_and_on_the_orders_page_without_a_call(
    support_client: Client, make_order: Any, sandbox: Sandbox, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _index_newest_orders()
    indexed = order_index_get(order.id)
    assert indexed is not None and indexed.order.assets == ()
    page = support_client.get("/orders/", {"per_page": 100}).content.decode()
    assert "on the order" not in _files_cell(page, order)

    response = support_client.post(f"/orders/{order.id}/attach/", {"asset": [PART_2]})
    assert response.status_code == 302
    assert [asset["id"] for asset in upstream.order_assets(order.id)] == [PART_2]  # it did happen

    before = sandbox.stats()["fileflare"]
    indexed = order_index_get(order.id)
    assert indexed is not None
    assert [(asset.id, asset.filename) for asset in indexed.order.assets] == [(PART_2, PART_2_NAME)]
    page = support_client.get("/orders/", {"per_page": 100}).content.decode()
    assert _files_cell(page, order).startswith("1 on the order")
    assert sandbox.stats()["fileflare"] == before


@pytest.mark.engine
def test_a_detach_and_its_undo_show_in_the_index_at_once(
    merchant_client: Client, make_order: Any, sandbox: Sandbox
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    merchant_client.post(f"/orders/{order.id}/attach/", {"asset": [PART_2]})
    _index_newest_orders()
    indexed = order_index_get(order.id)
    assert indexed is not None and [asset.id for asset in indexed.order.assets] == [PART_2]

    merchant_client.post(f"/orders/{order.id}/detach/", {"asset": [PART_2]})
    detached = AuditEntry.objects.get(action="order_assets_detach")
    assert detached.succeeded
    indexed = order_index_get(order.id)
    assert indexed is not None and indexed.order.assets == ()
    before = sandbox.stats()["fileflare"]
    page = merchant_client.get("/orders/", {"per_page": 100}).content.decode()
    assert "on the order" not in _files_cell(page, order)
    assert sandbox.stats()["fileflare"] == before

    # Undo attaches it back: the same write, so the index follows again.
    assert merchant_client.post(f"/audit/{detached.pk}/undo/", {"reason": ""}).status_code == 302
    indexed = order_index_get(order.id)
    assert indexed is not None and [asset.id for asset in indexed.order.assets] == [PART_2]


def test_an_attach_whose_answer_was_lost_goes_into_the_index_as_read_back(
    support_client: Client, make_order: Any, upstream: SandboxHttp, fileflare_proxy: FaultProxy
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _index_newest_orders()  # through the proxy: the index belongs to the shop the dashboard talks to
    fileflare_proxy.fault("drop", method="POST", path=f"/v1/orders/{order.id}/attach", times=1)
    support_client.post(f"/orders/{order.id}/attach/", {"asset": [PART_2]})
    assert AuditEntry.objects.get(action="order_assets_attach").verified == "checked at the API"
    assert [asset["id"] for asset in upstream.order_assets(order.id)] == [PART_2]
    indexed = order_index_get(order.id)
    assert indexed is not None and [asset.id for asset in indexed.order.assets] == [PART_2]
