"""Undo, end to end against the sandbox: a count change is set back, a deleted record comes back with a
new id, each entry at most once, roles obeyed, and every attempt (refused or not) is in the trail."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry, UndoClaim
from audit.undo import CannotUndo, UndoInProgress, UndoNotAllowed, audit_undo, undo_check
from downloads import edits, records
from downloads import services as downloads
from downloads.edits import UndoConflict
from fileflare_admin import clock
from fileflare_admin.api import errors
from tests.downloads.conftest import DownloadsApi

pytestmark = pytest.mark.django_db


def _count_change(user: User, record: dict[str, Any], count: int) -> AuditEntry:
    edits.download_record_count_set(
        actor=user, download_id=record["download_id"], count=count, expected=record["download_count"]
    )
    return AuditEntry.objects.get(
        action="download_record_count", download_id=record["download_id"], outcome="success"
    )


def _deletion(user: User, record: dict[str, Any], reason: str = "") -> AuditEntry:
    downloads.download_record_delete(actor=user, download_id=record["download_id"], reason=reason)
    return AuditEntry.objects.get(
        action="download_record_delete", download_id=record["download_id"], outcome="success"
    )


# --- Reverting a count ---------------------------------------------------------------------------


def test_a_count_change_is_set_back_and_the_revert_is_audited_as_its_undo(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    change = _count_change(merchant_user, record, 9)
    assert (change.before["download_count"], change.after["download_count"]) == (2, 9)

    revert = audit_undo(actor=merchant_user, entry_id=change.pk, reason="wrong record").entry

    assert downloads_api.get(record["download_id"])["download_count"] == 2
    assert (revert.action, revert.outcome) == ("download_record_count_revert", "success")
    assert revert.undo_of == change
    assert (revert.before["download_count"], revert.after["download_count"]) == (9, 2)
    assert revert.reason == "wrong record" and revert.actor == merchant_user
    assert revert.order_number == record["order_id"]


@pytest.mark.engine
def test_a_count_can_be_undone_only_once(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    change = _count_change(merchant_user, record, 9)
    audit_undo(actor=merchant_user, entry_id=change.pk)
    with pytest.raises(CannotUndo, match="already undone by mia-merchant"):
        audit_undo(actor=merchant_user, entry_id=change.pk)
    assert AuditEntry.objects.filter(undo_of=change).count() == 1


def _edit(user: User, record: dict[str, Any], **changes: Any) -> AuditEntry:
    loaded = {key: record[key] for key in records.WRITABLE_FIELDS}
    edits.download_record_update(
        actor=user, download_id=record["download_id"], fields={**loaded, **changes}, loaded=loaded
    )
    return AuditEntry.objects.get(action="download_record_update", download_id=record["download_id"])


def test_an_edits_undo_sets_back_every_field_it_changed(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=4, download_file_name="old.pdf", product_id=31, amazon_key="")
    edit = _edit(merchant_user, record, download_count=0, download_file_name="new.pdf", product_id=32)
    downloads_api.patch(record["download_id"], is_amazon=True, amazon_key="b/k")  # a colleague's, elsewhere

    done = audit_undo(actor=merchant_user, entry_id=edit.pk)

    now = downloads_api.get(record["download_id"])
    assert (now["download_count"], now["download_file_name"], now["product_id"]) == (4, "old.pdf", 31)
    assert (now["is_amazon"], now["amazon_key"]) == (True, "b/k")  # not this edit's: it stays
    assert done.message == (
        f"Set record {record['download_id']} back as it was before the edit: product ID 32 → 31, "
        "download count 0 → 4, file name “new.pdf” → “old.pdf”."
    )
    assert (done.entry.action, done.entry.undo_of, done.entry.outcome) == (
        "download_record_update_revert",
        edit,
        "success",
    )


def test_an_edits_undo_overwrites_nothing_changed_again_since(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=4, download_file_name="old.pdf")
    edit = _edit(merchant_user, record, download_file_name="new.pdf")
    downloads_api.patch(record["download_id"], download_file_name="newer.pdf")

    with pytest.raises(CannotUndo, match=r"was changed again since \(file name\); undo would overwrite that"):
        audit_undo(actor=merchant_user, entry_id=edit.pk)

    assert downloads_api.get(record["download_id"])["download_file_name"] == "newer.pdf"
    assert AuditEntry.objects.get(undo_of=edit).outcome == "failed"


def test_support_may_not_undo_an_edit_of_fields_only_a_merchant_edits(
    merchant_user: User, support_user: User, make_record: Any
) -> None:
    edit = _edit(merchant_user, make_record(download_file_name="old.pdf"), download_file_name="new.pdf")
    with pytest.raises(UndoNotAllowed):
        undo_check(actor=support_user, entry=edit)
    assert undo_check(actor=merchant_user, entry=edit) == "edit"


def test_a_count_changed_again_since_is_not_overwritten(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    change = _count_change(merchant_user, record, 4)
    downloads_api.patch(record["download_id"], download_count=7)  # a customer downloaded, or a colleague

    with pytest.raises(UndoConflict) as refused:
        audit_undo(actor=merchant_user, entry_id=change.pk)

    assert str(refused.value) == "The count was changed again since (now 7); undo would overwrite that."
    assert downloads_api.get(record["download_id"])["download_count"] == 7
    failed = AuditEntry.objects.get(undo_of=change)
    assert (failed.action, failed.outcome) == ("download_record_count_revert", "failed")
    # Nothing was undone, so the entry can still be undone once the count is back where it was.
    downloads_api.patch(record["download_id"], download_count=4)
    assert audit_undo(actor=merchant_user, entry_id=change.pk).entry.succeeded


# --- Restoring a deleted record --------------------------------------------------------------------


def test_a_deleted_record_is_created_again_from_its_snapshot_with_a_new_id(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi, order_number: int
) -> None:
    record = make_record(
        product_id=777,
        download_count=3,
        download_file_name="guide.pdf",
        is_amazon=True,
        amazon_key="k/guide.pdf",
    )
    deletion = _deletion(merchant_user, record, reason="duplicate")
    assert downloads_api.get(record["download_id"]) is None
    assert deletion.before["amazon_key"] == "k/guide.pdf" and deletion.reason == "duplicate"

    restore = audit_undo(actor=merchant_user, entry_id=deletion.pk).entry

    assert (restore.action, restore.outcome) == ("download_record_restore", "success")
    assert restore.undo_of == deletion
    new_id = restore.download_id
    assert new_id and new_id != record["download_id"] and restore.after["download_id"] == new_id
    back = downloads_api.get(new_id)
    for field in (
        "product_id",
        "order_id",
        "download_count",
        "download_file_name",
        "is_amazon",
        "amazon_key",
    ):
        assert back[field] == record[field], field
    assert [item["download_id"] for item in downloads_api.for_order(order_number)] == [new_id]
    assert restore.order_number == order_number


@pytest.mark.engine
def test_a_deletion_is_restored_only_once(
    merchant_user: User, admin_user: User, make_record: Any, downloads_api: DownloadsApi, order_number: int
) -> None:
    deletion = _deletion(merchant_user, make_record())
    audit_undo(actor=admin_user, entry_id=deletion.pk)
    with pytest.raises(CannotUndo, match="already undone by ada-admin"):
        audit_undo(actor=merchant_user, entry_id=deletion.pk)
    assert len(downloads_api.for_order(order_number)) == 1


@pytest.mark.engine
def test_an_undo_already_under_way_is_not_started_twice(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi, order_number: int
) -> None:
    deletion = _deletion(merchant_user, make_record())
    # A colleague pressed Restore a moment ago and their request is still talking to the API.
    UndoClaim.objects.create(entry=deletion, actor_name="max-merchant", claimed_at=timezone.now())
    with pytest.raises(UndoInProgress, match="This is being undone by max-merchant since"):
        audit_undo(actor=merchant_user, entry_id=deletion.pk)
    assert downloads_api.for_order(order_number) == []


@pytest.mark.engine
def test_an_undo_that_died_midway_can_be_taken_over(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi, order_number: int
) -> None:
    deletion = _deletion(merchant_user, make_record())
    UndoClaim.objects.create(
        entry=deletion, actor_name="max-merchant", claimed_at=timezone.now() - timedelta(hours=1)
    )
    assert audit_undo(actor=merchant_user, entry_id=deletion.pk).entry.succeeded
    assert len(downloads_api.for_order(order_number)) == 1


@pytest.mark.engine
def test_a_failed_undo_gives_the_entry_back(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi, sandbox: Any, settings: Any
) -> None:
    settings.UPSTREAM_RETRIES = 0
    record = make_record(download_count=2)
    change = _count_change(merchant_user, record, 6)
    sandbox.config(error_rate=1.0)
    with pytest.raises(errors.Unavailable):
        audit_undo(actor=merchant_user, entry_id=change.pk)
    sandbox.reset_faults()
    assert not UndoClaim.objects.filter(entry=change).exists()
    assert audit_undo(actor=merchant_user, entry_id=change.pk).entry.succeeded
    assert downloads_api.get(record["download_id"])["download_count"] == 2


# --- What cannot be undone -----------------------------------------------------------------------


def _entry(user: User, **fields: Any) -> AuditEntry:
    values = {"actor": user, "actor_name": user.get_username(), "outcome": "success", **fields}
    return AuditEntry.objects.create(**values)


NOT_THROUGH = "This attempt did not go through, so there is nothing to undo."
NO_UNDO = "This kind of entry cannot be undone."


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        (
            {
                "action": "download_record_count",
                "outcome": "failed",
                "before": {"download_count": 1},
                "after": {"download_count": 2},
            },
            NOT_THROUGH,
        ),
        (
            {
                "action": "download_record_count",
                "outcome": "unknown",
                "before": {"download_count": 1},
                "after": {"download_count": 2},
            },
            "Whether this change went through is unknown",
        ),
        (
            {"action": "download_record_delete", "outcome": "pending", "before": {"download_id": "x"}},
            "still under way",
        ),
        (
            {"action": "download_record_delete", "outcome": "failed", "before": {"download_id": "x"}},
            NOT_THROUGH,
        ),
        ({"action": "email_resend", "order_number": 1050}, NO_UNDO),
        ({"action": "download_record_create", "after": {"download_id": "abc"}}, NO_UNDO),
        (
            {
                "action": "download_record_update",
                "before": {"download_count": 2},
                "after": {"download_count": 2},
            },
            NO_UNDO,
        ),
        (
            {
                "action": "download_record_count_revert",
                "before": {"download_count": 9},
                "after": {"download_count": 2},
            },
            NO_UNDO,
        ),
        ({"action": "download_record_restore", "after": {"download_id": "abc"}}, NO_UNDO),
    ],
    ids=[
        "failed count",
        "unknown count",
        "pending delete",
        "failed delete",
        "resend",
        "create",
        "edit without count",
        "revert",
        "restore",
    ],
)
def test_only_a_change_that_went_through_and_has_an_undo_can_be_undone(
    merchant_user: User, merchant_client: Client, fields: dict[str, Any], sentence: str
) -> None:
    entry = _entry(merchant_user, download_id="abc", **fields)
    with pytest.raises(CannotUndo, match=re.escape(sentence)):
        audit_undo(actor=merchant_user, entry_id=entry.pk)
    row = merchant_client.get("/audit/").content.decode().split(f'id="entry-{entry.pk}"')[1].split("</tr>")[0]
    assert "Undo</button>" not in row and "Restore</button>" not in row
    assert sentence in merchant_client.get(f"/audit/{entry.pk}/undo/").content.decode()
    assert AuditEntry.objects.count() == 1


# --- The pages -----------------------------------------------------------------------------------


def test_undo_from_the_audit_log_sets_the_count_back_and_shows_who_undid_it(
    merchant_client: Client, merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=1)
    change = _count_change(merchant_user, record, 3)
    log = merchant_client.get("/audit/", {"action": "download_record_count"}).content.decode()
    assert f'action="/audit/{change.pk}/undo/"' in log
    assert (
        f"Set the download count of record {record['download_id']} back from 3 to 1." in log
    )  # data-confirm

    response = merchant_client.post(
        f"/audit/{change.pk}/undo/", {"next": "/audit/?action=download_record_count"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/audit/?action=download_record_count"
    page = response.content.decode()
    assert f"Set the download count of record {record['download_id']} back to 1." in page
    assert downloads_api.get(record["download_id"])["download_count"] == 1
    revert = AuditEntry.objects.get(undo_of=change)
    row = page.split(f'id="entry-{change.pk}"')[1].split("</tr>")[0]
    assert "Undone by mia-merchant at" in row
    assert f"{clock.date_time(revert.created_at, seconds=True)}</time>" in row
    assert f'action="/audit/{change.pk}/undo/"' not in page


def test_restore_from_the_audit_log_brings_the_record_back_at_the_api(
    merchant_client: Client,
    merchant_user: User,
    make_record: Any,
    downloads_api: DownloadsApi,
    order_number: int,
) -> None:
    record = make_record(download_file_name="restore-me.pdf")
    deletion = _deletion(merchant_user, record)
    log = merchant_client.get("/audit/", {"order_number": order_number}).content.decode()
    assert "Restore</button>" in log

    page = merchant_client.post(f"/audit/{deletion.pk}/undo/", follow=True).content.decode()

    (restored,) = downloads_api.for_order(order_number)
    assert restored["download_file_name"] == "restore-me.pdf"
    assert restored["download_id"] != record["download_id"]
    new_id = restored["download_id"]
    # The message links the new record, where the person goes next, and says it is new: its ID and date.
    link = f'<a href="/downloads/{new_id}/edit/">{new_id}</a>'
    said = re.search(
        f"Restored the deleted record as a new record, {re.escape(link)}, created (.+?): the downloads API "
        f"gives a restored record a new download ID and date \\({record['download_id']} is gone\\).",
        page,
    )
    assert said, page
    assert said.group(1) == clock.date_time(AuditEntry.objects.get(undo_of=deletion).created_at)
    assert AuditEntry.objects.get(undo_of=deletion).download_id == restored["download_id"]


def test_a_second_undo_from_the_page_is_refused_with_a_sentence(
    merchant_client: Client,
    merchant_user: User,
    make_record: Any,
    downloads_api: DownloadsApi,
    order_number: int,
) -> None:
    deletion = _deletion(merchant_user, make_record())
    merchant_client.post(f"/audit/{deletion.pk}/undo/")
    page = merchant_client.post(f"/audit/{deletion.pk}/undo/", follow=True).content.decode()
    assert "This was already undone by mia-merchant at" in page
    assert len(downloads_api.for_order(order_number)) == 1


def test_the_conflict_sentence_reaches_the_page(
    merchant_client: Client, merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    change = _count_change(merchant_user, record, 4)
    downloads_api.patch(record["download_id"], download_count=5)
    page = merchant_client.post(f"/audit/{change.pk}/undo/", follow=True).content.decode()
    assert "The count was changed again since (now 5); undo would overwrite that." in page
    assert downloads_api.get(record["download_id"])["download_count"] == 5


def test_the_confirmation_page_says_what_will_happen_and_takes_a_reason(
    merchant_client: Client, merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    change = _count_change(merchant_user, record, 8)
    page = merchant_client.get(f"/audit/{change.pk}/undo/", {"next": "/audit/?page=1"}).content.decode()
    assert f"Set the download count of record {record['download_id']} back from 8 to 2." in page
    assert 'name="reason"' in page and 'value="/audit/?page=1"' in page

    merchant_client.post(
        f"/audit/{change.pk}/undo/", {"reason": "ticket 88", "next": "https://evil.example/"}
    )
    assert AuditEntry.objects.get(undo_of=change).reason == "ticket 88"
    after = merchant_client.get(f"/audit/{change.pk}/undo/").content.decode()
    assert "This was already undone by mia-merchant" in after and 'name="reason"' not in after


def test_an_undo_sends_the_person_back_only_to_our_own_pages(
    merchant_client: Client, merchant_user: User, make_record: Any
) -> None:
    change = _count_change(merchant_user, make_record(download_count=2), 3)
    response = merchant_client.post(f"/audit/{change.pk}/undo/", {"next": "https://evil.example/audit/"})
    assert response["Location"] == "/audit/"


def test_undo_of_an_entry_that_does_not_exist_is_a_404(merchant_client: Client) -> None:
    assert merchant_client.get("/audit/987654/undo/").status_code == 404
    assert merchant_client.post("/audit/987654/undo/").status_code == 404


# --- Undo offered only when it can run ----------------------------------------------------------------


def _log_row(client: Client, entry: AuditEntry) -> str:
    page = client.get("/audit/", {"download_id": entry.download_id}).content.decode()
    return page.split(f'id="entry-{entry.pk}"')[1].split("</tr>")[0]


@pytest.mark.parametrize("change", ["count", "edit"])
def test_after_the_record_was_deleted_its_changes_offer_no_undo_and_say_why(
    merchant_client: Client, merchant_user: User, make_record: Any, downloads_api: DownloadsApi, change: str
) -> None:
    record = make_record(download_count=2, download_file_name="a.pdf")
    if change == "count":
        entry = _count_change(merchant_user, record, 5)
    else:
        entry = _edit(merchant_user, record, download_file_name="b.pdf")
    assert "Undo</button>" in _log_row(merchant_client, entry)
    deletion = _deletion(merchant_user, record)

    row = _log_row(merchant_client, entry)
    sentence = f"Record {record['download_id']} was deleted since (by mia-merchant at "
    assert sentence in row and f"audit entry #{deletion.pk}), so this cannot be undone." in row
    assert "Undo</button>" not in row and "with a reason" not in row
    assert "Restore</button>" in _log_row(merchant_client, deletion)  # the deletion itself still can be
    confirm = merchant_client.get(f"/audit/{entry.pk}/undo/").content.decode()
    assert sentence in confirm and 'id="undo-refused"' in confirm

    page = merchant_client.post(f"/audit/{entry.pk}/undo/", follow=True).content.decode()
    assert sentence in page
    assert not AuditEntry.objects.filter(undo_of=entry).exists()  # nothing tried, nothing in the trail


def test_the_log_reads_the_deletions_of_a_whole_page_at_once(
    merchant_client: Client, merchant_user: User, django_assert_max_num_queries: Any
) -> None:
    for index in range(20):
        for action, before, after in (
            ("download_record_count", {"download_count": 1}, {"download_count": 2}),
            ("download_record_delete", {"download_id": f"gone{index}", "download_count": 2}, None),
        ):
            _entry(merchant_user, action=action, download_id=f"gone{index}", before=before, after=after)
    with django_assert_max_num_queries(12):
        page = merchant_client.get("/audit/").content.decode()
    assert page.count("was deleted since") == 20 and page.count("Restore</button>") == 20
