"""downloads.services against the sandbox: roles first, conflicts detected, every attempt audited."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEntry
from downloads import services
from fileflare_admin.api import errors
from staff.roles import NotAllowed
from tests.downloads.conftest import DownloadsApi

pytestmark = pytest.mark.django_db


def _loaded(download_id: str) -> dict[str, Any]:
    return services.loaded_snapshot(services.download_get(download_id=download_id, fresh=True).value)


def test_create_reaches_the_api_once_and_is_audited_with_the_new_record(
    merchant_user: User, downloads_api: DownloadsApi, order_number: int
) -> None:
    created = services.download_create(
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
    at_api = downloads_api.for_order(order_number)
    assert [item["download_id"] for item in at_api] == [created.download_id]
    assert at_api[0]["amazon_key"] == "bucket/manual.pdf"
    entry = AuditEntry.objects.get(action="record_create")
    assert entry.succeeded
    assert entry.actor == merchant_user
    assert entry.download_id == created.download_id
    assert entry.order_number == order_number
    assert entry.before is None
    assert entry.after["download_file_name"] == "manual.pdf"
    assert entry.after["amazon_key"] == "bucket/manual.pdf"
    assert entry.reason == "customer bought it by phone"


def test_support_cannot_create_and_the_refusal_is_in_the_trail(
    support_user: User, downloads_api: DownloadsApi, order_number: int
) -> None:
    with pytest.raises(NotAllowed, match="Only a Merchant can create"):
        services.download_create(
            actor=support_user,
            fields={"product_id": 1, "order_id": order_number, "download_file_name": "x.pdf"},
        )
    assert downloads_api.for_order(order_number) == []
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome) == ("record_create", "failed")
    assert "Only a Merchant can create" in entry.error
    assert entry.after["order_id"] == order_number


def test_update_sends_only_the_changed_fields_and_keeps_before_and_after(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=3, download_file_name="old.pdf")
    loaded = _loaded(record["download_id"])
    updated = services.download_update(
        actor=merchant_user,
        download_id=record["download_id"],
        fields={**{k: record[k] for k in services.WRITABLE_FIELDS}, "download_file_name": "new.pdf"},
        loaded=loaded,
    )
    assert updated.download_file_name == "new.pdf"
    assert downloads_api.get(record["download_id"])["download_file_name"] == "new.pdf"
    entry = AuditEntry.objects.get(action="record_update")
    assert entry.succeeded
    assert entry.before["download_file_name"] == "old.pdf"
    assert entry.after["download_file_name"] == "new.pdf"
    assert entry.before["download_count"] == entry.after["download_count"] == 3


def test_update_refuses_to_overwrite_a_change_made_since_loading(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=3)
    loaded = _loaded(record["download_id"])
    downloads_api.patch(record["download_id"], download_count=9)  # a colleague, meanwhile

    with pytest.raises(services.EditConflict) as raised:
        services.download_update(
            actor=merchant_user,
            download_id=record["download_id"],
            fields={"download_file_name": "mine.pdf"},
            loaded=loaded,
        )
    assert raised.value.current.download_count == 9
    assert raised.value.changed == ("download_count",)
    assert "download count" in str(raised.value)
    at_api = downloads_api.get(record["download_id"])
    assert (at_api["download_count"], at_api["download_file_name"]) == (9, "handbook.pdf")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome) == ("record_update", "failed")
    assert entry.after == {"download_file_name": "mine.pdf"}


def test_a_changed_s3_key_counts_as_a_conflict_even_though_the_form_only_holds_its_digest(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(is_amazon=True, amazon_key="a/one.pdf")
    loaded = _loaded(record["download_id"])
    assert "amazon_key" not in loaded
    downloads_api.patch(record["download_id"], amazon_key="a/two.pdf")
    with pytest.raises(services.EditConflict) as raised:
        services.download_update(
            actor=merchant_user,
            download_id=record["download_id"],
            fields={"download_count": 5},
            loaded=loaded,
        )
    assert raised.value.changed == ("amazon_key",)


def test_support_may_change_only_the_count_when_editing(
    support_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=4)
    loaded = _loaded(record["download_id"])
    with pytest.raises(NotAllowed, match="Only a Merchant can change"):
        services.download_update(
            actor=support_user,
            download_id=record["download_id"],
            fields={"download_file_name": "other.pdf"},
            loaded=loaded,
        )
    assert downloads_api.get(record["download_id"])["download_file_name"] == "handbook.pdf"
    services.download_update(
        actor=support_user, download_id=record["download_id"], fields={"download_count": 1}, loaded=loaded
    )
    assert downloads_api.get(record["download_id"])["download_count"] == 1
    assert list(AuditEntry.objects.order_by("pk").values_list("outcome", flat=True)) == ["failed", "success"]


def test_count_set_writes_the_count_and_audits_before_and_after(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any, order_number: int
) -> None:
    record = make_record(download_count=12)
    updated = services.download_count_set(
        actor=merchant_user, download_id=record["download_id"], count=0, expected=12
    )
    assert updated.download_count == 0
    assert downloads_api.get(record["download_id"])["download_count"] == 0
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome, entry.order_number) == ("record_count", "success", order_number)
    assert (entry.before["download_count"], entry.after["download_count"]) == (12, 0)


def test_count_set_detects_a_count_changed_meanwhile_and_writes_nothing(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=5)
    downloads_api.patch(record["download_id"], download_count=6)
    with pytest.raises(services.EditConflict) as raised:
        services.download_count_set(
            actor=merchant_user, download_id=record["download_id"], count=0, expected=5
        )
    assert raised.value.current.download_count == 6
    assert downloads_api.get(record["download_id"])["download_count"] == 6
    assert AuditEntry.objects.get().outcome == "failed"


def test_support_moves_a_count_by_at_most_the_step(
    support_user: User, downloads_api: DownloadsApi, make_record: Any, settings: Any
) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5
    record = make_record(download_count=10)
    with pytest.raises(NotAllowed, match="at most 5"):
        services.download_count_set(
            actor=support_user, download_id=record["download_id"], count=4, expected=10
        )
    assert downloads_api.get(record["download_id"])["download_count"] == 10
    services.download_count_set(actor=support_user, download_id=record["download_id"], count=5, expected=10)
    assert downloads_api.get(record["download_id"])["download_count"] == 5
    outcomes = list(AuditEntry.objects.order_by("pk").values_list("action", "outcome"))
    assert outcomes == [("record_count", "failed"), ("record_count", "success")]


def test_count_revert_without_expected_measures_the_step_from_the_current_count(
    support_user: User, merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=20)
    change = services.download_count_set(
        actor=merchant_user, download_id=record["download_id"], count=0, expected=20
    )
    entry = AuditEntry.objects.get()
    with pytest.raises(NotAllowed):
        services.download_count_set(
            actor=support_user,
            download_id=change.download_id,
            count=20,
            expected=None,
            action="count_revert",
            undo_of=entry,
        )
    reverted = services.download_count_set(
        actor=merchant_user,
        download_id=change.download_id,
        count=20,
        expected=0,
        action="count_revert",
        undo_of=entry,
    )
    assert reverted.download_count == 20
    last = AuditEntry.objects.filter(outcome="success").first()
    assert (last.action, last.undo_of) == ("count_revert", entry)


def test_delete_keeps_the_whole_record_in_the_trail_so_it_can_be_restored(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any, order_number: int
) -> None:
    record = make_record(is_amazon=True, amazon_key="bucket/secret-key.zip", download_count=7)
    services.download_delete(actor=merchant_user, download_id=record["download_id"], reason="duplicate")
    assert downloads_api.get(record["download_id"]) is None
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome, entry.order_number) == ("record_delete", "success", order_number)
    assert entry.after is None
    assert entry.before == {**entry.before, **{k: record[k] for k in services.WRITABLE_FIELDS}}
    assert entry.before["download_id"] == record["download_id"]

    restored = services.download_create(
        actor=merchant_user, fields=entry.before, action="record_restore", undo_of=entry
    )
    assert restored.download_id != record["download_id"]
    again = downloads_api.get(restored.download_id)
    assert {k: again[k] for k in services.WRITABLE_FIELDS} == {k: record[k] for k in services.WRITABLE_FIELDS}
    restore_entry = AuditEntry.objects.get(action="record_restore")
    assert (restore_entry.undo_of, restore_entry.download_id) == (entry, restored.download_id)


def test_support_cannot_delete_and_the_record_stays(
    support_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record()
    with pytest.raises(NotAllowed, match="Only a Merchant can delete"):
        services.download_delete(actor=support_user, download_id=record["download_id"])
    assert downloads_api.get(record["download_id"]) is not None
    assert AuditEntry.objects.get().outcome == "failed"


def test_delete_of_a_record_changed_since_the_confirmation_page_is_refused(
    merchant_user: User, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=1)
    loaded = _loaded(record["download_id"])
    downloads_api.patch(record["download_id"], download_count=2)
    with pytest.raises(services.EditConflict):
        services.download_delete(actor=merchant_user, download_id=record["download_id"], loaded=loaded)
    assert downloads_api.get(record["download_id"]) is not None


def test_records_for_an_order_are_that_order_only(
    downloads_api: DownloadsApi, make_record: Any, order_number: int
) -> None:
    first = make_record(download_file_name="a.pdf")
    second = make_record(download_file_name="b.pdf")
    # The API's numeric search also matches product ids: that record belongs to another order.
    make_record(order_id=order_number + 1, product_id=order_number)
    fetched = services.download_records_for_order(order_number=order_number)
    assert {record.download_id for record in fetched.value} == {first["download_id"], second["download_id"]}
    assert not fetched.stale


def test_list_searches_and_sorts_through_the_api(
    merchant_user: User, make_record: Any, order_number: int
) -> None:
    for count in (3, 1, 2):
        make_record(download_count=count)
    ascending = services.download_list(user=merchant_user, q=str(order_number), sort="download_count")
    assert [r.download_count for r in ascending.value.items] == [1, 2, 3]
    descending = services.download_list(user=merchant_user, q=str(order_number), sort="-download_count")
    assert [r.download_count for r in descending.value.items] == [3, 2, 1]
    paged = services.download_list(user=merchant_user, q=str(order_number), sort="download_count", per_page=2)
    assert paged.value.total == 3
    assert paged.value.has_next


def test_an_unknown_sort_is_ignored_not_sent(
    merchant_user: User, make_record: Any, order_number: int
) -> None:
    make_record()
    fetched = services.download_list(user=merchant_user, q=str(order_number), sort="-; DROP TABLE")
    assert len(fetched.value.items) == 1


def test_upstream_failure_on_a_write_is_audited_with_the_sentence(
    merchant_user: User, make_record: Any, sandbox: Any
) -> None:
    record = make_record(download_count=3)
    sandbox.config(error_rate=1.0)
    with pytest.raises(errors.Unavailable) as raised:
        services.download_count_set(
            actor=merchant_user, download_id=record["download_id"], count=0, expected=3
        )
    entry = AuditEntry.objects.get()
    assert entry.outcome == "failed"
    assert entry.error == str(raised.value)


def test_a_422_from_the_api_names_the_field_and_the_attempt_is_audited(
    merchant_user: User, downloads_api: DownloadsApi, order_number: int
) -> None:
    with pytest.raises(errors.ValidationFailed) as raised:
        services.download_create(
            actor=merchant_user,
            fields={"product_id": "not a number", "order_id": order_number, "download_file_name": "a.pdf"},
        )
    assert "product_id" in raised.value.field_errors
    assert downloads_api.for_order(order_number) == []
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome) == ("record_create", "failed")
    assert entry.error == str(raised.value)
