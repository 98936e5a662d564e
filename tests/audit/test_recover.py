"""A bulk fix's write is told its entry as audited(...) writes it (audit_job's on_open), in the same
transaction and before the block runs; audited_recover closes exactly that entry when its process
stopped mid-write, and only while it is pending."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError

from audit.models import AuditEntry
from audit.services import AuditUnavailable, audit_job, audited, audited_recover

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _upstream_settings() -> Iterator[None]:
    """No upstream is involved: the trail alone (replaces the suite's autouse sandbox settings)."""
    yield


def test_the_job_is_told_the_pending_entry_before_its_write_runs(merchant_user: User) -> None:
    told: list[tuple[int, str]] = []
    with (
        audit_job(7, on_open=lambda entry: told.append((entry.pk, entry.outcome))),
        audited(actor=merchant_user, action="download_record_count", download_id="abc") as open_,
    ):
        assert told == [(open_.pk, "pending")]
    with audited(actor=merchant_user, action="download_record_count", download_id="by-hand"):
        pass  # outside the job: nobody is told
    assert len(told) == 1


def test_when_the_job_cannot_keep_its_entry_nothing_is_written_or_sent(merchant_user: User) -> None:
    def keep(entry: AuditEntry) -> None:
        raise DatabaseError("database is locked")

    ran = []
    with (
        pytest.raises(AuditUnavailable),
        audit_job(7, on_open=keep),
        audited(actor=merchant_user, action="download_record_count", download_id="abc"),
    ):
        ran.append("sent")
    assert ran == [] and not AuditEntry.objects.exists()


def test_recovery_closes_the_entry_it_names_only_while_pending(merchant_user: User) -> None:
    left, other = (
        AuditEntry.objects.create(actor_name="x", action="download_record_count", outcome="pending")
        for _ in range(2)
    )
    assert audited_recover(entry_id=left.pk, saved=False, verified="checked at the API", error="Not saved.")
    assert not audited_recover(entry_id=left.pk, saved=True, verified="checked again")  # closed once
    left.refresh_from_db()
    other.refresh_from_db()
    assert (left.outcome, left.error, left.verified) == ("failed", "Not saved.", "checked at the API")
    assert left.finished_at is not None
    assert other.outcome == "pending"
