"""Each role rule, in one place, through the dashboard's own pages and services, checked at the sandbox
API and in the audit trail: Support cannot create, delete, restore, edit other fields or move a count by
more than the step (the record is unchanged, the refusal is audited with its order number); Merchant and
superuser can; S3 keys stay hidden from Support everywhere; bulk fixes are for Merchant and superuser
only; an account without a role is refused everywhere. (staff.roles' own table: test_roles.py.)"""

import logging
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from audit.undo import audit_undo
from downloads import edits, records, services
from downloads.forms import SNAPSHOT_SALT
from staff.roles import NotAllowed
from tests.conftest import TEST_PASSWORD, Sandbox
from tests.downloads.conftest import DownloadsApi

pytestmark = pytest.mark.django_db

NO_ROLE = "Your account has no role yet. Ask a merchant to give you one."
EDITORS = ["merchant", "admin"]
HTMX = {"HTTP_HX_REQUEST": "true"}


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


def _row(client: Client, entry: AuditEntry) -> str:
    html = client.get("/audit/", {"order_number": entry.order_number}).content.decode()
    return html.split(f'id="entry-{entry.pk}"', 1)[1].split("</tr>", 1)[0]


def _count_change(user: User, record: dict[str, Any], count: int) -> AuditEntry:
    written = edits.download_record_count_set(
        actor=user, download_id=record["download_id"], count=count, expected=record["download_count"]
    )
    assert written.entry is not None
    return written.entry


# --- Create: Merchant only -------------------------------------------------------------------------


def test_support_cannot_create_a_record_and_the_refusal_is_audited_with_what_was_asked(
    support_user: User, support_client: Client, order_number: int, downloads_api: DownloadsApi
) -> None:
    assert support_client.get("/downloads/new/").status_code == 403
    response = support_client.post("/downloads/new/", _create_fields(order_number, "support.pdf"))
    assert response.status_code == 403
    assert "Only a Merchant can create download records." in response.content.decode()
    with pytest.raises(NotAllowed, match="Only a Merchant can create"):
        services.download_record_create(
            actor=support_user,
            fields={"product_id": 1, "order_id": order_number, "download_file_name": "x.pdf"},
        )
    assert downloads_api.for_order(order_number) == []
    page_entry, service_entry = AuditEntry.objects.order_by("pk")
    for entry in (page_entry, service_entry):
        assert (entry.action, entry.outcome, entry.order_number) == (
            "download_record_create",
            "failed",
            order_number,
        )
        assert entry.error == "Only a Merchant can create download records."
    assert page_entry.after["download_file_name"] == "support.pdf"
    row = _row(support_client, service_entry)
    assert "what was sent" in row and "Only a Merchant can create download records." in row


@pytest.mark.parametrize("who", EDITORS)
def test_editors_can_create_a_record(
    request: pytest.FixtureRequest, who: str, order_number: int, downloads_api: DownloadsApi
) -> None:
    client = request.getfixturevalue(f"{who}_client")
    response = client.post("/downloads/new/", _create_fields(order_number, f"{who}.pdf"))
    assert response.status_code == 302
    (created,) = downloads_api.for_order(order_number)
    assert created["download_file_name"] == f"{who}.pdf"


# --- Delete and restore: Merchant only -----------------------------------------------------------


