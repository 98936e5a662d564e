"""Attaching and detaching files on an order: the picker, the roles, the audit trail with before and
after lists, verify-after, and undo from the audit log. Against the in-process sandbox; a fault
proxy loses an answer after Fileflare carried the change out."""

from typing import Any

import pytest
import requests
from django.test import Client

from audit.models import AuditEntry
from tests.conftest import Sandbox
from tests.orders.conftest import MadeOrder, SandboxHttp
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.django_db
PART_2 = "82664d96-6dfd-4343-96b0-05c46f41000a"  # "My new book - part 2", order 1050's own file
PART_2_NAME = "My new book - part 2"


def _paste(client: Client, order: MadeOrder) -> None:
    assert client.post(f"/orders/{order.id}/customer-link/", {"link": order.status_url}).status_code == 302


def _attach(client: Client, order: MadeOrder, *asset_ids: str, **extra: str) -> requests.Response:
    return client.post(f"/orders/{order.id}/attach/", {"asset": list(asset_ids), **extra}, follow=True)  # type: ignore[return-value]


def _flash(response: Any) -> str:
    return response.content.decode().split('class="flashes"', 1)[1].split("</ul>", 1)[0]


def test_support_finds_a_file_attaches_it_and_the_customer_sees_it(
    support_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _paste(support_client, order)
    picker = support_client.get(
        f"/orders/{order.id}/files/", {"filename": "book - part 2"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert picker.startswith('<div id="asset-picker"') and "<html" not in picker
    assert f'value="{PART_2}"' in picker and "20MB" in picker and ">link<" in picker

    response = _attach(support_client, order, PART_2, reason="ticket 7: file added later")
    flash = _flash(response)
    assert f"Attached “{PART_2_NAME}” to order #{order.order_number}." in flash
    assert "The customer&#x27;s page shows it now." in flash
    assert f'href="/orders/{order.id}/resend/">Resend the download e-mail</a>' in flash
    assert [asset["id"] for asset in upstream.order_assets(order.id)] == [PART_2]
    assert PART_2_NAME in upstream.customer_filenames(order.token)
    page = response.content.decode()
    assert PART_2_NAME in page.split('id="order-assets"', 1)[1].split("</section>", 1)[0]
    assert PART_2_NAME in page.split('id="customer-view"', 1)[1].split("</section>", 1)[0]

    entry = AuditEntry.objects.get(action="order_assets_attach")
    assert entry.succeeded and entry.actor_name == "sam-support"
    assert entry.reason == "ticket 7: file added later"
    assert entry.order_id == order.id and entry.order_number == order.order_number
    assert entry.before == {"assets": []}
    assert entry.after["attached"] == [{"id": PART_2, "filename": PART_2_NAME}]
    assert entry.after["assets"] == [{"id": PART_2, "filename": PART_2_NAME}]
    assert f"#entry-{entry.pk}" in flash  # its undo is a detach, a Merchant's: offered as the log offers it
    assert "(A Merchant can undo this)" in flash and f'href="/audit/{entry.pk}/undo/"' not in flash


def test_attaching_a_file_twice_changes_nothing_the_second_time(
    support_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _attach(support_client, order, PART_2)
    again = _flash(_attach(support_client, order, PART_2))
    assert "Attached nothing new (already so)" in again and "Undo" not in again
    assert [asset["id"] for asset in upstream.order_assets(order.id)] == [PART_2]


def test_support_may_not_detach_even_by_posting(
    support_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _attach(support_client, order, PART_2)
    page = support_client.get(f"/orders/{order.id}/").content.decode()
    assert "Detach file" not in page and "Only a Merchant can detach files" in page
    response = support_client.post(f"/orders/{order.id}/detach/", {"asset": PART_2})
    assert response.status_code == 403
    assert "Only a Merchant can detach files from an order." in response.content.decode()
    assert [asset["id"] for asset in upstream.order_assets(order.id)] == [PART_2]
    refused = AuditEntry.objects.get(action="order_assets_detach")
    assert refused.outcome == "failed" and refused.order_id == order.id


def test_a_merchant_detaches_only_what_is_on_the_order_itself(
    merchant_client: Client, make_order: Any, upstream: SandboxHttp, sandbox: Sandbox
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _attach(merchant_client, order, PART_2)
    view = requests.get(
        f"{sandbox.fileflare_url}/v2/customer-account-orders", params={"id": order.token}, timeout=10
    ).json()
    product_file = view["order"]["lines"][0]["assets"][0]["data"]["id"]
    detach = f"/orders/{order.id}/detach/"
    refused = _flash(merchant_client.post(detach, {"asset": product_file}, follow=True))
    assert "Only files attached to the order itself can be detached" in refused
    done = _flash(merchant_client.post(detach, {"asset": PART_2}, follow=True))
    assert f"Detached “{PART_2_NAME}” from order #{order.order_number}." in done
    assert upstream.order_assets(order.id) == []


def test_undo_of_an_attach_detaches_exactly_what_it_attached(
    support_client: Client, merchant_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)}, assets=[{"filename": "already.pdf", "limit": 5}])
    already = upstream.order_assets(order.id)[0]["id"]
    _attach(support_client, order, already, PART_2)
    entry = AuditEntry.objects.get(action="order_assets_attach")
    assert entry.after["attached"] == [{"id": PART_2, "filename": PART_2_NAME}]

    refused = support_client.post(f"/audit/{entry.pk}/undo/", {"reason": "mistake"})
    assert refused.status_code == 403  # undoing an attach is a detach: a Merchant's
    merchant_client.post(f"/audit/{entry.pk}/undo/", {"reason": "wrong customer"})
    assert [asset["id"] for asset in upstream.order_assets(order.id)] == [already]
    tries = AuditEntry.objects.filter(action="order_assets_detach", undo_of=entry).order_by("pk")
    assert [(undo.actor_name, undo.outcome) for undo in tries] == [
        ("sam-support", "failed"),
        ("mia-merchant", "success"),
    ]
    assert tries.last().after["detached"] == [{"id": PART_2, "filename": PART_2_NAME}]  # type: ignore[union-attr]


def test_the_message_after_an_attach_offers_undo_as_the_audit_log_does_for_that_person(
    support_client: Client, merchant_client: Client, make_order: Any
) -> None:
    """One rule, one message: the flash offers Undo only to whom the log offers it, in the log's words."""
    for client, name in ((support_client, "sam-support"), (merchant_client, "mia-merchant")):
        order: MadeOrder = make_order({"planner.pdf": (1, 10)})
        flash = _flash(_attach(client, order, PART_2))
        entry = AuditEntry.objects.get(action="order_assets_attach", actor_name=name)
        log = client.get("/audit/", {"order_number": order.order_number}).content.decode()
        row = log.split(f'id="entry-{entry.pk}"', 1)[1].split("</tr>", 1)[0]
        undo_link = f'href="/audit/{entry.pk}/undo/">Undo</a>'
        if name == "sam-support":  # undoing an attach is a detach: a Merchant's
            assert "A Merchant can undo this" in flash and "A Merchant can undo this" in row
            assert undo_link not in flash and "Undo</button>" not in row
        else:
            assert undo_link in flash and "Undo</button>" in row
            assert "A Merchant can undo this" not in flash + row


def test_undo_of_a_detach_attaches_back_what_it_removed(
    merchant_client: Client, support_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _attach(merchant_client, order, PART_2)
    merchant_client.post(f"/orders/{order.id}/detach/", {"asset": PART_2})
    detached = AuditEntry.objects.get(action="order_assets_detach")
    support_client.post(f"/audit/{detached.pk}/undo/")  # attaching back is Support's to do too
    assert [asset["id"] for asset in upstream.order_assets(order.id)] == [PART_2]


def test_a_file_fileflare_does_not_know_is_a_sentence_and_changes_nothing(
    support_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    flash = _flash(_attach(support_client, order, "00000000-0000-4000-8000-00000000dead"))
    assert "Fileflare refused" in flash and "Nothing was changed." in flash
    assert upstream.order_assets(order.id) == []
    assert AuditEntry.objects.get(action="order_assets_attach").outcome == "failed"


def test_choosing_nothing_says_so(support_client: Client, make_order: Any) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    assert "Choose at least one file first." in _flash(_attach(support_client, order))


def test_an_attach_whose_answer_was_lost_is_read_back(
    support_client: Client, make_order: Any, upstream: SandboxHttp, fileflare_proxy: FaultProxy
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    fileflare_proxy.fault("drop", method="POST", path=f"/v1/orders/{order.id}/attach", times=1)
    flash = _flash(_attach(support_client, order, PART_2))
    assert f"Attached “{PART_2_NAME}”" in flash and "(checked at the API)" in flash
    entry = AuditEntry.objects.get(action="order_assets_attach")
    assert entry.succeeded and entry.verified == "checked at the API"
    assert [asset["id"] for asset in upstream.order_assets(order.id)] == [PART_2]


def test_without_javascript_the_picker_and_the_confirmation_are_pages(
    support_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    picker = support_client.get(f"/orders/{order.id}/files/", {"filename": "book - part 2"}).content.decode()
    assert "<html" in picker and "Attach a file to order" in picker
    asked = {"asset": PART_2, "filename": "book - part 2", "page": 1, "reason": "why"}
    confirm = support_client.get(f"/orders/{order.id}/attach/", asked).content.decode()
    assert f"Attach these files to order #{order.order_number}?" in confirm and PART_2_NAME in confirm
    assert 'value="why"' in confirm
    assert upstream.order_assets(order.id) == []  # asking changes nothing


def test_the_picker_pages_and_a_repeated_search_costs_nothing(
    support_client: Client, sandbox: Sandbox
) -> None:
    made = sandbox.create_order({"lines": [{"product": {"name": "Picker"}, "assets": []}]})
    url = f"/orders/{made['id']}/files/"
    first = support_client.get(url, {"filename": "part 2"}, headers={"HX-Request": "true"}).content.decode()
    assert first.count('name="asset"') == 10 and "Next →" in first
    calls = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["fileflare"]
    support_client.get(url, {"filename": "part 2"}, headers={"HX-Request": "true"})
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["fileflare"] == calls
    second = support_client.get(url, {"filename": "part 2", "page": 2}, headers={"HX-Request": "true"})
    assert "← Previous" in second.content.decode()


def test_the_diagnosis_links_the_picker_when_nothing_is_attached(
    support_client: Client, sandbox: Sandbox
) -> None:
    made = sandbox.create_order({"lines": [{"product": {"name": "Empty"}, "assets": []}]})
    support_client.post(f"/orders/{made['id']}/customer-link/", {"link": made["order_status_url"]})
    page = support_client.get(f"/orders/{made['id']}/").content.decode()
    diagnosis = page.split('id="diagnosis"', 1)[1].split("</section>", 1)[0]
    assert "No files are attached to this order or its products" in diagnosis
    assert 'href="#attach-files">Attach a file to this order</a>' in diagnosis
    assert 'id="attach-files"' in page


def test_when_the_order_cannot_be_read_back_either_the_outcome_is_unknown_not_failed(
    support_client: Client, make_order: Any, upstream: SandboxHttp, fileflare_proxy: FaultProxy, settings: Any
) -> None:
    settings.UPSTREAM_RETRIES = 0
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    fileflare_proxy.fault("drop", method="POST", path=f"/v1/orders/{order.id}/attach", times=1)
    fileflare_proxy.fault("502", method="GET", path=f"/v1/orders/{order.id}", times=1, after="POST")
    flash = _flash(_attach(support_client, order, PART_2))
    assert "we cannot tell whether the files changed" in flash and "Reload the order" in flash
    entry = AuditEntry.objects.get(action="order_assets_attach")
    assert entry.outcome == "unknown"
    assert [asset["id"] for asset in upstream.order_assets(order.id)] == [PART_2]  # it did go through


def test_a_detach_says_the_customers_page_no_longer_shows_the_file(
    merchant_client: Client, make_order: Any
) -> None:
    """Only what was read again is said: after a detach, the file is gone from the customer's page."""
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _paste(merchant_client, order)
    _attach(merchant_client, order, PART_2)
    done = _flash(merchant_client.post(f"/orders/{order.id}/detach/", {"asset": PART_2}, follow=True))
    assert f"Detached “{PART_2_NAME}” from order #{order.order_number}." in done
    assert "The customer&#x27;s page no longer shows it." in done and "shows it now" not in done
