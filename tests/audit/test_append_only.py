"""The trail is append-only: the model refuses edits and deletions, no dashboard page changes it, and
Django's admin shows it read-only."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import get_resolver

from audit.models import AuditEntry
from audit.undo import audit_undo
from downloads import edits

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(merchant_user: User) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=merchant_user,
        actor_name="mia-merchant",
        action="download_record_count",
        download_id="abc",
        order_number=1050,
        before={"download_count": 1},
        after={"download_count": 2},
        reason="original reason",
        outcome="success",
    )


def test_an_entry_cannot_be_changed_or_deleted_through_the_model(entry: AuditEntry) -> None:
    entry.reason = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.reason == "original reason"


def test_the_trail_still_names_a_person_whose_account_was_removed(
    entry: AuditEntry, merchant_user: User
) -> None:
    merchant_user.delete()
    entry.refresh_from_db()
    assert entry.actor is None and entry.actor_name == "mia-merchant"


def test_the_dashboard_has_no_page_that_edits_or_deletes_entries() -> None:
    (audit,) = [item for item in get_resolver().url_patterns if getattr(item, "namespace", None) == "audit"]
    assert {pattern.name for pattern in audit.url_patterns} == {"list", "undo"}  # undo adds an entry


def test_the_log_accepts_no_post(merchant_client: Client, entry: AuditEntry) -> None:
    assert merchant_client.post("/audit/", {"reason": "x"}).status_code == 405
    entry.refresh_from_db()
    assert entry.reason == "original reason"


def test_an_undo_adds_an_entry_and_leaves_the_original_as_it_was(
    merchant_user: User, make_record: Any, downloads_api: Any
) -> None:
    record = make_record(download_count=2)
    edits.download_record_count_set(
        actor=merchant_user, download_id=record["download_id"], count=5, expected=2
    )
    change = AuditEntry.objects.get(action="download_record_count", download_id=record["download_id"])
    before = {field.name: getattr(change, field.name) for field in AuditEntry._meta.fields}
    audit_undo(actor=merchant_user, entry_id=change.pk)
    change.refresh_from_db()
    assert {field.name: getattr(change, field.name) for field in AuditEntry._meta.fields} == before
    assert change.undone_by.get().action == "download_record_count_revert"


# --- Django's admin ------------------------------------------------------------------------------


def test_the_admin_lists_entries_with_filters_and_search(admin_client: Client, entry: AuditEntry) -> None:
    page = admin_client.get("/admin/audit/auditentry/")
    html = page.content.decode()
    assert page.status_code == 200 and "mia-merchant" in html
    for filter_title in ("By action", "By outcome", "By created at", "By actor name"):
        assert filter_title in html, filter_title
    assert "Add audit entry" not in html and "action-select" not in html
    found = admin_client.get("/admin/audit/auditentry/", {"q": "original reason"}).content.decode()
    assert "mia-merchant" in found


def test_the_admin_shows_an_entry_but_cannot_add_change_or_delete(
    admin_client: Client, entry: AuditEntry
) -> None:
    view = admin_client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    html = view.content.decode()
    assert view.status_code == 200 and "original reason" in html
    assert 'name="reason"' not in html and 'type="submit"' not in html.split('id="content-main"')[1]

    assert admin_client.get("/admin/audit/auditentry/add/").status_code == 403
    assert admin_client.post("/admin/audit/auditentry/add/", {"reason": "forged"}).status_code == 403
    response = admin_client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"reason": "rewritten"})
    assert response.status_code == 403
    assert admin_client.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert (
        admin_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    bulk = admin_client.post(
        "/admin/audit/auditentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    entry.refresh_from_db()
    assert entry.reason == "original reason" and AuditEntry.objects.count() == 1


def test_staff_without_a_superuser_account_cannot_open_the_trail_in_the_admin(
    merchant_client: Client, entry: AuditEntry
) -> None:
    response = merchant_client.get("/admin/audit/auditentry/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
