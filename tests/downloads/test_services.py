"""downloads.services against the sandbox: each write audited ahead, a PATCH carrying only what changed,
conflicts detected, deletions restorable. (Role rules: tests/staff/. Lost answers: test_unclear_answers.)"""

import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEntry
from downloads import edits, reads, records, services
from fileflare_admin.api import downloads as downloads_client
from fileflare_admin.api import errors
from tests.downloads.conftest import DownloadsApi
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.django_db


def _loaded(download_id: str) -> dict[str, Any]:
    return records.loaded_snapshot(reads.download_record_get(download_id=download_id, fresh=True).value)


def _writable(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record[name] for name in records.WRITABLE_FIELDS}


def test_create_reaches_the_api_once_and_is_audited_with_the_new_record(
    merchant_user: User, downloads_api: DownloadsApi, order_number: int
) -> None:
    written = services.download_record_create(
        actor=merchant_user,
        fields={
            "product_id": 77,
            "order_id": order_number,
            "download_count": 0,
            "download_file_name": "manual.pdf",
            "is_amazon": True,
            "amazon_key": "bucket/manual.pdf",
        },
        reason="customer bought it by phone",
    )
    assert written.record is not None and not written.checked
    at_api = downloads_api.for_order(order_number)
    assert [item["download_id"] for item in at_api] == [written.record.download_id]
    assert at_api[0]["amazon_key"] == "bucket/manual.pdf"
    entry = AuditEntry.objects.get(action="download_record_create")
    assert written.entry == entry and entry.succeeded and entry.finished_at is not None
    assert (entry.actor, entry.download_id, entry.order_number) == (
        merchant_user,
        written.record.download_id,
        order_number,
    )
    assert entry.before is None
    assert entry.after["download_file_name"] == "manual.pdf"
    assert entry.after["amazon_key"] == "bucket/manual.pdf"
    assert entry.reason == "customer bought it by phone"


@pytest.mark.parametrize("write", ["create", "update", "count", "delete"])
def test_the_entry_is_written_before_anything_is_sent_upstream(
    write: str, merchant_user: User, make_record: Any, order_number: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = make_record(download_count=1)
    seen: list[tuple[str, str]] = []

    def spy(name: str) -> Any:
        real = getattr(downloads_client, name)

        def call(**kwargs: Any) -> Any:  # notes the trail as it stands, then makes the real call
            seen.extend(AuditEntry.objects.values_list("action", "outcome"))
            return real(**kwargs)

        monkeypatch.setattr(downloads_client, name, call)

    for name in ("record_create", "record_update", "record_delete"):
        spy(name)
    if write == "create":
        fields = {"product_id": 1, "order_id": order_number, "download_file_name": "a.pdf"}
        services.download_record_create(actor=merchant_user, fields=fields)
    elif write == "update":
        loaded = _loaded(record["download_id"])
        fields = {**_writable(record), "download_file_name": "b.pdf"}
        edits.download_record_update(
            actor=merchant_user, download_id=record["download_id"], fields=fields, loaded=loaded
        )
    elif write == "count":
        edits.download_record_count_set(
            actor=merchant_user, download_id=record["download_id"], count=5, expected=1
        )
    else:
        services.download_record_delete(actor=merchant_user, download_id=record["download_id"])
    assert seen == [(f"download_record_{write}", "pending")]
    assert AuditEntry.objects.get().outcome == "success"


def test_a_patch_sends_only_what_the_person_changed(
    merchant_user: User, make_record: Any, fault_proxy: FaultProxy, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=3, download_file_name="old.pdf", amazon_key="")
    loaded = _loaded(record["download_id"])
    # The form sends every field it shows; only the one the person changed goes to the API.
    fields = {**_writable(record), "download_file_name": "new.pdf"}
    written = edits.download_record_update(
        actor=merchant_user, download_id=record["download_id"], fields=fields, loaded=loaded
    )
    patches = [json.loads(body) for method, _path, body in fault_proxy.bodies if method == "PATCH"]
    assert patches == [{"download_file_name": "new.pdf"}]
    assert written.record is not None and written.record.download_file_name == "new.pdf"
    assert downloads_api.get(record["download_id"])["download_file_name"] == "new.pdf"
    entry = AuditEntry.objects.get(action="download_record_update")
    assert entry.succeeded
    assert (entry.before["download_file_name"], entry.after["download_file_name"]) == ("old.pdf", "new.pdf")
    assert entry.before["download_count"] == entry.after["download_count"] == 3


def test_an_edit_that_changes_nothing_sends_nothing_and_writes_no_entry(
    merchant_user: User, make_record: Any, fault_proxy: FaultProxy
) -> None:
    record = make_record()
    written = edits.download_record_update(
        actor=merchant_user,
        download_id=record["download_id"],
        fields=_writable(record),
        loaded=_loaded(record["download_id"]),
    )
    assert written.entry is None and not AuditEntry.objects.exists()
    assert [method for method, _path, _status in fault_proxy.forwarded] == ["GET", "GET"]


def test_update_refuses_to_overwrite_a_change_made_since_loading(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=3)
    loaded = _loaded(record["download_id"])
    downloads_api.patch(record["download_id"], download_count=9)  # a colleague, meanwhile

    with pytest.raises(services.EditConflict) as raised:
        edits.download_record_update(
            actor=merchant_user,
            download_id=record["download_id"],
            fields={"download_file_name": "mine.pdf"},
            loaded=loaded,
        )
    assert raised.value.current.download_count == 9
    assert raised.value.changed == ("download_count",)
    assert "download count" in raised.value.user_message
    merged = {row.name: (row.yours, row.now) for row in raised.value.merge.rows}
    assert merged["download_file_name"] == ("mine.pdf", "handbook.pdf")
    assert merged["download_count"] == (9, 9)  # not mine: the colleague's value stays
    at_api = downloads_api.get(record["download_id"])
    assert (at_api["download_count"], at_api["download_file_name"]) == (9, "handbook.pdf")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome, entry.order_number) == (
        "download_record_update",
        "failed",
        record["order_id"],
    )
    assert entry.after == {"download_file_name": "mine.pdf"}


