"""Writes whose answer goes missing after the upstream saved them: every write kind by {dropped connection,
garbage body, 502, timeout then retry}, through the dashboard's pages, against the real sandbox behind the
fault proxy (tests/support/faultproxy.py). Each ends with the right upstream state, exactly one record,
a page that says what is verified, and an audit entry that matches the upstream. Then: the outcome that
cannot be read back is "unknown" with a link to check, and a write that verifiably did not happen says
so and may simply be sent again."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from downloads import edits, services
from tests.downloads.conftest import DownloadsApi
from tests.support.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
AFTER_SAVE: list[Fault] = ["drop", "garbage", "502", "delay"]
KINDS = ["create", "edit", "count", "delete", "restore", "revert"]
METHOD = {
    "create": "POST",
    "restore": "POST",
    "edit": "PATCH",
    "count": "PATCH",
    "revert": "PATCH",
    "delete": "DELETE",
}


@pytest.fixture(autouse=True)
def _quick_timeouts(settings: Any) -> None:
    settings.UPSTREAM_READ_TIMEOUT = 0.5  # the "delay" fault answers after 1 s: a timeout
    settings.UPSTREAM_RETRIES = 2
    settings.UPSTREAM_BACKOFF = 0.01


def _fields(html: str) -> dict[str, str]:
    """The named inputs of the page's record form with their values, as a browser sends them."""
    form = re.search(r'<form[^>]*method="post" action="/downloads/[^>]*>(.*?)</form>', html, re.S)
    assert form, "no record form on the page"
    values = {}
    for tag in re.findall(r"<input[^>]*>", form.group(1)):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and "checkbox" not in tag and " disabled" not in tag:
            text = value.group(1) if value else ""
            values[name.group(1)] = text.replace("&quot;", '"').replace("&amp;", "&")
    return values


Arm = Callable[[], None]


@dataclass
class Outcome:
    page: str  # what the person read (after following a redirect)
    check: Callable[[], None]  # the upstream state and the audit entry


def _page(client: Client, response: Any) -> str:
    if response.status_code == 302:
        return client.get(response["Location"]).content.decode()
    return response.content.decode()


def _entry(action: str) -> AuditEntry:
    (entry,) = AuditEntry.objects.filter(action=action)
    return entry


def _create(client: Client, api: DownloadsApi, arm: Arm, order_number: int, **_: Any) -> Outcome:
    form = _fields(client.get(reverse("downloads:create")).content.decode())
    payload = {
        **form,
        "order_id": str(order_number),
        "product_id": "31",
        "download_count": "2",
        "download_file_name": "lost-answer.pdf",
    }
    arm()
    page = _page(client, client.post(reverse("downloads:create"), payload))
    # Pressing Save again on the same form (the page used to suggest it) sends nothing.
    again = client.post(reverse("downloads:create"), payload).content.decode()
    assert "This form was already sent at" in again

    def check() -> None:
        (made,) = api.for_order(order_number)
        entry = _entry("download_record_create")
        assert (entry.outcome, entry.download_id) == ("success", made["download_id"])
        assert entry.verified == "checked at the API"
        created = f"Created download record {made['download_id']} for order {order_number}"
        assert f"{created} — checked at the API." in page

    return Outcome(page, check)


def _edit(client: Client, api: DownloadsApi, arm: Arm, record: dict[str, Any], **_: Any) -> Outcome:
    url = reverse("downloads:edit", args=[record["download_id"]])
    form = _fields(client.get(url).content.decode())
    arm()
    page = _page(client, client.post(url, {**form, "download_file_name": "renamed.pdf"}))

    def check() -> None:
        assert api.get(record["download_id"])["download_file_name"] == "renamed.pdf"
        entry = _entry("download_record_update")
        assert (entry.outcome, entry.after["download_file_name"]) == ("success", "renamed.pdf")
        assert f"Saved download record {record['download_id']}" in page

    return Outcome(page, check)


def _count(client: Client, api: DownloadsApi, arm: Arm, record: dict[str, Any], **_: Any) -> Outcome:
    url = reverse("downloads:count", args=[record["download_id"]])
    arm()
    page = client.post(url, {"count": "7", "expected": "2"}, **HTMX).content.decode()

    def check() -> None:
        assert api.get(record["download_id"])["download_count"] == 7
        entry = _entry("download_record_count")
        assert (entry.outcome, entry.after["download_count"]) == ("success", 7)
        assert re.search(r"Saved( — checked at the API)?: download count is 7\.", page)

    return Outcome(page, check)


