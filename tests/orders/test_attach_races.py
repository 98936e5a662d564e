"""Attach and detach when colleagues change the same order's files (issue 27, items 1 and 2): an undo
never takes back a change someone made since, and each change's before and after are its own, read
fresh, with nobody else's change in between. Against the in-process sandbox; the same race across
two gunicorn instances is in tests/two_machines/test_attach_race.py."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from audit.models import AuditEntry
from fileflare_admin.api import cache, fileflare
from orders import attachments
from tests.orders.conftest import MadeOrder, SandboxHttp
from tests.support.together import at_once

pytestmark = pytest.mark.django_db
PART_2 = "82664d96-6dfd-4343-96b0-05c46f41000a"  # "My new book - part 2"
PART_2_NAME = "My new book - part 2"


def _person(username: str, group: str) -> Client:
    user = User.objects.create_user(username, password="unused-here")
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    client = Client()
    client.force_login(user)
    return client


def _flash(response: Any) -> str:
    return response.content.decode().split('class="flashes"', 1)[1].split("</ul>", 1)[0]


def _attach(client: Client, order: MadeOrder, *asset_ids: str) -> str:
    return _flash(client.post(f"/orders/{order.id}/attach/", {"asset": list(asset_ids)}, follow=True))


def _detach(client: Client, order: MadeOrder, *asset_ids: str) -> str:
    return _flash(client.post(f"/orders/{order.id}/detach/", {"asset": list(asset_ids)}, follow=True))


def _undo(client: Client, entry: AuditEntry) -> str:
    return _flash(client.post(f"/audit/{entry.pk}/undo/", {"reason": "mistake"}, follow=True))


def _ids(upstream: SandboxHttp, order: MadeOrder) -> list[str]:
    return [asset["id"] for asset in upstream.order_assets(order.id)]


def test_undo_of_an_attach_refuses_when_a_colleague_detached_and_attached_it_again_since(
    support_client: Client, merchant_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _attach(support_client, order, PART_2)  # A
    first = AuditEntry.objects.get(action="order_assets_attach")
    _detach(merchant_client, order, PART_2)  # B
    bo = _person("bo-support", "Support")
    assert f"Attached “{PART_2_NAME}”" in _attach(bo, order, PART_2)  # C

    said = _undo(merchant_client, first)
    assert f"“{PART_2_NAME}” was changed again since" in said
    assert "detached by mia-merchant at" in said and "attached by bo-support at" in said
    assert "undo would overwrite that." in said
    assert "belongs to the product" not in said
    assert _ids(upstream, order) == [PART_2]  # C's file is still there
    refused = AuditEntry.objects.get(undo_of=first)
    assert refused.outcome == "failed" and "changed again since" in refused.error
    # Undoing C, the last change, still works: it is what the file's state is now.
    latest = AuditEntry.objects.filter(action="order_assets_attach", outcome="success").latest("pk")
    assert f"Detached “{PART_2_NAME}”" in _undo(merchant_client, latest)
    assert _ids(upstream, order) == []


def test_undo_of_an_attach_whose_file_was_detached_outside_says_so_not_the_product_rule(
    support_client: Client, merchant_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _attach(support_client, order, PART_2)
    entry = AuditEntry.objects.get(action="order_assets_attach")
    upstream.change_assets(order.id, "detach", [PART_2])  # at Fileflare itself: no entry in our trail

    said = _undo(merchant_client, entry)
    assert f"“{PART_2_NAME}” was changed again since (now not attached to the order)" in said
    assert "nothing to undo" in said and "belongs to the product" not in said
    assert AuditEntry.objects.get(undo_of=entry).outcome == "failed"


def test_undo_of_a_detach_refuses_when_the_file_was_attached_again_outside(
    merchant_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    _attach(merchant_client, order, PART_2)
    _detach(merchant_client, order, PART_2)
    detached = AuditEntry.objects.get(action="order_assets_detach")
    upstream.change_assets(order.id, "attach", [PART_2])

    said = _undo(merchant_client, detached)
    assert f"“{PART_2_NAME}” was changed again since (now attached to the order)" in said
    assert AuditEntry.objects.get(undo_of=detached).outcome == "failed"
    assert _ids(upstream, order) == [PART_2]


def test_the_after_state_is_read_fresh_not_from_a_copy_a_colleague_just_saved(
    support_client: Client,
    make_order: Any,
    upstream: SandboxHttp,
    sandbox: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A colleague's read that began before the attach and ends after it saves the order as it was,
    marked fresh: the attach's own after-state must not come from that copy."""
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    (found,) = upstream.session.get(
        f"{sandbox.fileflare_url}/v1/orders/{order.id}",
        params={"with_assets": 1},
        headers={"Authorization": f"Bearer {sandbox.key}"},
        timeout=30,
    ).json()["data"]
    as_it_was = {"data": [{**found, "assets": []}]}
    send = fileflare.order_attach_assets

    def attach_then_a_colleague_saves_the_old_copy(**kwargs: Any) -> None:
        send(**kwargs)
        cache.store(fileflare._single_order_key(order.id), as_it_was)

    monkeypatch.setattr(fileflare, "order_attach_assets", attach_then_a_colleague_saves_the_old_copy)
    said = _attach(support_client, order, PART_2)
    assert f"Attached “{PART_2_NAME}” to order #{order.order_number}." in said
    entry = AuditEntry.objects.get(action="order_assets_attach")
    assert entry.before == {"assets": []}
    assert entry.after["attached"] == [{"id": PART_2, "filename": PART_2_NAME}]
    assert entry.after["assets"] == [{"id": PART_2, "filename": PART_2_NAME}]


