"""The order index never states as fact what it has not checked (issue 27.3, run in this process).

What a page reads fresh from Fileflare goes into the index at once; an order deleted at Fileflare leaves
it (when a read says so); every list answered from the index says how old its answer is, and "Re-check
these N orders now" reads the rows shown from Fileflare, one list request per 1,000. Changes are made
at Fileflare behind the dashboard's back (its API, called directly), as Fileflare's own app would."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from fileflare_admin.api.http import FILEFLARE
from orders_index import sync
from orders_index.models import IndexedOrder, OrderSync
from orders_index.services import order_index_get
from sandbox.models import Order as SandboxOrder
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db


def _outside(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    """A change made at Fileflare without the dashboard (its own app, another tool)."""
    answer = requests.request(
        method,
        f"{sandbox.fileflare_url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {sandbox.key}", "Accept": "application/json"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()


def _delete_at_fileflare(sandbox: Sandbox, order_id: str) -> None:
    """The order deleted at Fileflare (its API has no route for it): in the sandbox's own thread, where
    its tables may be written."""
    pool = sandbox.pool  # type: ignore[attr-defined]  # the in-process sandbox (this file is inner ring)
    pool.submit(lambda: SandboxOrder.objects.filter(id=order_id).delete()).result()


def _index_newest(*, whole_shop: bool = True) -> None:
    """The sync's read of the newest 1,000 orders; then the read cache is emptied (a later page must
    ask Fileflare). `whole_shop`: as if the walk had read every order (the filters answer from it)."""
    state = sync.sync_row(FILEFLARE.identity())
    sync.read_once(state, sync.Read(page=1, refresh=True))
    if whole_shop:
        OrderSync.objects.filter(pk=state.pk).update(walk_finished_at=timezone.now(), next_page=0)
    cache.clear()


def _calls(sandbox: Sandbox) -> int:
    return sandbox.stats()["fileflare"]


def _never_sent_page(client: Client) -> str:
    return " ".join(client.get("/orders/", {"email": "never", "per_page": 25}).content.decode().split())


def test_what_the_order_page_reads_goes_into_the_index_at_once(
    support_client: Client, sandbox: Sandbox
) -> None:
    made = sandbox.create_order({"lines": [], "email_sent": False})
    _index_newest()
    assert f">#{made['order_number']}</a>" in _never_sent_page(support_client)
    _outside(sandbox, "PUT", f"/v1/orders/{made['id']}", {})  # the e-mail sent in Fileflare's own app
    asset = _outside(sandbox, "GET", "/v1/assets", None)["data"][0]
    _outside(sandbox, "POST", f"/v1/orders/{made['id']}/attach", {"assets": [asset["id"]]})
    assert f">#{made['order_number']}</a>" in _never_sent_page(support_client)  # the index has not read it

    assert support_client.get(f"/orders/{made['id']}/").status_code == 200  # Support opens the order

    indexed = order_index_get(made["id"])
    assert indexed is not None and indexed.order.email_sent_at is not None
    assert [item.id for item in indexed.order.assets] == [asset["id"]]  # no longer "via products" only
    assert f">#{made['order_number']}</a>" not in _never_sent_page(support_client)


@pytest.mark.parametrize("committed", [True, False])
def test_the_order_pages_answer_goes_into_the_index_once_after_its_response(
    support_client: Client,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    committed: bool,
) -> None:
    """Stored once its response is sent (deadline.once_sent); the same answer read again by the next
    load is known stored from what that load read ahead, and is not stored again. A store whose note
    never came (its transaction not committed) is made again by the next load (issue 28)."""
    from fileflare_admin.api import deadline
    from orders_index import services

    made = sandbox.create_order({"lines": [], "email_sent": False})
    stored: list[tuple[str, bool]] = []  # (order ID, while its page was still being made)
    store_orders, once_sent = services.store_orders, deadline.once_sent
    sending: list[bool] = []

    def noted(**kwargs: Any) -> int:
        stored.append((kwargs["orders"][0].id, not sending))
        return store_orders(**kwargs)

    def after(work: Any) -> None:
        once_sent(lambda: (sending.append(True), work()))

    monkeypatch.setattr(services, "store_orders", noted)
    monkeypatch.setattr(deadline, "once_sent", after)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=committed):  # True: as outside a test's transaction
            assert support_client.get(f"/orders/{made['id']}/").status_code == 200
    assert stored == [(made["id"], False)] * (1 if committed else 2)
    assert order_index_get(made["id"]) is not None


def test_an_order_deleted_at_fileflare_leaves_the_index(support_client: Client, sandbox: Sandbox) -> None:
    older, deleted, newer = (sandbox.create_order({"lines": [], "email_sent": False}) for _ in range(3))
    _index_newest()
    _delete_at_fileflare(sandbox, deleted["id"])
    assert order_index_get(deleted["id"]) is not None

    _index_newest()  # the sync's next read of the newest page: the order is missing from it

    assert order_index_get(deleted["id"]) is None
    assert order_index_get(older["id"]) is not None and order_index_get(newer["id"]) is not None
    assert f">#{deleted['order_number']}</a>" not in _never_sent_page(support_client)


def test_a_list_from_the_index_says_as_of_and_rechecks_its_rows_in_one_request(
    support_client: Client, sandbox: Sandbox
) -> None:
    made = [sandbox.create_order({"lines": [], "email_sent": False}) for _ in range(3)]
    _index_newest()
    sent, deleted, unchanged = made
    _outside(sandbox, "PUT", f"/v1/orders/{sent['id']}", {})
    _delete_at_fileflare(sandbox, deleted["id"])

    page = _never_sent_page(support_client)
    # What it has not checked is said with its time, never as a fact.
    assert re.search(r"orders? in this shop had no download e-mail sent as of \d\d:\d\d:\d\d \w+", page)
    assert "never had the download e-mail sent" not in page and 'badge-warn">never sent' not in page
    assert re.search(r'badge-warn">not sent</span> <span class="muted small">as of \d\d:\d\d:\d\d', page)
    form = page.split('id="order-recheck"', 1)[1].split("</form>", 1)[0]
    shown = re.findall(r'name="order" value="([0-9a-f-]{36})"', form)
    assert len(shown) == 25 and {order["id"] for order in made} <= set(shown)
    assert "Re-check these 25 orders now" in form
    before = _calls(sandbox)

    response = support_client.post("/orders/recheck/", {"order": shown, "next": "/orders/?email=never"})

    assert response.status_code == 302 and response["Location"] == "/orders/?email=never"
    assert _calls(sandbox) == before + 1  # one list request brought all 25 back
    after = _never_sent_page(support_client)
    assert (
        "Re-checked all 25 orders at Fileflare (1 request): 1 had changed and now show what Fileflare "
        "holds; 1 no longer exists there and left the list." in after
    )
    assert f">#{sent['order_number']}</a>" not in after and f">#{deleted['order_number']}</a>" not in after
    assert f">#{unchanged['order_number']}</a>" in after
    recently = timezone.now() - timedelta(seconds=30)
    assert IndexedOrder.objects.filter(order_id=unchanged["id"], seen_at__gte=recently).exists()


def test_a_recheck_within_a_spent_budget_says_so_and_changes_nothing(
    support_client: Client, sandbox: Sandbox, settings
) -> None:
    made = sandbox.create_order({"lines": [], "email_sent": False})
    _index_newest()
    settings.FILEFLARE_BUDGET_PER_MINUTE = 1  # spent: staff's reads have no slot left
    settings.UPSTREAM_WRITE_RESERVE = 0
    support_client.get("/status/")

    asked = {"order": [made["id"]], "next": "/orders/"}
    response = support_client.post("/orders/recheck/", asked, follow=True)

    page = " ".join(response.content.decode().split())
    assert response.status_code == 200
    assert "Nothing was re-checked: Fileflare allows only so many requests a minute" in page
    assert "The list keeps what the order index last read." in page
    assert order_index_get(made["id"]) is not None