def test_support_cannot_delete_and_the_refusal_names_the_order_it_was_read_from(
    support_user: User, support_client: Client, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record()
    url = f"/downloads/{record['download_id']}/delete/"
    assert support_client.get(url).status_code == 403
    # A hand-made POST carries no snapshot: the refusal still names the record's order in the trail.
    response = support_client.post(url, {"reason": "trying"})
    assert response.status_code == 403
    assert "Only a Merchant can delete download records." in response.content.decode()
    with pytest.raises(NotAllowed):
        services.download_record_delete(actor=support_user, download_id=record["download_id"])
    assert downloads_api.get(record["download_id"]) == record
    for entry in AuditEntry.objects.all():
        assert (entry.action, entry.outcome, entry.order_number) == (
            "download_record_delete",
            "failed",
            record["order_id"],
        )
        assert entry.error == "Only a Merchant can delete download records."


@pytest.mark.parametrize("who", EDITORS)
def test_editors_can_delete_a_record(
    request: pytest.FixtureRequest, who: str, make_record: Any, downloads_api: DownloadsApi
) -> None:
    client = request.getfixturevalue(f"{who}_client")
    record = make_record()
    response = client.post(f"/downloads/{record['download_id']}/delete/", {"reason": "duplicate"})
    assert response.status_code == 302
    assert downloads_api.get(record["download_id"]) is None


def test_support_cannot_restore_sees_who_can_and_the_refusal_is_audited(
    merchant_user: User,
    merchant_client: Client,
    support_user: User,
    support_client: Client,
    make_record: Any,
    downloads_api: DownloadsApi,
    order_number: int,
) -> None:
    services.download_record_delete(actor=merchant_user, download_id=make_record()["download_id"])
    deletion = AuditEntry.objects.get(action="download_record_delete")
    row = _row(support_client, deletion)
    assert "A Merchant can restore this" in row and "<button" not in row
    confirm = support_client.get(f"/audit/{deletion.pk}/undo/")
    assert confirm.status_code == 403
    assert "Only a Merchant can create download records." in confirm.content.decode()
    response = support_client.post(f"/audit/{deletion.pk}/undo/")
    assert response.status_code == 403
    assert "Only a Merchant can create download records." in response.content.decode()
    assert downloads_api.for_order(order_number) == []
    refused = AuditEntry.objects.get(undo_of=deletion)
    assert (refused.action, refused.outcome, refused.actor, refused.order_number) == (
        "download_record_restore",
        "failed",
        support_user,
        order_number,
    )
    # The refusal does not count as an undo: a Merchant can still restore it.
    assert "Restore</button>" in _row(merchant_client, deletion)
    assert audit_undo(actor=merchant_user, entry_id=deletion.pk).entry.succeeded


# --- Edit: the count only for Support ------------------------------------------------------------


def test_support_cannot_edit_fields_other_than_the_count(
    support_user: User, support_client: Client, make_record: Any, downloads_api: DownloadsApi, settings: Any
) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5
    record = make_record(download_file_name="original.pdf", download_count=8)
    url = f"/downloads/{record['download_id']}/edit/"
    page = support_client.get(url).content.decode()
    assert re.search(r'<input[^>]*name="download_file_name"[^>]*disabled', page)
    count = re.search(r'<input[^>]*name="download_count"[^>]*>', page).group(0)
    assert 'min="3"' in count and 'max="13"' in count
    forged = {
        "loaded": _loaded(support_client, record["download_id"]),
        "product_id": "9999",
        "order_id": str(record["order_id"] + 1),
        "download_count": "7",
        "download_file_name": "changed-by-support.pdf",
        "is_amazon": "on",
        "amazon_key": "stolen/key",
    }
    # The fields that are not Support's are ignored; the count, within the step, is saved.
    assert support_client.post(url, forged).status_code == 302
    assert downloads_api.get(record["download_id"]) == {**record, "download_count": 7}
    # The service refuses even when a page would let it through, and says so in the trail.
    loaded = {key: record[key] for key in records.WRITABLE_FIELDS}
    with pytest.raises(NotAllowed, match="Only a Merchant can change"):
        edits.download_record_update(
            actor=support_user,
            download_id=record["download_id"],
            fields={**loaded, "download_file_name": "changed.pdf"},
            loaded=loaded,
        )
    assert downloads_api.get(record["download_id"])["download_file_name"] == "original.pdf"
    refused = AuditEntry.objects.get(outcome="failed")
    assert (refused.action, refused.order_number) == ("download_record_update", record["order_id"])


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


# --- Count: Support by at most the step ----------------------------------------------------------


def test_support_moves_a_count_by_at_most_the_step_on_every_page_and_in_the_service(
    support_user: User, support_client: Client, make_record: Any, downloads_api: DownloadsApi, settings: Any
) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5
    record = make_record(download_count=10)
    url = f"/downloads/{record['download_id']}/count/"
    base = {"expected": "10", "order_number": str(record["order_id"])}
    # The row: a sentence in its message slot (htmx), our 403 page without JavaScript.
    in_row = support_client.post(url, {**base, "count": "4"}, **HTMX)
    assert in_row.status_code == 200 and "at most 5" in in_row.content.decode()
    assert in_row["HX-Retarget"] == f"#record-{record['download_id']}-message"
    without_js = support_client.post(url, {**base, "count": "4"})
    assert without_js.status_code == 403 and "at most 5" in without_js.content.decode()
    # The edit page: refused before anything is sent, what was typed kept.
    edit = f"/downloads/{record['download_id']}/edit/"
    form = {"loaded": _loaded(support_client, record["download_id"]), "download_count": "20"}
    too_far = support_client.post(edit, form)
    assert too_far.status_code == 403
    assert "at most 5" in too_far.content.decode() and 'value="20"' in too_far.content.decode()
    with pytest.raises(NotAllowed, match="at most 5"):
        edits.download_record_count_set(
            actor=support_user, download_id=record["download_id"], count=50, expected=10
        )
    assert downloads_api.get(record["download_id"])["download_count"] == 10
    refusals = AuditEntry.objects.all()
    assert refusals.count() == 4
    for entry in refusals:
        assert (entry.outcome, entry.order_number) == ("failed", record["order_id"])
        assert "at most 5" in entry.error
    # Within the step it goes through.
    assert support_client.post(url, {**base, "count": "5"}).status_code == 302
    assert downloads_api.get(record["download_id"])["download_count"] == 5


def test_support_rows_offer_only_the_allowed_range(
    support_client: Client, make_record: Any, order_number: int, settings: Any
) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5
    make_record(download_count=10)
    page = support_client.get(reverse("downloads:list"), {"q": str(order_number)}).content.decode()
    count = re.search(r'<input[^>]*name="count"[^>]*>', page, re.S).group(0)
    assert 'min="5"' in count and 'max="15"' in count
    reset = re.search(r'<button[^>]*name="reset"[^>]*>', page).group(0)
    assert "disabled" in reset
    assert "You may set 5 to 15." in page


@pytest.mark.parametrize("who", EDITORS)
def test_editors_can_move_a_count_by_any_amount(
    request: pytest.FixtureRequest, who: str, make_record: Any, downloads_api: DownloadsApi
) -> None:
    client = request.getfixturevalue(f"{who}_client")
    record = make_record(download_count=0)
    response = client.post(f"/downloads/{record['download_id']}/count/", {"count": "500", "expected": "0"})
    assert response.status_code == 302
    assert downloads_api.get(record["download_id"])["download_count"] == 500


def test_support_may_undo_a_count_change_within_the_step_but_not_beyond_it(
    merchant_user: User,
    support_user: User,
    support_client: Client,
    make_record: Any,
    downloads_api: DownloadsApi,
    settings: Any,
) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5
    small, large = make_record(download_count=1), make_record(download_count=1)
    small_change = _count_change(merchant_user, small, 4)
    large_change = _count_change(merchant_user, large, 20)
    assert f'action="/audit/{small_change.pk}/undo/"' in _row(support_client, small_change)
    assert "A Merchant can undo this" in _row(support_client, large_change)

    support_client.post(f"/audit/{small_change.pk}/undo/")
    assert downloads_api.get(small["download_id"])["download_count"] == 1
    with pytest.raises(NotAllowed, match="at most 5"):
        audit_undo(actor=support_user, entry_id=large_change.pk)
    assert downloads_api.get(large["download_id"])["download_count"] == 20
    refused = AuditEntry.objects.get(undo_of=large_change)
    assert (refused.outcome, refused.actor) == ("failed", support_user)
    assert refused.order_number == large["order_id"]
    # The refusal does not count as an undo: a Merchant can still do it.
    assert audit_undo(actor=merchant_user, entry_id=large_change.pk).entry.succeeded
    assert downloads_api.get(large["download_id"])["download_count"] == 1


# --- S3 keys: Merchant only ----------------------------------------------------------------------


def test_support_never_sees_an_s3_key(
    merchant_user: User, support_client: Client, make_record: Any, order_number: int
) -> None:
    record = make_record(is_amazon=True, amazon_key="private-bucket/very-secret-key.zip")
    pages = [
        support_client.get(reverse("downloads:list"), {"q": str(order_number)}),
        support_client.get(reverse("downloads:list"), {"q": str(order_number), "sort": "amazon_key"}),
        support_client.get(reverse("downloads:edit", args=[record["download_id"]])),
    ]
    for response in pages:
        assert response.status_code == 200
        assert b"very-secret-key" not in response.content
    assert b"key hidden" in pages[0].content
    assert b"Cannot sort by" in pages[1].content
    token = re.search(r'name="loaded"[^>]*value="([^"]*)"', pages[2].content.decode()).group(1)
    assert "very-secret-key" not in str(signing.loads(token.replace("&quot;", '"'), salt=SNAPSHOT_SALT))
    services.download_record_delete(actor=merchant_user, download_id=record["download_id"])
    log = support_client.get("/audit/", {"order_number": order_number}).content.decode()
    assert "very-secret-key" not in log and "(hidden)" in log


def test_support_may_resend_the_download_e_mail(support_client: Client, sandbox: Sandbox) -> None:
    order = sandbox.create_order({"lines": []})
    sent = len(sandbox.outbox())
    response = support_client.post(f"/orders/{order['id']}/resend/", {"reason": "asked"})
    assert response.status_code == 302
    assert len(sandbox.outbox()) == sent + 1


# --- Bulk fixes: Merchant only ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["jobs:list", "jobs:new"])
def test_support_may_not_open_bulk_fixes(support_client: Client, name: str) -> None:
    response = support_client.get(reverse(name))
    assert response.status_code == 403
    assert "Only a Merchant can run bulk fixes." in response.content.decode()


@pytest.mark.parametrize(("who", "offered"), [("support", False), ("merchant", True), ("admin", True)])
def test_only_editors_are_offered_bulk_fixes(request: pytest.FixtureRequest, who: str, offered: bool) -> None:
    client = request.getfixturevalue(f"{who}_client")
    header = client.get("/audit/").content.decode()
    assert (f'href="{reverse("jobs:list")}"' in header) is offered
    assert (client.get(reverse("jobs:new")).status_code == 200) is offered


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
        edits.download_record_count_set(
            actor=nobody, download_id=record["download_id"], count=4, expected=3
        )
    with pytest.raises(NotAllowed):
        services.download_record_delete(actor=nobody, download_id=record["download_id"])
    with pytest.raises(NotAllowed):
        services.download_record_create(actor=nobody, fields={"product_id": 1, "order_id": order_number})
    assert downloads_api.get(record["download_id"]) == record
    assert set(AuditEntry.objects.values_list("outcome", flat=True)) == {"failed"}
    assert set(AuditEntry.objects.values_list("order_number", flat=True)) == {order_number}


def test_a_refusal_is_one_line_in_the_log_without_a_traceback(
    support_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="django.request")
    for _ in range(3):
        assert support_client.get(reverse("jobs:list")).status_code == 403
    refusals = [record for record in caplog.records if getattr(record, "status_code", None) == 403]
    assert len(refusals) == 3
    for record in refusals:
        line = logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)
        assert line == "WARNING django.request Forbidden (Permission denied): /jobs/"
        assert record.exc_info is None and "Traceback" not in caplog.text


def test_a_failure_keeps_its_traceback_in_the_log(
    merchant_client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("a bug, not a refusal")

    monkeypatch.setattr("jobs.services.job_list", broken)
    merchant_client.raise_request_exception = False
    assert merchant_client.get(reverse("jobs:list")).status_code == 500
    assert "Traceback" in caplog.text and "RuntimeError: a bug, not a refusal" in caplog.text