def test_a_changed_s3_key_counts_as_a_conflict_even_though_the_form_only_holds_its_digest(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(is_amazon=True, amazon_key="a/one.pdf")
    loaded = _loaded(record["download_id"])
    assert "amazon_key" not in loaded
    downloads_api.patch(record["download_id"], amazon_key="a/two.pdf")
    with pytest.raises(services.EditConflict) as raised:
        edits.download_record_update(
            actor=merchant_user,
            download_id=record["download_id"],
            fields={"download_count": 5},
            loaded=loaded,
        )
    assert raised.value.changed == ("amazon_key",)


def test_count_set_writes_the_count_and_audits_before_and_after(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any, order_number: int
) -> None:
    record = make_record(download_count=12)
    written = edits.download_record_count_set(
        actor=merchant_user, download_id=record["download_id"], count=0, expected=12
    )
    assert written.record is not None and written.record.download_count == 0
    assert downloads_api.get(record["download_id"])["download_count"] == 0
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome) == ("download_record_count", "success")
    assert entry.order_number == order_number
    assert (entry.before["download_count"], entry.after["download_count"]) == (12, 0)


def test_count_set_detects_a_count_changed_meanwhile_and_writes_nothing(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=5)
    downloads_api.patch(record["download_id"], download_count=6)
    with pytest.raises(services.EditConflict) as raised:
        edits.download_record_count_set(
            actor=merchant_user, download_id=record["download_id"], count=0, expected=5
        )
    assert raised.value.current.download_count == 6
    assert downloads_api.get(record["download_id"])["download_count"] == 6
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.order_number) == ("failed", record["order_id"])


def test_a_revert_without_expected_sets_the_count_and_names_what_it_undoes(
    merchant_user: User, make_record: Any
) -> None:
    record = make_record(download_count=20)
    edits.download_record_count_set(
        actor=merchant_user, download_id=record["download_id"], count=0, expected=20
    )
    entry = AuditEntry.objects.get()
    reverted = edits.download_record_count_set(
        actor=merchant_user,
        download_id=record["download_id"],
        count=20,
        expected=None,
        action="download_record_count_revert",
        undo_of=entry,
    )
    assert reverted.record is not None and reverted.record.download_count == 20
    last = AuditEntry.objects.filter(outcome="success").first()
    assert (last.action, last.undo_of) == ("download_record_count_revert", entry)