def _delete(client: Client, api: DownloadsApi, arm: Arm, record: dict[str, Any], **_: Any) -> Outcome:
    url = reverse("downloads:delete", args=[record["download_id"]])
    form = _fields(client.get(url).content.decode())
    arm()
    page = _page(client, client.post(url, form))

    def check() -> None:
        assert api.get(record["download_id"]) is None
        entry = _entry("download_record_delete")
        assert (entry.outcome, entry.before["download_id"]) == ("success", record["download_id"])
        assert f"Deleted download record {record['download_id']}" in page
        assert "There is no download record" not in page
        assert "A Merchant can restore this" not in page

    return Outcome(page, check)


def _restore(
    client: Client, api: DownloadsApi, arm: Arm, record: dict[str, Any], user: User, order_number: int
) -> Outcome:
    deletion = services.download_record_delete(actor=user, download_id=record["download_id"]).entry
    assert deletion is not None
    arm()
    page = client.post(f"/audit/{deletion.pk}/undo/", follow=True).content.decode()

    def check() -> None:
        (back,) = api.for_order(order_number)
        entry = _entry("download_record_restore")
        assert (entry.outcome, entry.download_id, entry.undo_of) == ("success", back["download_id"], deletion)
        new_id = back["download_id"]
        link = f'<a href="/downloads/{new_id}/edit/">{new_id}</a>'
        assert f"Restored the deleted record as a new record, {link}, created " in page
        assert "(checked at the API): the downloads API gives a restored record a new download ID" in page

    return Outcome(page, check)


def _revert(
    client: Client, api: DownloadsApi, arm: Arm, record: dict[str, Any], user: User, **_: Any
) -> Outcome:
    change = edits.download_record_count_set(
        actor=user, download_id=record["download_id"], count=9, expected=2
    ).entry
    assert change is not None
    arm()
    page = client.post(f"/audit/{change.pk}/undo/", follow=True).content.decode()

    def check() -> None:
        assert api.get(record["download_id"])["download_count"] == 2
        entry = _entry("download_record_count_revert")
        assert (entry.outcome, entry.after["download_count"], entry.undo_of) == ("success", 2, change)
        assert f"Set the download count of record {record['download_id']} back to 2" in page

    return Outcome(page, check)


WRITES: dict[str, Callable[..., Outcome]] = {
    "create": _create,
    "edit": _edit,
    "count": _count,
    "delete": _delete,
    "restore": _restore,
    "revert": _revert,
}


@pytest.mark.parametrize("fault", AFTER_SAVE)
@pytest.mark.parametrize("kind", KINDS)
def test_a_write_whose_answer_is_lost_after_the_save_ends_truthfully(
    kind: str,
    fault: Fault,
    merchant_client: Client,
    merchant_user: User,
    make_record: Any,
    downloads_api: DownloadsApi,
    order_number: int,
    fault_proxy: FaultProxy,
) -> None:
    record = make_record(download_count=2) if kind != "create" else {}

    def arm() -> None:
        fault_proxy.fault(fault, method=METHOD[kind], path=r"/easycart/downloads", times=1, delay=1.0)

    outcome = WRITES[kind](
        merchant_client, downloads_api, arm, record=record, user=merchant_user, order_number=order_number
    )
    assert [spoiled[0] for spoiled in fault_proxy.spoiled] == [fault], "the fault was not applied"
    outcome.check()
    assert not AuditEntry.objects.filter(outcome__in=["pending", "unknown"]).exists()
    if kind in ("count", "delete"):  # a verified success can be undone from its entry
        entry = AuditEntry.objects.get(action=f"download_record_{kind}")
        log = merchant_client.get("/audit/", {"download_id": entry.download_id}).content.decode()
        row = log.split(f'id="entry-{entry.pk}"')[1].split("</tr>")[0]
        assert ("Restore</button>" if kind == "delete" else "Undo</button>") in row


# --- When the upstream cannot be read back either -------------------------------------------------