@pytest.mark.django_db(transaction=True)
@pytest.mark.engine
def test_attach_and_detach_at_the_same_moment_each_record_what_really_changed(
    merchant_client: Client, make_order: Any, upstream: SandboxHttp, sandbox: Any
) -> None:
    sandbox.config(latency_ms=40)  # an upstream across the internet: the race window is wide open
    order: MadeOrder = make_order({"planner.pdf": (1, 10)})
    bo = _person("bo-merchant", "Merchant")
    said: list[str] = []
    for _ in range(5):
        said += at_once(lambda: _attach(merchant_client, order, PART_2), lambda: _detach(bo, order, PART_2))
    entries = list(
        AuditEntry.objects.filter(order_id=order.id, outcome="success").order_by("finished_at", "pk")
    )
    assert entries, "nothing was recorded"
    state: list[str] = []
    for entry in entries:
        before = [asset["id"] for asset in entry.before["assets"]]
        after = [asset["id"] for asset in entry.after["assets"]]
        assert before == state, f"entry {entry.pk} started from {before}, the files were {state}"
        changed = attachments.undo_files(entry)
        if entry.action == attachments.ATTACH:
            assert changed == ([] if PART_2 in before else [{"id": PART_2, "filename": PART_2_NAME}])
        else:
            assert changed == [{"id": PART_2, "filename": PART_2_NAME}]  # a detach only runs on it
        state = after
    assert state == _ids(upstream, order)
    # What each person read is what their entry records: "already so" only when the file was there.
    attaches = [entry for entry in entries if entry.action == attachments.ATTACH]
    detaches = [entry for entry in entries if entry.action == attachments.DETACH]
    attached_said = sum(f"Attached “{PART_2_NAME}”" in flash for flash in said)
    assert attached_said == sum(bool(attachments.undo_files(entry)) for entry in attaches), said
    assert sum("Attached nothing new (already so)" in flash for flash in said) == sum(
        not attachments.undo_files(entry) for entry in attaches
    ), said
    assert sum(f"Detached “{PART_2_NAME}”" in flash for flash in said) == len(detaches), said
    assert not any("Detached nothing new" in flash for flash in said), said
    assert "pending" not in set(AuditEntry.objects.values_list("outcome", flat=True))
