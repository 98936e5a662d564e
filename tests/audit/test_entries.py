"""Every kind of audit entry, success and failure, is written with who, what, before and after, and can be
read back at /audit/. The writes go through the real services against the sandbox."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry
from audit.services import audit_entries_for_order
from audit.undo import audit_undo
from downloads import edits, records
from downloads import services as downloads
from fileflare_admin.api import errors
from orders.resend import order_resend_email
from staff.roles import NotAllowed
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi

pytestmark = pytest.mark.django_db


def _row(client: Client, entry: AuditEntry) -> str:
    """The entry's row on /audit/ as that person sees it, tags removed, whitespace collapsed."""
    page = client.get("/audit/", {"order_number": entry.order_number} if entry.order_number else {})
    html = page.content.decode().split(f'id="entry-{entry.pk}"', 1)[1].split("</tr>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _only(**filters: Any) -> AuditEntry:
    return AuditEntry.objects.get(**filters)


# --- E-mail resend -------------------------------------------------------------------------------


def test_a_resend_is_recorded_with_the_time_the_e_mail_went_out(
    support_user: User, support_client: Client, sandbox: Sandbox
) -> None:
    order = sandbox.create_order({"lines": []})
    order_resend_email(actor=support_user, order_id=order["id"], reason="customer lost it")
    entry = _only(action="email_resend", order_number=order["order_number"])
    assert (entry.outcome, entry.actor, entry.actor_name, entry.order_id) == (
        "success",
        support_user,
        "sam-support",
        order["id"],
    )
    assert entry.after["email_sent_at"] and entry.reason == "customer lost it"
    row = _row(support_client, entry)
    assert "Resent download e-mail" in row and "customer lost it" in row and "success" in row
    assert f"#{order['order_number']}" in row and "Download e-mail sent" in row


def test_a_failed_resend_is_recorded_with_the_sentence_the_person_read(
    support_user: User, support_client: Client, sandbox: Sandbox, settings: Any
) -> None:
    settings.UPSTREAM_RETRIES = 0
    order = sandbox.create_order({"lines": []})
    sandbox.config(error_rate=1.0)
    with pytest.raises(errors.Unavailable) as raised:
        order_resend_email(actor=support_user, order_id=order["id"])
    sandbox.reset_faults()
    entry = _only(action="email_resend", order_id=order["id"])
    assert entry.outcome == "failed" and entry.error == str(raised.value)
    row = _row(support_client, entry)
    assert "failed" in row and str(raised.value) in row


# --- Create --------------------------------------------------------------------------------------


def test_a_create_is_recorded_with_the_new_record(
    merchant_user: User, merchant_client: Client, order_number: int
) -> None:
    written = downloads.download_record_create(
        actor=merchant_user,
        fields={"product_id": 31, "order_id": order_number, "download_file_name": "new.pdf"},
        reason="missing file",
    )
    created = written.record
    entry = _only(action="download_record_create", order_number=order_number)
    assert entry.succeeded and entry.download_id == created.download_id and entry.before is None
    assert (
        entry.after["download_file_name"] == "new.pdf" and entry.after["download_id"] == created.download_id
    )
    row = _row(merchant_client, entry)
    assert "Created download record" in row and "the record as created" in row and "new.pdf" in row


# --- Edit ----------------------------------------------------------------------------------------


@pytest.mark.engine
def test_an_edit_is_recorded_with_the_whole_record_before_and_after(
    merchant_user: User, merchant_client: Client, make_record: Any
) -> None:
    record = make_record(download_file_name="old.pdf", download_count=2)
    loaded = {key: record[key] for key in records.WRITABLE_FIELDS}
    edits.download_record_update(
        actor=merchant_user,
        download_id=record["download_id"],
        fields={**loaded, "download_file_name": "new.pdf"},
        loaded=loaded,
        reason="typo",
    )
    entry = _only(action="download_record_update", download_id=record["download_id"])
    assert entry.succeeded and entry.reason == "typo"
    assert (entry.before["download_file_name"], entry.after["download_file_name"]) == ("old.pdf", "new.pdf")
    assert entry.before["download_count"] == entry.after["download_count"] == 2
    html = merchant_client.get("/audit/", {"download_id": record["download_id"]}).content.decode()
    # Only the changed field is highlighted; the others are folded away.
    changed = r"File name</span>\s*<del[^>]*>old\.pdf</del> → <ins[^>]*>new\.pdf</ins>"
    assert re.search(changed, html)
    assert "<del" not in html.split("new.pdf</ins>")[1].split("</tr>")[0]
    assert "unchanged fields (" in html


def test_an_edit_refused_because_someone_changed_the_record_is_recorded(
    merchant_user: User, merchant_client: Client, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_file_name="old.pdf")
    loaded = {key: record[key] for key in records.WRITABLE_FIELDS}
    downloads_api.patch(record["download_id"], download_file_name="colleague.pdf")
    with pytest.raises(downloads.EditConflict):
        edits.download_record_update(
            actor=merchant_user,
            download_id=record["download_id"],
            fields={**loaded, "download_file_name": "mine.pdf"},
            loaded=loaded,
        )
    entry = _only(action="download_record_update", download_id=record["download_id"])
    assert entry.outcome == "failed" and "Someone changed this record" in entry.error
    row = _row(merchant_client, entry)
    assert "Someone changed this record since you opened it" in row and "mine.pdf" in row


# --- Count ---------------------------------------------------------------------------------------


def test_a_count_change_is_recorded_before_and_after(
    support_user: User, support_client: Client, make_record: Any
) -> None:
    record = make_record(download_count=5)
    edits.download_record_count_set(
        actor=support_user, download_id=record["download_id"], count=0, expected=5, reason="reset"
    )
    entry = _only(action="download_record_count", download_id=record["download_id"])
    assert entry.succeeded and (entry.before["download_count"], entry.after["download_count"]) == (5, 0)
    row = _row(support_client, entry)
    assert "Changed download count" in row and "Download count 5 → 0" in row and "reset" in row


# --- Delete --------------------------------------------------------------------------------------


@pytest.mark.engine
def test_a_deletion_keeps_the_whole_record_and_its_s3_key_is_shown_only_to_editors(
    merchant_user: User,
    merchant_client: Client,
    support_client: Client,
    make_record: Any,
) -> None:
    record = make_record(is_amazon=True, amazon_key="secret/bucket/key.zip", download_file_name="key.zip")
    downloads.download_record_delete(
        actor=merchant_user, download_id=record["download_id"], reason="duplicate"
    )
    entry = _only(action="download_record_delete", download_id=record["download_id"])
    assert entry.succeeded and entry.before == {
        key: record[key] for key in records.RECORD_FIELDS if key != "date_created"
    } | {"date_created": entry.before["date_created"]}
    merchant_row = _row(merchant_client, entry)
    assert "Deleted download record" in merchant_row and "the deleted record (8)" in merchant_row
    assert "secret/bucket/key.zip" in merchant_row and "duplicate" in merchant_row
    support_page = support_client.get("/audit/", {"order_number": record["order_id"]}).content.decode()
    assert "secret/bucket/key.zip" not in support_page
    assert "(hidden)" in _row(support_client, entry)


# --- Revert and restore --------------------------------------------------------------------------


def test_a_revert_and_a_failed_revert_are_recorded_as_undos_of_the_change(
    merchant_user: User, merchant_client: Client, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    edits.download_record_count_set(
        actor=merchant_user, download_id=record["download_id"], count=6, expected=2
    )
    change = _only(action="download_record_count", download_id=record["download_id"])
    downloads_api.patch(record["download_id"], download_count=7)
    with pytest.raises(Exception, match="changed again"):
        audit_undo(actor=merchant_user, entry_id=change.pk)
    downloads_api.patch(record["download_id"], download_count=6)
    audit_undo(actor=merchant_user, entry_id=change.pk)

    failed, done = AuditEntry.objects.filter(undo_of=change).order_by("pk")
    assert (failed.action, failed.outcome, done.action, done.outcome) == (
        "download_record_count_revert",
        "failed",
        "download_record_count_revert",
        "success",
    )
    assert (done.before["download_count"], done.after["download_count"]) == (6, 2)
    done_row = _row(merchant_client, done)
    assert "Reverted download count" in done_row and f"undo of #{change.pk}" in done_row
    assert "Download count 6 → 2" in done_row
    assert f"undo of #{change.pk}" in _row(merchant_client, failed)


def test_a_restore_and_a_refused_restore_are_recorded_as_undos_of_the_deletion(
    merchant_user: User, support_user: User, merchant_client: Client, make_record: Any
) -> None:
    record = make_record(download_file_name="comes-back.pdf")
    downloads.download_record_delete(actor=merchant_user, download_id=record["download_id"])
    deletion = _only(action="download_record_delete", download_id=record["download_id"])
    with pytest.raises(NotAllowed):
        audit_undo(actor=support_user, entry_id=deletion.pk)
    restored = audit_undo(actor=merchant_user, entry_id=deletion.pk).entry

    refused = _only(undo_of=deletion, outcome="failed")
    assert (refused.action, refused.actor_name) == ("download_record_restore", "sam-support")
    assert (restored.action, restored.outcome) == ("download_record_restore", "success")
    assert restored.download_id != record["download_id"]
    assert restored.after["download_file_name"] == "comes-back.pdf"
    row = _row(merchant_client, restored)
    assert "Restored deleted record" in row and restored.download_id[:8] in row and "comes-back.pdf" in row
    deletion_row = _row(merchant_client, deletion)
    assert "Undone by mia-merchant" in deletion_row


def test_an_order_page_timeline_lists_that_orders_entries_newest_first(
    merchant_user: User, make_record: Any, order_number: int
) -> None:
    from django.template.loader import render_to_string

    from audit.services import audit_entries_for_order

    record = make_record(download_count=1)
    edits.download_record_count_set(
        actor=merchant_user, download_id=record["download_id"], count=4, expected=1
    )
    downloads.download_record_delete(actor=merchant_user, download_id=record["download_id"], reason="gone")
    AuditEntry.objects.create(
        actor_name="someone", action="email_resend", order_number=order_number + 1, outcome="success"
    )
    entries = audit_entries_for_order(order_number=order_number)
    assert [entry.action for entry in entries] == ["download_record_delete", "download_record_count"]
    assert len(audit_entries_for_order(order_number=order_number, limit=1)) == 1
    html = render_to_string("audit/_timeline.html", {"timeline_entries": entries})
    assert html.lstrip().startswith('<div id="order-timeline">')
    assert "1 → 4" in html and "“gone”" in html and f"/audit/?order_number={order_number}" in html
    empty = render_to_string("audit/_timeline.html", {"timeline_entries": []})
    assert "No staff actions on this order yet." in empty


@pytest.mark.engine  # read by SQL of its own (audit.services._order_entries_sql)
def test_an_order_page_timeline_reads_its_entries_and_their_undos_in_two_queries_at_most(
    django_assert_num_queries: Any,
) -> None:
    """Issue 28: the timeline, then each entry's undos (`undone_by`, as prefetch_related gave them) in one
    more query, without prefetch_related's work; none when the order has no entries. An undo naming the
    order is also an entry of it; one naming no order only an undo; an entry past the limit is not shown."""

    def entry(order: int | None, undo_of: AuditEntry | None = None, outcome: str = "success") -> AuditEntry:
        return AuditEntry.objects.create(
            actor_name="ann",
            action="download_record_count",
            order_number=order,
            outcome=outcome,
            undo_of=undo_of,
        )

    with django_assert_num_queries(1):
        assert audit_entries_for_order(order_number=7070) == []
    old = entry(7070)
    first = entry(7070)
    second = entry(7070)
    undo_in_order = entry(7070, undo_of=first)
    undo_elsewhere = entry(None, undo_of=second, outcome="failed")
    entry(7071)
    with django_assert_num_queries(2):
        entries = audit_entries_for_order(order_number=7070, limit=3)
        undone = {item.pk: [later.pk for later in item.undone_by.all()] for item in entries}
    assert [item.pk for item in entries] == [undo_in_order.pk, second.pk, first.pk]
    assert undone == {undo_in_order.pk: [], second.pk: [undo_elsewhere.pk], first.pk: [undo_in_order.pk]}
    assert old.pk not in undone
    assert [item.pk for item in audit_entries_for_order(order_number=7070)][-1] == old.pk
