"""The Reports page's figures, each against what really happened: counts noted by downloads.history (as
snapshots note them), orders in the index, audit entries written by the real services over the sandbox."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from audit.undo import audit_undo
from downloads import edits
from downloads.history import note_counts
from fileflare_admin.api import types
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE
from insights import figures
from insights.figures import Span
from insights.models import CountSnapshots, SuspectScan
from insights.suspects import suspects_figure
from orders.attachments import ATTACH
from orders.resend import order_resend_email
from orders_index.models import IndexedOrder, OrderSync
from tests.conftest import Sandbox
from tests.downloads.conftest import downloads_api, make_record, order_number

__all__ = ["downloads_api", "make_record", "order_number"]  # the downloads tests' fixtures, used here too

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _record(download_id: str, count: int, *, product: int = 11, file: str = "guide.pdf", order: int = 5001):
    return types.DownloadRecord(download_id, None, product, order, count, file, False, "")


def _seen(at: datetime, *records: types.DownloadRecord, source: str = "snapshot") -> None:
    note_counts(records, seen_at=at, source=source)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]  # year, month, day, hour, minute


def test_downloads_per_day_are_the_rises_seen_placed_in_the_persons_days() -> None:
    _seen(_utc(2026, 3, 1, 8), _record("a", 0), _record("b", 2))  # first sightings: no downloads yet
    _seen(_utc(2026, 3, 1, 12), _record("a", 2), _record("b", 2))  # a: +2 on 1 March
    _seen(_utc(2026, 3, 1, 23, 30), _record("a", 3))  # 00:30 on 2 March in Paris: +1 on 2 March
    _seen(_utc(2026, 3, 3, 9), _record("b", 5))  # b: +3 on 3 March
    figure = figures.downloads_per_period(Span(date(2026, 3, 1), date(2026, 3, 3), PARIS))
    assert figure.shown_rows() == [("1 Mar 2026", 2), ("2 Mar 2026", 1), ("3 Mar 2026", 3)]
    assert figure.summary == (
        "6 downloads from 1 Mar 2026 to 3 Mar 2026, 3 days. The busiest day was 3 Mar 2026 (3)."
    )
    assert figure.as_of == _utc(2026, 3, 3, 9)
    in_utc = figures.downloads_per_period(Span(date(2026, 3, 1), date(2026, 3, 3), UTC))
    assert in_utc.shown_rows() == [("1 Mar 2026", 3), ("2 Mar 2026", 0), ("3 Mar 2026", 3)]


def test_a_staff_write_and_a_reset_are_never_downloads() -> None:
    _seen(_utc(2026, 3, 2, 8), _record("a", 4))
    _seen(_utc(2026, 3, 2, 9), _record("a", 0), source="write")  # staff gave the downloads back
    _seen(_utc(2026, 3, 2, 10), _record("a", 1))  # the customer downloads once more
    _seen(_utc(2026, 3, 2, 11), _record("a", 3), source="write")  # staff set it to 3: not a download
    figure = figures.downloads_per_period(Span(date(2026, 3, 2), date(2026, 3, 2), UTC))
    assert figure.shown_rows() == [("2 Mar 2026", 1)]


def test_downloads_per_week_start_on_monday() -> None:
    _seen(_utc(2026, 3, 1, 8), _record("a", 0))
    _seen(_utc(2026, 3, 1, 9), _record("a", 1))  # a Sunday: the week of Monday 23 February
    _seen(_utc(2026, 3, 2, 9), _record("a", 3))  # Monday 2 March
    _seen(_utc(2026, 3, 8, 9), _record("a", 4))  # Sunday 8 March: the same week
    figure = figures.downloads_per_period(Span(date(2026, 3, 1), date(2026, 3, 9), UTC), period="week")
    assert figure.columns == ("Week starting", "Downloads")
    assert figure.shown_rows() == [("23 Feb 2026", 1), ("2 Mar 2026", 3), ("9 Mar 2026", 0)]


def test_downloads_by_product_and_by_file_most_first_and_per_day() -> None:
    first = [_record("a", 0, product=11, file="guide.pdf"), _record("b", 0, product=12, file="song.mp3")]
    _seen(_utc(2026, 3, 1, 8), *first, _record("c", 0, product=12, file="cover.jpg"))
    _seen(
        _utc(2026, 3, 1, 9),
        _record("a", 1, product=11, file="guide.pdf"),
        _record("b", 2, product=12, file="song.mp3"),
        _record("c", 1, product=12, file="cover.jpg"),
    )
    _seen(_utc(2026, 3, 2, 9), _record("a", 2, product=11, file="guide.pdf"))
    span = Span(date(2026, 3, 1), date(2026, 3, 2), UTC)
    assert figures.downloads_by(span, by="product").rows == [("Product #12", 3), ("Product #11", 2)]
    assert figures.downloads_by(span, by="file").rows == [("guide.pdf", 2), ("song.mp3", 2), ("cover.jpg", 1)]
    per_day = figures.downloads_per_period(span, by="file")
    assert per_day.columns == ("Day", "File", "Downloads")
    assert per_day.shown_rows() == [
        ("1 Mar 2026", "song.mp3", 2),
        ("1 Mar 2026", "cover.jpg", 1),
        ("1 Mar 2026", "guide.pdf", 1),
        ("2 Mar 2026", "guide.pdf", 1),
    ]


def test_nothing_seen_says_so() -> None:
    figure = figures.downloads_by(Span(date(2026, 3, 1), date(2026, 3, 2), UTC), by="product")
    assert figure.rows == [] and figure.summary == "No product was downloaded from 1 Mar 2026 to 2 Mar 2026."
    assert figures.downloads_per_period(Span(date(2026, 3, 1), date(2026, 3, 1), UTC)).as_of is None


def _passed(finished: datetime) -> None:
    """A snapshot pass of the downloads API finished at `finished` (as insights.snapshots records it)."""
    CountSnapshots.objects.update_or_create(api=DOWNLOADS.identity(), defaults={"full_finished_at": finished})


def test_the_counts_figures_are_as_of_the_last_snapshot_pass_even_when_a_page_saw_one_record_since() -> None:
    _seen(_utc(2026, 3, 1, 8), _record("a", 0), _record("b", 0))
    _passed(_utc(2026, 3, 2, 8))  # a quiet shop: the pass saw every count unchanged
    span = Span(date(2026, 3, 1), date(2026, 3, 2), UTC)
    assert figures.downloads_per_period(span).as_of == _utc(2026, 3, 2, 8)
    _seen(_utc(2026, 3, 2, 9), _record("a", 1), source="read")  # one record, seen by a page
    assert figures.downloads_per_period(span).as_of == _utc(2026, 3, 2, 8)  # the others: as of the pass
    assert figures.downloads_by(span, by="file").as_of == _utc(2026, 3, 2, 8)
    assert figures.resends_per_day(span, now=_utc(2026, 3, 2, 10)).as_of == _utc(2026, 3, 2, 10)


def test_the_suspects_are_as_of_their_last_scan_or_the_counts_it_read_whichever_is_older() -> None:
    span = Span(date(2026, 3, 1), date(2026, 3, 2), UTC)
    assert suspects_figure(span, []).as_of is None  # never scanned
    _seen(_utc(2026, 3, 1, 8), _record("a", 0))
    _passed(_utc(2026, 3, 2, 8))
    SuspectScan.objects.create(pk=1, finished_at=_utc(2026, 3, 2, 9))  # scanned after the pass
    assert suspects_figure(span, []).as_of == _utc(2026, 3, 2, 8)
    SuspectScan.objects.filter(pk=1).update(finished_at=_utc(2026, 3, 2, 7))  # scanned before it
    assert suspects_figure(span, []).as_of == _utc(2026, 3, 2, 7)


def _indexed(number: int, ordered_at: datetime, sent: datetime | None, shop: str) -> IndexedOrder:
    return IndexedOrder.objects.create(
        shop=shop,
        order_id=f"00000000-0000-4000-8000-{number:012d}",
        order_number=number,
        ordered_at=ordered_at,
        email_sent_at=sent,
        seen_at=ordered_at,
    )


def test_orders_never_e_mailed_per_day_from_the_order_index() -> None:
    shop = FILEFLARE.identity()
    _indexed(1, _utc(2026, 3, 1, 10), None, shop)
    _indexed(2, _utc(2026, 3, 1, 23, 30), None, shop)  # 2 March in Paris
    _indexed(3, _utc(2026, 3, 1, 11), _utc(2026, 3, 1, 11, 1), shop)  # e-mailed
    _indexed(4, _utc(2026, 3, 1, 12), None, "another-shop")  # another shop's index
    OrderSync.objects.create(shop=shop, newest_seen_at=_utc(2026, 3, 3, 7))
    figure = figures.never_emailed_per_day(Span(date(2026, 3, 1), date(2026, 3, 2), PARIS))
    assert figure.shown_rows() == [("1 Mar 2026", 1), ("2 Mar 2026", 1)]
    assert figure.as_of == _utc(2026, 3, 3, 7)
    assert figure.summary.startswith(
        "2 orders placed from 1 Mar 2026 to 2 Mar 2026 never had the download e-mail."
    )


def _today() -> Span:
    today = timezone.localdate()
    return Span(today, today, timezone.get_current_timezone())


def test_resends_and_staff_activity_count_what_the_audit_trail_says_each_person_did(
    support_user: User, merchant_user: User, sandbox: Sandbox, make_record: Any
) -> None:
    first, second = sandbox.create_order({"lines": []}), sandbox.create_order({"lines": []})
    order_resend_email(actor=support_user, order_id=first["id"], reason="lost it")
    order_resend_email(actor=support_user, order_id=second["id"], reason="lost it")
    order_resend_email(actor=merchant_user, order_id=first["id"], reason="again")
    record = make_record(download_count=4)
    written = edits.download_record_count_set(
        actor=merchant_user, download_id=record["download_id"], count=0, expected=4, reason="bot"
    )
    audit_undo(actor=merchant_user, entry_id=written.entry.pk, reason="wrong record")

    span = _today()
    resends = figures.resends_per_day(span)
    assert resends.shown_rows() == [(span.text(), 3)]
    activity = figures.staff_activity(span)
    assert activity.columns == ("Day", "Person", "Fixes", "Resends", "Attaches", "Undos")
    assert activity.shown_rows() == [
        (span.text(), "mia-merchant", 1, 1, 0, 1),
        (span.text(), "sam-support", 0, 2, 0, 0),
    ]
    assert activity.summary == (f"From {span.text()}, 2 people made 1 fix, 3 resends, 0 attaches and 1 undo.")
    yesterday = Span(span.first - timedelta(days=1), span.first - timedelta(days=1), span.zone)
    assert figures.staff_activity(yesterday).rows == [] and figures.resends_per_day(yesterday).rows[0][1] == 0
    per_person = figures.staff_per_person(span)
    assert per_person.rows == [("mia-merchant", 1, 1, 0, 1, 3), ("sam-support", 0, 2, 0, 0, 2)]
    assert per_person.summary == activity.summary
    assert ATTACH in figures.ATTACHES
