"""The audit log's before/after (audit.changes.entry_changes): pure over an entry's fields and what its
app registered, so these need no database and no upstream."""

from typing import Any

from audit.changes import Change, entry_changes
from audit.models import AuditEntry
from audit.templatetags.audit_log import MASKED, headline, masked
from downloads.edits import COUNT, UPDATE
from downloads.services import CREATE, DELETE, RESTORE
from orders.attachments import ATTACH
from orders.replies import REPLY_TEMPLATE_EDIT
from orders.resend import EMAIL_RESEND
from staff.roles import Permissions


def _entry(action: str, *, before: Any = None, after: Any = None, outcome: str = "success") -> AuditEntry:
    return AuditEntry(action=action, actor_name="mia", before=before, after=after, outcome=outcome)


def test_an_edit_lists_the_changed_fields_first_and_the_rest_as_unchanged() -> None:
    entry = _entry(
        UPDATE,
        before={"download_count": 5, "download_file_name": "a.pdf", "is_amazon": False},
        after={"download_count": 0, "download_file_name": "a.pdf", "is_amazon": False},
    )
    changes = entry_changes(entry)
    assert changes.changed == [Change("download_count", "5", "0")]
    assert changes.rest == [Change("download_file_name", "a.pdf", "a.pdf"), Change("is_amazon", "no", "no")]
    assert changes.rest_label == "unchanged fields (2)"


def test_a_create_holds_the_record_as_created_and_a_failed_one_what_was_sent() -> None:
    fields = {"order_id": 1050, "download_file_name": "new.pdf", "amazon_key": ""}
    created = entry_changes(_entry(CREATE, after=fields))
    assert created.changed == [] and [change.name for change in created.rest] == list(fields)
    assert created.rest_label == "the record as created (3)"
    restored = entry_changes(_entry(RESTORE, after=fields))
    assert restored.rest_label == "the record as created (3)"
    refused = entry_changes(_entry(CREATE, after=fields, outcome="failed"))
    assert refused.rest_label == "what was sent (3)"


def test_a_delete_holds_the_deleted_record_whatever_its_outcome() -> None:
    record = {"download_id": "abc", "download_count": 8}
    for outcome in ("success", "failed", "unknown"):
        changes = entry_changes(_entry(DELETE, before=record, outcome=outcome))
        assert changes.changed == [] and changes.rest_label == "the deleted record (2)"
        assert changes.rest == [Change("download_id", "abc", "abc"), Change("download_count", "8", "8")]


def test_an_entry_with_one_side_is_labelled_by_that_side() -> None:
    # Only an after: "after" once it went through, else what was sent; only a before: "before".
    asked = entry_changes(_entry(COUNT, after={"download_count": 0}))
    assert asked.rest_label == "after (1)" and asked.rest == [Change("download_count", "0", "0")]
    sent = entry_changes(
        _entry(COUNT, after={"download_count": 0}, outcome="failed")
    )
    assert sent.rest_label == "what was sent (1)"
    kept = entry_changes(_entry(REPLY_TEMPLATE_EDIT, before={"body": "Hello"}))
    assert kept.rest_label == "before (1)" and kept.rest == [Change("body", "Hello", "Hello")]


def test_values_read_as_a_person_reads_them() -> None:
    entry = _entry(
        ATTACH,
        before={"attached": [], "note": "", "sent": None},
        after={"attached": [{"id": "f1", "filename": "Manual.pdf"}, {"id": "f2"}], "note": "x", "sent": True},
    )
    shown = {change.name: (change.before, change.after) for change in entry_changes(entry).changed}
    assert shown == {"attached": ("(none)", "Manual.pdf, f2"), "note": ("(empty)", "x"), "sent": ("—", "yes")}


def test_a_registered_secret_is_masked_for_whoever_lacks_its_permission() -> None:
    entry = _entry(
        UPDATE,
        before={"amazon_key": "", "download_file_name": "a.pdf"},
        after={"amazon_key": "s3/secret.zip", "download_file_name": "b.pdf"},
    )
    key, name = entry_changes(entry).changed
    assert key.secret == "see_amazon_key" and name.secret == ""
    support = Permissions(role="support", label="Support", max_count_step=5)
    merchant = Permissions(role="merchant", label="Merchant", max_count_step=None)
    assert masked(key, support) == Change("amazon_key", "(empty)", MASKED, secret="see_amazon_key")
    assert masked(key, merchant) == key and masked(name, support) == name


def test_the_timeline_headline_is_the_count_the_app_says_moved() -> None:
    moved = _entry(
        COUNT, before={"download_count": 5}, after={"download_count": 2}
    )
    assert headline(moved) == (5, 2)
    same = _entry(
        COUNT, before={"download_count": 2}, after={"download_count": 2}
    )
    assert headline(same) is None
    assert headline(_entry(EMAIL_RESEND, before={"download_count": 5}, after={})) is None


def test_values_are_cut_around_their_first_difference() -> None:
    from audit.changes import cut_around_difference

    assert cut_around_difference("short", "shorter") == ("short", "shorter")
    common = "Deluxe Guitar Tabs, Guitar Tabs - Comme"
    before, after = cut_around_difference(f"{common}rcial A and more text", f"{common}rcial B and more", 40)
    assert before != after and len(before) <= 40 and len(after) <= 40
    assert before.startswith("…") and "A and more" in before and "B and more" in after
    # A difference within the first characters keeps the start, cut at the end.
    before, after = cut_around_difference("A" + "x" * 60, "B" + "x" * 60, 20)
    assert before == "A" + "x" * 18 + "…" and after == "B" + "x" * 18 + "…"
