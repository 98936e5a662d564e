"""The audit trail: every change and failed attempt recorded with before and after, readable at /audit/,
undoable where it applies, and never rewritten. Against the sandbox over a real socket."""

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry
from audit.services import CannotUndo, audit_undo
from downloads import services as downloads
from staff.roles import NotAllowed
from tests.downloads.conftest import DownloadsApi

pytestmark = pytest.mark.django_db


def test_a_count_change_can_be_undone_once(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    downloads.download_count_set(actor=merchant_user, download_id=record["download_id"], count=9, expected=2)
    change = AuditEntry.objects.get(action="record_count", download_id=record["download_id"])
    assert change.before["download_count"] == 2 and change.after["download_count"] == 9
    revert = audit_undo(actor=merchant_user, entry_id=change.pk)
    assert revert.action == "count_revert" and revert.undo_of == change and revert.succeeded
    assert downloads_api.get(record["download_id"])["download_count"] == 2
    with pytest.raises(CannotUndo, match="already undone"):
        audit_undo(actor=merchant_user, entry_id=change.pk)


def test_undoing_a_count_that_changed_again_since_is_refused(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    downloads.download_count_set(actor=merchant_user, download_id=record["download_id"], count=4, expected=2)
    change = AuditEntry.objects.get(action="record_count", download_id=record["download_id"])
    downloads_api.patch(record["download_id"], download_count=7)
    with pytest.raises(downloads.EditConflict):
        audit_undo(actor=merchant_user, entry_id=change.pk)
    assert downloads_api.get(record["download_id"])["download_count"] == 7


def test_a_deleted_record_is_restored_from_its_snapshot_with_a_new_id(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi, order_number: int
) -> None:
    record = make_record(
        download_count=3, download_file_name="guide.pdf", is_amazon=True, amazon_key="k/guide.pdf"
    )
    downloads.download_delete(actor=merchant_user, download_id=record["download_id"], reason="duplicate")
    assert downloads_api.get(record["download_id"]) is None
    deletion = AuditEntry.objects.get(action="record_delete", download_id=record["download_id"])
    assert deletion.before["amazon_key"] == "k/guide.pdf" and deletion.reason == "duplicate"
    restore = audit_undo(actor=merchant_user, entry_id=deletion.pk)
    assert restore.action == "record_restore" and restore.undo_of == deletion
    new_id = restore.download_id
    assert new_id and new_id != record["download_id"] and restore.after["download_id"] == new_id
    back = downloads_api.get(new_id)
    assert (back["order_id"], back["download_count"], back["download_file_name"], back["amazon_key"]) == (
        order_number,
        3,
        "guide.pdf",
        "k/guide.pdf",
    )


def test_support_cannot_restore_a_deleted_record(
    merchant_user: User, support_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record()
    downloads.download_delete(actor=merchant_user, download_id=record["download_id"])
    deletion = AuditEntry.objects.get(action="record_delete", download_id=record["download_id"])
    with pytest.raises(NotAllowed):
        audit_undo(actor=support_user, entry_id=deletion.pk)
    refused = AuditEntry.objects.get(undo_of=deletion)
    assert not refused.succeeded and "Merchant" in refused.error


def test_support_is_bounded_by_the_step_and_the_record_is_unchanged(
    support_user: User, make_record: Any, downloads_api: DownloadsApi, settings: Any
) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5
    record = make_record(download_count=2)
    with pytest.raises(NotAllowed):
        downloads.download_count_set(
            actor=support_user, download_id=record["download_id"], count=20, expected=2
        )
    assert downloads_api.get(record["download_id"])["download_count"] == 2
    downloads.download_count_set(actor=support_user, download_id=record["download_id"], count=7, expected=2)
    assert downloads_api.get(record["download_id"])["download_count"] == 7
    with pytest.raises(NotAllowed):
        downloads.download_create(actor=support_user, fields={"order_id": 5, "product_id": 5})
    with pytest.raises(NotAllowed):
        downloads.download_delete(actor=support_user, download_id=record["download_id"])
    assert downloads_api.get(record["download_id"]) is not None


def test_failed_attempts_and_only_successes_can_be_undone(merchant_user: User) -> None:
    failed = AuditEntry.objects.create(
        actor=merchant_user,
        actor_name="mia-merchant",
        action="record_count",
        download_id="abc",
        before={"download_count": 1},
        after={"download_count": 2},
        outcome="failed",
        error="down",
    )
    with pytest.raises(CannotUndo):
        audit_undo(actor=merchant_user, entry_id=failed.pk)


def test_audit_page_filters_pages_masks_keys_and_undoes(
    merchant_client: Client,
    support_client: Client,
    merchant_user: User,
    make_record: Any,
    downloads_api: DownloadsApi,
    order_number: int,
) -> None:
    record = make_record(download_count=1)
    downloads.download_count_set(
        actor=merchant_user, download_id=record["download_id"], count=3, expected=1, reason="customer retried"
    )
    s3_record = make_record(is_amazon=True, amazon_key="secret/key.zip")
    downloads.download_delete(actor=merchant_user, download_id=s3_record["download_id"])
    page = merchant_client.get(
        "/audit/", {"order_number": order_number, "action": "record_count"}
    ).content.decode()
    assert "Changed download count" in page and "customer retried" in page and "1 → 3" in page
    assert "Deleted download record" not in page.split('id="audit-entries"')[1]
    assert (
        "secret/key.zip" not in support_client.get("/audit/", {"order_number": order_number}).content.decode()
    )
    merchant_page = merchant_client.get("/audit/", {"order_number": order_number}).content.decode()
    assert "secret/key.zip" in merchant_page
    entry = AuditEntry.objects.get(action="record_count", download_id=record["download_id"])
    response = merchant_client.post(f"/audit/{entry.pk}/undo/", follow=True)
    assert "Set the download count back to 1." in response.content.decode()
    assert downloads_api.get(record["download_id"])["download_count"] == 1
    assert (
        "Undone by mia-merchant"
        in merchant_client.get("/audit/", {"order_number": order_number}).content.decode()
    )
    assert merchant_client.get(f"/audit/{entry.pk}/undo/").status_code == 405


def test_audit_page_paginates_and_keeps_filters(merchant_client: Client, merchant_user: User) -> None:
    for index in range(55):
        AuditEntry.objects.create(
            actor=merchant_user,
            actor_name="mia-merchant",
            action="email_resend",
            order_number=4242,
            outcome="success",
            reason=f"r{index}",
        )
    first = merchant_client.get("/audit/", {"order_number": 4242}).content.decode()
    assert "Page 1 of 2" in first and "order_number=4242&amp;page=2" in first
    assert "Page 2 of 2" in merchant_client.get("/audit/", {"order_number": 4242, "page": 2}).content.decode()
    assert merchant_client.get("/audit/", {"date_from": "not-a-date", "page": "x"}).status_code == 200


def test_the_trail_is_append_only(merchant_user: User, admin_client: Client) -> None:
    entry = AuditEntry.objects.create(
        actor=merchant_user, actor_name="m", action="email_resend", outcome="success"
    )
    entry.reason = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    model_admin = admin.site._registry[AuditEntry]
    request = admin_client.get("/admin/").wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert admin_client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200  # view only
