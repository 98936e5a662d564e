"""audited(...): the entry exists (pending) before the block runs, and is closed once with what is known;
the one change an entry ever sees is that close, from pending to a final outcome."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError

from audit import services
from audit.models import AuditEntry
from audit.services import AuditUnavailable, audited
from fileflare_admin.api import errors
from fileflare_admin.sentences import UserFacingError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _upstream_settings() -> Iterator[None]:
    """No upstream is involved: the trail alone (replaces the suite's autouse sandbox settings)."""
    yield


@pytest.mark.engine
def test_the_entry_is_pending_inside_the_block_and_succeeded_after_it(merchant_user: User) -> None:
    with audited(
        actor=merchant_user, action="download_record_count", download_id="abc", reason="ticket"
    ) as open_:
        assert AuditEntry.objects.get().outcome == "pending"
        open_.before, open_.after, open_.order_number = {"download_count": 1}, {"download_count": 2}, 1050
        open_.verified = services.CHECKED_AT_THE_API
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.order_number, entry.verified, entry.reason) == (
        "success",
        1050,
        "checked at the API",
        "ticket",
    )
    assert (entry.before, entry.after, entry.actor, entry.actor_name) == (
        {"download_count": 1},
        {"download_count": 2},
        merchant_user,
        "mia-merchant",
    )
    assert entry.finished_at is not None and entry.finished_at >= entry.created_at


@pytest.mark.parametrize(
    ("failure", "outcome", "error"),
    [
        (UserFacingError("The record is gone."), "failed", "The record is gone."),
        (errors.Unavailable("The API is down."), "failed", "The API is down."),
        (errors.OutcomeUnknown(), "unknown", errors.OutcomeUnknown.default_message),
        (
            ValueError("bug"),
            "failed",
            "The dashboard stopped with an unexpected error (ValueError); nothing was sent.",
        ),
    ],
)
def test_an_exception_closes_the_entry_with_its_sentence_and_goes_on(
    merchant_user: User, failure: Exception, outcome: str, error: str
) -> None:
    with pytest.raises(type(failure)), audited(actor=merchant_user, action="download_record_delete"):
        raise failure
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.error) == (outcome, error)


def test_an_unexpected_error_after_sending_leaves_the_outcome_unknown(merchant_user: User) -> None:
    with pytest.raises(KeyError), audited(actor=merchant_user, action="download_record_delete") as open_:
        open_.sent = True
        raise KeyError("after the call")
    entry = AuditEntry.objects.get()
    assert entry.outcome == "unknown" and "after sending the change" in entry.error


def test_no_entry_no_block_when_the_trail_cannot_be_written(
    merchant_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: object) -> AuditEntry:
        raise DatabaseError("database is locked")

    monkeypatch.setattr(AuditEntry.objects, "create", refuse)
    monkeypatch.setattr(services, "DATABASE_PAUSE", 0)
    ran = []
    with pytest.raises(AuditUnavailable) as refused:  # noqa: SIM117 (the block must not be entered)
        with audited(actor=merchant_user, action="download_record_create"):
            ran.append(True)
    assert ran == []
    assert refused.value.user_message.startswith("The audit trail cannot be written right now, so nothing")


@pytest.mark.engine
def test_a_pending_entry_is_closed_once_and_only_to_a_final_outcome(merchant_user: User) -> None:
    entry = AuditEntry.objects.create(actor_name="x", action="download_record_count", outcome="pending")
    with pytest.raises(PermissionError):
        AuditEntry.objects.close_pending(entry.pk, outcome="pending")
    with pytest.raises(PermissionError):
        AuditEntry.objects.close_pending(entry.pk, outcome="success", reason="rewritten", actor_name="y")
    assert AuditEntry.objects.close_pending(entry.pk, outcome="failed", error="No.")
    assert not AuditEntry.objects.close_pending(entry.pk, outcome="success")  # done once
    entry.refresh_from_db()
    assert (entry.outcome, entry.error, entry.reason) == ("failed", "No.", "")
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(outcome="success")


@pytest.mark.engine
def test_a_closed_entry_is_never_reopened_by_a_second_close(merchant_user: User) -> None:
    with audited(actor=merchant_user, action="download_record_count") as open_:
        pass
    assert not AuditEntry.objects.close_pending(open_.pk, outcome="failed", error="late")
    assert AuditEntry.objects.get().outcome == "success"


def test_an_entry_written_inside_audit_job_names_the_bulk_fix(merchant_user: User) -> None:
    with (
        services.audit_job(12),
        audited(actor=merchant_user, action="download_record_count", download_id="in-job"),
    ):
        pass
    with audited(actor=merchant_user, action="download_record_count", download_id="by-hand"):
        pass
    with audited(actor=merchant_user, action="email_resend", job_id="40"):
        pass
    assert dict(AuditEntry.objects.values_list("download_id", "job_id")) == {
        "in-job": "12",
        "by-hand": "",
        "": "40",
    }
