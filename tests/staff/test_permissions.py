"""Each permission boundary, through the dashboard's own pages and services, checked at the sandbox API:
Support cannot create, delete, edit other fields or move a count by more than the step (the record is
unchanged); Merchant and superuser can; an account without a role can sign in and is refused everywhere."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry
from downloads import services as downloads
from staff.roles import NotAllowed
from tests.conftest import TEST_PASSWORD, Sandbox
from tests.downloads.conftest import DownloadsApi

pytestmark = pytest.mark.django_db

NO_ROLE = "Your account has no role yet. Ask a merchant to give you one."
EDITORS = ["merchant", "admin"]


def _loaded(client: Client, download_id: str) -> str:
    page = client.get(f"/downloads/{download_id}/edit/").content.decode()
    match = re.search(r'name="loaded"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="loaded"', page)
    assert match, "the edit page carries the record as loaded"
    return match.group(1) or match.group(2)


def _create_fields(order_number: int, name: str) -> dict[str, str]:
    return {
        "product_id": "4242",
        "order_id": str(order_number),
        "download_count": "0",
        "download_file_name": name,
        "amazon_key": "",
        "reason": "test",
    }


# --- Support ---------------------------------------------------------------------------------------


def test_support_cannot_create_a_record(
    support_client: Client, order_number: int, downloads_api: DownloadsApi
) -> None:
    response = support_client.post("/downloads/new/", _create_fields(order_number, "support.pdf"))
    assert response.status_code == 403
    assert "Only a Merchant can create download records." in response.content.decode()
    assert downloads_api.for_order(order_number) == []
    assert AuditEntry.objects.get(action="record_create").outcome == "failed"


def test_support_cannot_delete_a_record(
    support_client: Client, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record()
    response = support_client.post(f"/downloads/{record['download_id']}/delete/", {"reason": "trying"})
    assert response.status_code == 403
    assert "Only a Merchant can delete download records." in response.content.decode()
    assert downloads_api.get(record["download_id"]) == record


def test_support_cannot_edit_fields_other_than_the_count(
    support_user: User, support_client: Client, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_file_name="original.pdf", download_count=2)
    response = support_client.post(
        f"/downloads/{record['download_id']}/edit/",
        {
            "loaded": _loaded(support_client, record["download_id"]),
            "product_id": "9999",
            "order_id": str(record["order_id"] + 1),
            "download_count": "2",
            "download_file_name": "changed-by-support.pdf",
            "is_amazon": "on",
            "amazon_key": "stolen/key",
        },
    )
    assert response.status_code in (200, 302, 403)
    assert downloads_api.get(record["download_id"]) == record
    # The service refuses even when a page would let it through.
    loaded = {key: record[key] for key in downloads.WRITABLE_FIELDS}
    with pytest.raises(NotAllowed, match="Only a Merchant can change"):
        downloads.download_update(
            actor=support_user,
            download_id=record["download_id"],
            fields={**loaded, "download_file_name": "changed.pdf"},
            loaded=loaded,
        )
    assert downloads_api.get(record["download_id"]) == record


def test_support_cannot_move_a_count_by_more_than_the_step(
    support_client: Client, make_record: Any, downloads_api: DownloadsApi, settings: Any
) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5
    record = make_record(download_count=2)
    url = f"/downloads/{record['download_id']}/count/"
    response = support_client.post(url, {"count": "8", "expected": "2"})
    assert response.status_code == 403
    assert "at most 5" in response.content.decode()
    assert downloads_api.get(record["download_id"])["download_count"] == 2

    assert support_client.post(url, {"count": "7", "expected": "2"}).status_code == 302
    assert downloads_api.get(record["download_id"])["download_count"] == 7


def test_support_may_resend_the_download_e_mail(support_client: Client, sandbox: Sandbox) -> None:
    order = sandbox.create_order({"lines": []})
    sent = len(sandbox.outbox())
    response = support_client.post(f"/orders/{order['id']}/resend/", {"reason": "asked"})
    assert response.status_code == 302
    assert len(sandbox.outbox()) == sent + 1


# --- Merchant and superuser ----------------------------------------------------------------------


@pytest.mark.parametrize("who", EDITORS)
def test_editors_can_create_a_record(
    request: pytest.FixtureRequest, who: str, order_number: int, downloads_api: DownloadsApi
) -> None:
    client = request.getfixturevalue(f"{who}_client")
    response = client.post("/downloads/new/", _create_fields(order_number, f"{who}.pdf"))
    assert response.status_code == 302
    (created,) = downloads_api.for_order(order_number)
    assert created["download_file_name"] == f"{who}.pdf"


@pytest.mark.parametrize("who", EDITORS)
def test_editors_can_edit_every_field(
    request: pytest.FixtureRequest, who: str, make_record: Any, downloads_api: DownloadsApi
) -> None:
    client = request.getfixturevalue(f"{who}_client")
    record = make_record(download_file_name="before.pdf", download_count=1)
    response = client.post(
        f"/downloads/{record['download_id']}/edit/",
        {
            "loaded": _loaded(client, record["download_id"]),
            "product_id": "5151",
            "order_id": str(record["order_id"]),
            "download_count": "40",
            "download_file_name": "after.pdf",
            "is_amazon": "on",
            "amazon_key": "bucket/after.pdf",
        },
    )
    assert response.status_code == 302
    now = downloads_api.get(record["download_id"])
    assert (now["product_id"], now["download_count"], now["download_file_name"], now["amazon_key"]) == (
        5151,
        40,
        "after.pdf",
        "bucket/after.pdf",
    )


@pytest.mark.parametrize("who", EDITORS)
def test_editors_can_move_a_count_by_any_amount(
    request: pytest.FixtureRequest, who: str, make_record: Any, downloads_api: DownloadsApi
) -> None:
    client = request.getfixturevalue(f"{who}_client")
    record = make_record(download_count=0)
    response = client.post(f"/downloads/{record['download_id']}/count/", {"count": "500", "expected": "0"})
    assert response.status_code == 302
    assert downloads_api.get(record["download_id"])["download_count"] == 500


@pytest.mark.parametrize("who", EDITORS)
def test_editors_can_delete_a_record(
    request: pytest.FixtureRequest, who: str, make_record: Any, downloads_api: DownloadsApi
) -> None:
    client = request.getfixturevalue(f"{who}_client")
    record = make_record()
    response = client.post(f"/downloads/{record['download_id']}/delete/", {"reason": "duplicate"})
    assert response.status_code == 302
    assert downloads_api.get(record["download_id"]) is None


# --- No role -------------------------------------------------------------------------------------


@pytest.fixture
def no_role_client(db: None) -> Client:
    User.objects.create_user("nora-norole", password=TEST_PASSWORD)
    client = Client()
    response = client.post("/accounts/login/", {"username": "nora-norole", "password": TEST_PASSWORD})
    assert response.status_code == 302, "an account without a role can still sign in"
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/orders/",
        "/orders/?q=1050",
        "/downloads/",
        "/downloads/new/",
        "/audit/",
        "/audit/1/undo/",
        "/status/",
    ],
)
def test_an_account_without_a_role_is_told_to_ask_a_merchant_on_every_page(
    no_role_client: Client, url: str
) -> None:
    response = no_role_client.get(url)
    assert response.status_code == 403
    html = response.content.decode()
    assert NO_ROLE in html and "nora-norole" in html and "No role" in html


def test_an_account_without_a_role_changes_nothing_and_can_sign_out(
    no_role_client: Client, make_record: Any, downloads_api: DownloadsApi, order_number: int
) -> None:
    record = make_record(download_count=3)
    download_id = record["download_id"]
    for url, data in (
        (f"/downloads/{download_id}/count/", {"count": "4", "expected": "3"}),
        (f"/downloads/{download_id}/delete/", {"reason": "x"}),
        ("/downloads/new/", _create_fields(order_number, "nora.pdf")),
    ):
        response = no_role_client.post(url, data)
        assert response.status_code == 403 and NO_ROLE in response.content.decode(), url
    assert downloads_api.get(download_id) == record
    assert len(downloads_api.for_order(order_number)) == 1
    assert no_role_client.post("/accounts/logout/").status_code == 302
    assert no_role_client.get("/orders/").status_code == 302  # signed out: to the sign-in page


def test_the_services_refuse_an_account_without_a_role_too(
    make_record: Any, downloads_api: DownloadsApi, order_number: int
) -> None:
    nobody = User.objects.create_user("nora-norole", password=TEST_PASSWORD)
    record = make_record(download_count=3)
    with pytest.raises(NotAllowed):
        downloads.download_count_set(actor=nobody, download_id=record["download_id"], count=4, expected=3)
    with pytest.raises(NotAllowed):
        downloads.download_delete(actor=nobody, download_id=record["download_id"])
    with pytest.raises(NotAllowed):
        downloads.download_create(actor=nobody, fields={"product_id": 1, "order_id": order_number})
    assert downloads_api.get(record["download_id"]) == record
    assert set(AuditEntry.objects.values_list("outcome", flat=True)) == {"failed"}