@pytest.mark.parametrize("kind", ["create", "edit", "count", "delete"])
def test_an_outcome_that_cannot_be_read_back_is_unknown_with_a_link_to_check(
    kind: str,
    merchant_client: Client,
    merchant_user: User,
    make_record: Any,
    downloads_api: DownloadsApi,
    order_number: int,
    fault_proxy: FaultProxy,
) -> None:
    record = make_record(download_count=2) if kind != "create" else {}
    if kind in ("edit", "delete"):  # the page that carries the form is loaded before the trouble starts
        url = reverse(f"downloads:{kind}", args=[record["download_id"]])
        form = _fields(merchant_client.get(url).content.decode())
    fault_proxy.fault("502", method=METHOD[kind], path="/easycart/downloads", times=10)
    fault_proxy.fault("502", method="GET", path="/easycart/downloads", times=10, after=METHOD[kind])
    if kind == "create":
        form = _fields(merchant_client.get(reverse("downloads:create")).content.decode())
        payload = {**form, "order_id": str(order_number), "product_id": "3", "download_file_name": "u.pdf"}
        page = merchant_client.post(reverse("downloads:create"), payload).content.decode()
        assert "cannot tell whether the record was created" in page
        assert f'href="/downloads/?q=order%3A{order_number}&amp;sort=-date_created"' in page
        assert 'value="u.pdf"' in page and "I checked: create it" in page
    elif kind == "count":
        url = reverse("downloads:count", args=[record["download_id"]])
        page = merchant_client.post(url, {"count": "7", "expected": "2"}, **HTMX).content.decode()
        assert "cannot tell whether your change was saved" in page
        assert f'href="/downloads/{record["download_id"]}/edit/"' in page
    else:
        change = {"download_file_name": "renamed.pdf"} if kind == "edit" else {}
        page = merchant_client.post(url, {**form, **change}).content.decode()
        assert "cannot tell whether" in page and f'href="/downloads/{record["download_id"]}/edit/"' in page
    entry = AuditEntry.objects.get()
    assert entry.outcome == "unknown" and "cannot tell whether" in entry.error
    assert entry.order_number == order_number
    log = merchant_client.get("/audit/", {"order_number": order_number}).content.decode()
    assert "outcome unknown" in log and "Undo</button>" not in log and "Restore</button>" not in log


# --- A write that verifiably did not happen ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["create", "count", "delete"])
def test_a_write_that_verifiably_did_not_happen_says_so_and_may_be_sent_again(
    kind: str,
    merchant_client: Client,
    make_record: Any,
    downloads_api: DownloadsApi,
    order_number: int,
    fault_proxy: FaultProxy,
) -> None:
    record = make_record(download_count=2) if kind != "create" else {}
    attempts = 1 if kind == "create" else 3  # a POST is never repeated; a PATCH or DELETE is, twice
    fault_proxy.fault("unsent", method=METHOD[kind], path="/easycart/downloads", times=attempts)
    if kind == "create":
        form = _fields(merchant_client.get(reverse("downloads:create")).content.decode())
        payload = {**form, "order_id": str(order_number), "product_id": "3", "download_file_name": "n.pdf"}
        page = merchant_client.post(reverse("downloads:create"), payload).content.decode()
        assert "No record was created (checked at the API); you can send it again." in page
        assert downloads_api.for_order(order_number) == []
        assert merchant_client.post(reverse("downloads:create"), payload).status_code == 302  # same form
        assert len(downloads_api.for_order(order_number)) == 1
    elif kind == "count":
        url = reverse("downloads:count", args=[record["download_id"]])
        page = merchant_client.post(url, {"count": "7", "expected": "2"}, **HTMX).content.decode()
        assert "Nothing was saved (checked at the API); you can try again." in page
        assert downloads_api.get(record["download_id"])["download_count"] == 2
    else:
        url = reverse("downloads:delete", args=[record["download_id"]])
        page = merchant_client.post(url, _fields(merchant_client.get(url).content.decode())).content.decode()
        assert "The record is still there (checked at the API); you can try again." in page
        assert downloads_api.get(record["download_id"]) is not None
    first = AuditEntry.objects.order_by("pk").first()
    assert (first.outcome, first.verified) == ("failed", "checked at the API")