def test_delete_keeps_the_whole_record_in_the_trail_so_it_can_be_restored(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any, order_number: int
) -> None:
    record = make_record(is_amazon=True, amazon_key="bucket/secret-key.zip", download_count=7)
    services.download_record_delete(
        actor=merchant_user, download_id=record["download_id"], reason="duplicate"
    )
    assert downloads_api.get(record["download_id"]) is None
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome) == ("download_record_delete", "success")
    assert entry.order_number == order_number
    assert entry.after is None
    assert entry.before == {**entry.before, **_writable(record)}
    assert entry.before["download_id"] == record["download_id"]

    restored = services.download_record_create(
        actor=merchant_user, fields=entry.before, action="download_record_restore", undo_of=entry
    ).record
    assert restored is not None and restored.download_id != record["download_id"]
    assert _writable(downloads_api.get(restored.download_id)) == _writable(record)
    restore_entry = AuditEntry.objects.get(action="download_record_restore")
    assert (restore_entry.undo_of, restore_entry.download_id) == (entry, restored.download_id)


def test_delete_of_a_record_changed_since_the_confirmation_page_is_refused(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=1)
    loaded = _loaded(record["download_id"])
    downloads_api.patch(record["download_id"], download_count=2)
    with pytest.raises(services.EditConflict):
        services.download_record_delete(actor=merchant_user, download_id=record["download_id"], loaded=loaded)
    assert downloads_api.get(record["download_id"]) is not None


def test_records_for_an_order_are_that_order_only(
    downloads_api: DownloadsApi, make_record: Any, order_number: int
) -> None:
    first = make_record(download_file_name="a.pdf")
    second = make_record(download_file_name="b.pdf")
    # The API's numeric search also matches product ids: that record belongs to another order.
    make_record(order_id=order_number + 1, product_id=order_number)
    fetched = reads.download_records_for_order(order_number=order_number)
    assert {record.download_id for record in fetched.value} == {first["download_id"], second["download_id"]}
    assert not fetched.stale


def test_list_searches_and_sorts_through_the_api(
    merchant_user: User, make_record: Any, order_number: int
) -> None:
    for count in (3, 1, 2):
        make_record(download_count=count)
    ascending = reads.download_record_list(user=merchant_user, q=str(order_number), sort="download_count")
    assert [r.download_count for r in ascending.value.items] == [1, 2, 3]
    descending = reads.download_record_list(
        user=merchant_user, q=str(order_number), sort="-download_count"
    )
    assert [r.download_count for r in descending.value.items] == [3, 2, 1]
    paged = reads.download_record_list(
        user=merchant_user, q=str(order_number), sort="download_count", per_page=2
    )
    assert paged.value.total == 3
    assert paged.value.has_next


@pytest.mark.parametrize("sort", ["-; DROP TABLE", "is_amazon", "-is_amazon"])
def test_a_sort_the_api_cannot_do_is_left_out_not_sent(
    sort: str, merchant_user: User, make_record: Any, order_number: int, fault_proxy: FaultProxy
) -> None:
    make_record()
    fetched = reads.download_record_list(user=merchant_user, q=str(order_number), sort=sort)
    assert len(fetched.value.items) == 1
    assert not [path for _method, path, _status in fault_proxy.forwarded if "sortby" in path]


def test_a_failed_read_before_a_write_is_audited_with_the_sentence(
    merchant_user: User, make_record: Any, sandbox: Any
) -> None:
    record = make_record(download_count=3)
    sandbox.config(error_rate=1.0)
    with pytest.raises(errors.Unavailable) as raised:
        edits.download_record_count_set(
            actor=merchant_user,
            download_id=record["download_id"],
            count=0,
            expected=3,
            order_number=record["order_id"],  # as the row showed it
        )
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.error) == ("failed", raised.value.user_message)
    assert entry.order_number == record["order_id"]


def test_a_422_from_the_api_names_the_field_and_the_attempt_is_audited(
    merchant_user: User, downloads_api: DownloadsApi, order_number: int
) -> None:
    with pytest.raises(errors.ValidationFailed) as raised:
        services.download_record_create(
            actor=merchant_user,
            fields={"product_id": "not a number", "order_id": order_number, "download_file_name": "a.pdf"},
        )
    assert "product_id" in raised.value.field_errors
    assert downloads_api.for_order(order_number) == []
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome) == ("download_record_create", "failed")
    assert entry.order_number == order_number
    assert entry.error == raised.value.user_message
