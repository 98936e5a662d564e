"""The Reports page's link-scanner suspects (insights.suspects): the rule over the counts noted as
snapshots note them, each order's e-mail from the order index and the dashboard's resends from the trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry
from downloads.history import note_counts
from fileflare_admin.api import types
from fileflare_admin.api.http import FILEFLARE
from insights.figures import Span
from insights.models import SuspectBurst
from insights.suspects import suspects_between, suspects_figure, suspects_refresh, suspects_waiting
from insights.tasks import suspects_keep
from orders.resend import EMAIL_RESEND
from orders_index.models import IndexedOrder

pytestmark = pytest.mark.django_db
SENT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def _record(download_id: str, count: int, order: int) -> types.DownloadRecord:
    return types.DownloadRecord(download_id, None, 11, order, count, f"{download_id}.pdf", False, "")


def _seen(minutes: float, *records: types.DownloadRecord) -> None:
    note_counts(records, seen_at=SENT + timedelta(minutes=minutes), source="snapshot")


def _indexed(number: int, sent: datetime | None) -> None:
    IndexedOrder.objects.create(
        shop=FILEFLARE.identity(),
        order_id=f"00000000-0000-4000-8000-{number:012d}",
        order_number=number,
        ordered_at=SENT - timedelta(minutes=1),
        email_sent_at=sent,
        seen_at=SENT,
    )


@pytest.mark.engine  # time arithmetic in SQL, and an upsert
def test_a_burst_after_the_index_e_mail_or_a_resend_is_listed_and_a_customer_is_not() -> None:
    _indexed(1, SENT)
    _indexed(2, SENT)
    _indexed(3, None)
    _seen(-5, _record("scanned", 0, 1), _record("customer", 0, 2), _record("resent", 0, 3))
    _seen(3, _record("scanned", 3, 1), _record("customer", 1, 2))
    _seen(200, _record("customer", 2, 2))
    # Order 3 was never e-mailed by Fileflare, but the dashboard resent it at 12:00.
    AuditEntry.objects.create(
        actor_name="mia", action=EMAIL_RESEND, order_number=3, outcome=AuditEntry.Outcome.SUCCESS
    )
    resent_at = AuditEntry.objects.get().created_at
    note_counts([_record("resent", 4, 3)], seen_at=resent_at + timedelta(minutes=6), source="snapshot")

    assert suspects_waiting() and suspects_refresh() == 2 and not suspects_waiting()
    found = suspects_between(SENT - timedelta(days=1), resent_at + timedelta(hours=1))
    assert [(s.download_id, s.downloads, s.minutes, s.order_id) for s in found] == [
        ("resent", 4, 6, "00000000-0000-4000-8000-000000000003"),
        ("scanned", 3, 3, "00000000-0000-4000-8000-000000000001"),
    ]
    assert found[1].sentence == "3 downloads within 3 minutes of the e-mail: possibly a link scanner"
    # Only the bursts last seen within the range.
    assert [s.download_id for s in suspects_between(SENT, SENT + timedelta(hours=1))] == ["scanned"]
    assert suspects_between(SENT + timedelta(hours=1), SENT + timedelta(hours=3)) == []


def test_a_dashboard_write_that_raises_a_count_is_no_burst() -> None:
    _indexed(1, SENT)
    _seen(-5, _record("fixed", 0, 1))
    note_counts([_record("fixed", 3, 1)], seen_at=SENT + timedelta(minutes=2), source="write")
    suspects_refresh()
    assert suspects_between(SENT - timedelta(hours=1), SENT + timedelta(hours=1)) == []


def test_the_figure_says_it_in_a_sentence_with_the_evidence_in_its_table() -> None:
    _indexed(1, SENT)
    _seen(-5, _record("scanned", 0, 1))
    _seen(3, _record("scanned", 3, 1))
    suspects_refresh()
    span = Span(date(2026, 3, 1), date(2026, 3, 1), UTC)
    found = suspects_between(span.start, span.end)
    figure = suspects_figure(span, found)
    assert figure.summary == "1 burst of downloads on 1 record looked like a link scanner's from 1 Mar 2026."
    assert figure.shown_rows() == [
        (
            "1 Mar 2026, 10:03 UTC",
            1,
            "scanned.pdf",
            "scanned",
            3,
            "3 downloads within 3 minutes of the e-mail: possibly a link scanner",
            "2026-03-01T10:03:00+00:00 3",  # each sighting as a spreadsheet reads it (the CSV)
            "",  # not given back (orders.suspects.given_back)
        )
    ]
    empty = suspects_figure(span, [])
    assert empty.summary == "No download looked like a link scanner's from 1 Mar 2026." and empty.rows == []


def test_the_reports_page_lists_the_suspects_with_their_order_and_csv(
    support_client: Client, support_user: User
) -> None:
    _indexed(1, SENT)
    _seen(-5, _record("scanned", 0, 1))
    _seen(3, _record("scanned", 3, 1))
    suspects_refresh()  # as the worker's scan does; the page only reads what it stored
    page = support_client.get("/reports/", {"start": "2026-03-01", "end": "2026-03-01"}).content.decode()
    assert 'id="figure-suspects"' in page
    assert "3 downloads within 3 minutes of the e-mail: possibly a link scanner" in page
    assert 'href="/orders/00000000-0000-4000-8000-000000000001/#suspects"' in page
    days = {"start": "2026-03-01", "end": "2026-03-01"}
    csv = b"".join(support_client.get("/reports/suspects.csv", days).streaming_content).decode()
    assert csv.splitlines()[0] == "Last seen,Order,File,Record,Downloads,What was seen,Counts seen,Given back"
    assert ",scanned.pdf,scanned,3," in csv


@pytest.mark.engine  # time arithmetic in SQL, and an upsert
def test_the_scan_reads_only_what_is_new_and_a_burst_that_grows_is_updated_in_place() -> None:
    _indexed(1, SENT)
    _seen(-5, _record("scanned", 0, 1))
    _seen(3, _record("scanned", 3, 1))
    assert suspects_refresh() == 1
    assert suspects_refresh() == 0  # nothing noted since: nothing read, nothing stored
    _seen(9, _record("scanned", 5, 1))  # the scanner came back within the hour
    suspects_refresh()
    [burst] = SuspectBurst.objects.all()
    assert (burst.downloads, burst.minutes) == (5, 9)
    [suspect] = suspects_between(SENT, SENT + timedelta(hours=1))
    assert suspect.sentence == "5 downloads within 9 minutes of the e-mail: possibly a link scanner"
    assert [seen.count for seen in suspect.evidence] == [3, 5]


def test_the_worker_queues_a_scan_only_when_counts_were_noted_since_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queued: list[str] = []

    class Task:
        def enqueue(self) -> None:
            queued.append("scan")

    monkeypatch.setattr("insights.tasks.suspects_refresh_task", Task())
    assert suspects_keep() == 0 and queued == []
    _seen(3, _record("scanned", 3, 1))
    assert suspects_keep() == 1 and queued == ["scan"]
    suspects_refresh()
    assert suspects_keep() == 0 and queued == ["scan"]
