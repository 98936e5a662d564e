"""The pure rules of download records, without the sandbox or the database: what a PATCH sends, what
counts as a colleague's change, the three-way merge after a conflict, and which entries can be undone
and how."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from audit.models import AuditEntry
from audit.undo import undo_description, undo_kind
from downloads import edits, records, services
from fileflare_admin.api.types import DownloadRecord


@pytest.fixture(autouse=True)
def _upstream_settings() -> Iterator[None]:
    """Pure functions: no upstream, no sandbox (replaces the suite's autouse sandbox settings)."""
    yield


def _record(**changes: Any) -> DownloadRecord:
    values: dict[str, Any] = {
        "download_id": "abc123",
        "date_created": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "product_id": 7,
        "order_id": 1050,
        "download_count": 2,
        "download_file_name": "guide.pdf",
        "is_amazon": True,
        "amazon_key": "bucket/guide.pdf",
        **changes,
    }
    return DownloadRecord(**values)


def _entry(action: str, before: Any = None, after: Any = None) -> AuditEntry:
    return AuditEntry(
        action=action, outcome="success", download_id="abc123", order_number=1050, before=before, after=after
    )


# --- records ---------------------------------------------------------------------------------------


def test_the_fields_are_listed_once_and_everything_else_derives_from_them() -> None:
    assert tuple(DownloadRecord.__dataclass_fields__) == records.RECORD_FIELDS
    assert set(records.WRITABLE_FIELDS) == set(records.RECORD_FIELDS) - {"download_id", "date_created"}
    assert "is_amazon" not in records.SORTABLE_FIELDS  # the real plugin cannot sort by it
    assert records.FIELD_LABELS["order_id"] == "order number"


def test_a_patch_carries_only_what_the_person_changed() -> None:
    loaded = records.loaded_snapshot(_record(product_id=7_100_000_123))
    stored = records.record_snapshot(_record(product_id=7_100_000_123))  # beyond the form's old limit
    typed = {**records.writable(stored), "download_count": 5}
    typed["amazon_key"] = "bucket/guide.pdf"  # unchanged: compared with the digest the form kept
    assert records.fields_changed(loaded, typed) == {"download_count": 5}


def test_the_loaded_snapshot_keeps_the_s3_key_only_as_a_digest() -> None:
    loaded = records.loaded_snapshot(_record())
    assert "amazon_key" not in loaded and "bucket/guide.pdf" not in str(loaded)
    assert records.changed_since_loaded(loaded, _record()) == ()
    assert records.changed_since_loaded(loaded, _record(amazon_key="bucket/other.pdf")) == ("amazon_key",)
    assert records.changed_since_loaded(loaded, _record(download_count=3, order_id=1)) == (
        "order_id",
        "download_count",
    )


def test_a_write_read_back_holds_the_values_sent() -> None:
    assert records.holds(_record(download_count=5), {"download_count": 5})
    assert not records.holds(_record(download_count=4), {"download_count": 5})
    assert records.holds(_record(), {"amazon_key": "bucket/guide.pdf", "is_amazon": True})


@pytest.mark.parametrize(
    ("value", "number"),
    [(1050, 1050), ("1050", 1050), (" 7 ", 7), (0, None), (True, None), ("x", None), (None, None)],
)
def test_the_order_number_of_a_value(value: Any, number: int | None) -> None:
    assert records.order_number_of(value) == number


def test_the_merge_keeps_my_changes_and_takes_the_colleagues_for_fields_i_did_not_touch() -> None:
    loaded = records.loaded_snapshot(_record(download_count=3, download_file_name="original.pdf"))
    as_shown = records.record_snapshot(_record(download_count=3, download_file_name="original.pdf"))
    mine = {**records.writable(as_shown), "download_count": 0}
    now = _record(download_count=3, download_file_name="theirs.pdf")
    merge = records.merge_after_conflict(
        loaded=loaded,
        mine=mine,
        current=now,
        changed=("download_file_name",),
        shown=frozenset(records.WRITABLE_FIELDS) - {"amazon_key"},
    )
    assert merge.fields["download_count"] == 0 and merge.fields["download_file_name"] == "theirs.pdf"
    assert "amazon_key" not in merge.fields
    rows = {row.name: row for row in merge.rows}
    assert rows["download_count"].changed_by_you and rows["download_count"].differs
    assert rows["download_file_name"].changed_by_someone and not rows["download_file_name"].differs
    assert rows["download_count"].label == "Download count"


# --- undo rules ------------------------------------------------------------------------------------


COUNT = "download_record_count"
EDIT = "download_record_update"
DELETE = "download_record_delete"


@pytest.mark.parametrize(
    ("action", "before", "after", "kind"),
    [
        (COUNT, {"download_count": 2}, {"download_count": 9}, "count"),
        (EDIT, {"download_count": 2, "download_file_name": "a"}, {"download_count": 0}, "edit"),
        (EDIT, {"download_count": 2, "download_file_name": "a"}, {"download_file_name": "b"}, "edit"),
        (EDIT, {"download_count": 2}, {"download_count": 2, "download_file_name": "b"}, None),
        (EDIT, {"download_count": 2, "download_file_name": "a"}, {"download_file_name": "a"}, None),
        (COUNT, {"download_count": 2}, {"download_count": 2}, None),
        (COUNT, {"download_count": True}, {"download_count": 2}, None),
        (COUNT, {"download_count": -1}, {"download_count": 2}, None),
        (COUNT, None, {"download_count": 2}, None),
        (DELETE, {"download_id": "abc123", "order_id": 1050}, None, "restore"),
        (DELETE, None, None, None),
        ("download_record_create", None, {"download_id": "abc123"}, None),
        ("download_record_count_revert", {"download_count": 9}, {"download_count": 2}, None),
        ("download_record_restore", None, {"download_id": "abc123"}, None),
        ("email_resend", None, {"email_sent_at": "x"}, None),
    ],
)
def test_which_entries_can_be_undone(action: str, before: Any, after: Any, kind: str | None) -> None:
    assert undo_kind(_entry(action, before, after)) == kind


def test_a_revert_sets_back_the_count_the_change_left() -> None:
    entry = _entry(COUNT, {"download_count": 2}, {"download_count": 9})
    assert edits.count_revert(entry) == (9, 2)
    assert undo_description(entry) == "Set the download count of record abc123 back from 9 to 2."


def test_an_edits_undo_sets_back_every_field_it_changed_and_says_which_before_the_click() -> None:
    before = {"download_count": 2, "download_file_name": "old.pdf", "product_id": 7, "amazon_key": "b/old"}
    after = {"download_count": 0, "download_file_name": "new.pdf", "product_id": 7, "amazon_key": "b/new"}
    edit = _entry(EDIT, before, after)
    assert edits.edit_revert(edit) == (
        {"download_count": 0, "download_file_name": "new.pdf", "amazon_key": "b/new"},
        {"download_count": 2, "download_file_name": "old.pdf", "amazon_key": "b/old"},
    )
    assert undo_description(edit) == (
        "Set record abc123 back as it was before this edit: download count 0 → 2, "
        "file name “new.pdf” → “old.pdf”, S3 key (to the one it had)."
    )  # the S3 key is a secret: named, never shown


def test_a_restore_creates_the_deleted_records_writable_fields_again() -> None:
    kept = records.record_snapshot(_record())
    entry = _entry(DELETE, kept, None)
    assert services.restore_fields(entry) == {
        "product_id": 7,
        "order_id": 1050,
        "download_count": 2,
        "download_file_name": "guide.pdf",
        "is_amazon": True,
        "amazon_key": "bucket/guide.pdf",
    }
    assert undo_description(entry) == (
        "Create record abc123 again from the copy kept when it was deleted "
        "(order 1050, file guide.pdf, 2 downloads). It comes back as a new record: the downloads API "
        "gives it a new download ID and today's date as its created date."
    )
