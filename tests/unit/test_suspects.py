"""The link-scanner rule (downloads.suspects), pure over plain values: what the dashboard saw of a
record's count, and when its order's e-mails went out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.test import override_settings

from downloads.suspects import Evidence, Thresholds, email_times, record_suspects, suspects_of

SENT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
LIMITS = Thresholds(burst=3, window=timedelta(minutes=60), per_hour=5)


@dataclass(frozen=True)
class Seen:
    seen_at: datetime
    count: int
    delta: int | None
    download_id: str = "d1"
    order_number: int = 1050
    file_name: str = "guide.pdf"
    source: str = "snapshot"


def at(minutes: float) -> datetime:
    return SENT + timedelta(minutes=minutes)


def test_three_downloads_within_minutes_of_the_email_make_a_suspect_with_its_evidence() -> None:
    seen = [Seen(at(-30), 0, None), Seen(at(2), 2, 2), Seen(at(4), 3, 1)]
    [suspect] = record_suspects(seen, emails=[SENT], limits=LIMITS)
    assert suspect.rule == "email" and suspect.downloads == 3 and suspect.minutes == 4
    assert suspect.evidence == (Evidence(at(2), 2, 2), Evidence(at(4), 3, 1))
    assert suspect.sentence == "3 downloads within 4 minutes of the e-mail: possibly a link scanner"
    assert suspect.reason == "Possible link scanner: 3 downloads within 4 minutes of the e-mail"
    assert (suspect.download_id, suspect.order_number, suspect.file_name) == ("d1", 1050, "guide.pdf")


def test_two_downloads_after_the_email_or_three_after_the_window_are_a_customer() -> None:
    assert record_suspects([Seen(at(1), 2, 2)], emails=[SENT], limits=LIMITS) == []
    late = [Seen(at(61), 1, 1), Seen(at(70), 2, 1), Seen(at(80), 3, 1)]
    assert record_suspects(late, emails=[SENT], limits=LIMITS) == []


def test_a_first_sighting_and_a_lowered_count_are_not_downloads() -> None:
    seen = [Seen(at(1), 5, None), Seen(at(2), 1, -4), Seen(at(3), 2, 1), Seen(at(4), 3, 1)]
    assert record_suspects(seen, emails=[SENT], limits=LIMITS) == []


def test_a_rise_the_dashboard_wrote_itself_is_not_a_download() -> None:
    undone = [Seen(at(2), 0, -3, source="write"), Seen(at(3), 3, 3, source="write")]
    assert record_suspects(undone, emails=[SENT], limits=LIMITS) == []


def test_a_resend_is_an_email_too_and_each_burst_is_its_own_suspect() -> None:
    resent = at(24 * 60)
    seen = [Seen(at(3), 3, 3), Seen(resent + timedelta(minutes=9), 7, 4)]
    newer, older = record_suspects(seen, emails=[SENT, resent], limits=LIMITS)
    assert (newer.since, newer.downloads, newer.minutes) == (resent, 4, 9)
    assert (older.since, older.downloads, older.minutes) == (SENT, 3, 3)


def test_a_sighting_is_counted_for_one_email_only() -> None:
    seen = [Seen(at(5), 3, 3)]
    [suspect] = record_suspects(seen, emails=[SENT, at(1)], limits=LIMITS)
    assert suspect.since == SENT


def test_more_than_the_shops_threshold_within_an_hour_at_any_time_is_a_suspect() -> None:
    day = at(3 * 24 * 60)
    seen = [Seen(day, 1, None), Seen(day + timedelta(minutes=20), 4, 3)]
    seen.append(Seen(day + timedelta(minutes=50), 7, 3))
    [suspect] = record_suspects(seen, emails=[SENT], limits=LIMITS)
    assert suspect.rule == "hour" and suspect.downloads == 6
    assert suspect.since == day and suspect.minutes == 50  # from the sighting before the run's first
    assert suspect.sentence == (
        "6 downloads within 50 minutes, more than the shop's 5 an hour: "
        "possibly a link scanner or a shared link"
    )


def test_five_within_an_hour_is_not_more_than_five_nor_six_spread_over_two_hours() -> None:
    day = at(3 * 24 * 60)
    five = [Seen(day + timedelta(minutes=10 * i), 1 + i, 1) for i in range(5)]
    assert record_suspects(five, emails=[], limits=LIMITS) == []
    spread = [Seen(day + timedelta(minutes=25 * i), 1 + i, 1) for i in range(6)]
    assert record_suspects(spread, emails=[], limits=LIMITS) == []


def test_the_hourly_rule_counts_a_clock_hour_as_reports_group_them() -> None:
    day = at(3 * 24 * 60)  # 10:00 UTC
    straddling = [Seen(day + timedelta(minutes=50), 3, 3), Seen(day + timedelta(minutes=65), 6, 3)]
    assert record_suspects(straddling, emails=[], limits=LIMITS) == []  # 3 in 10:xx, 3 in 11:xx
    within = [Seen(day + timedelta(minutes=5), 3, 3), Seen(day + timedelta(minutes=55), 6, 3)]
    [suspect] = record_suspects(within, emails=[], limits=LIMITS)
    assert (suspect.rule, suspect.downloads, suspect.since) == ("hour", 6, day + timedelta(minutes=5))


def test_the_email_burst_is_not_counted_again_by_the_hourly_rule() -> None:
    seen = [Seen(at(2), 4, 4), Seen(at(20), 7, 3)]
    [suspect] = record_suspects(seen, emails=[SENT], limits=LIMITS)
    assert suspect.rule == "email" and suspect.downloads == 7


def test_the_fix_gives_the_bursts_downloads_back_never_below_zero() -> None:
    [suspect] = record_suspects([Seen(at(2), 4, 4)], emails=[SENT], limits=LIMITS)
    assert suspect.given_back(5) == 1 and suspect.given_back(2) == 0


def test_many_records_newest_first_each_with_its_own_orders_emails() -> None:
    other = SENT + timedelta(hours=5)
    seen = [
        Seen(at(3), 3, 3, download_id="a", order_number=1),
        Seen(other + timedelta(minutes=1), 3, 3, download_id="b", order_number=2),
        Seen(at(3), 3, 3, download_id="c", order_number=3),  # its order's e-mail is unknown
    ]
    found = suspects_of(seen, emails={1: [SENT], 2: [other]}, limits=LIMITS)
    assert [suspect.download_id for suspect in found] == ["b", "a"]


@override_settings(SUSPECT_BURST_DOWNLOADS=2, SUSPECT_WINDOW_MINUTES=5, SUSPECT_DOWNLOADS_PER_HOUR=9)
def test_the_thresholds_are_the_shops_settings() -> None:
    assert Thresholds.from_settings() == Thresholds(burst=2, window=timedelta(minutes=5), per_hour=9)
    assert len(record_suspects([Seen(at(4), 2, 2)], emails=[SENT])) == 1
    assert record_suspects([Seen(at(6), 2, 2)], emails=[SENT]) == []


def test_an_orders_email_times_are_its_latest_and_each_resend_once_oldest_first() -> None:
    sent = datetime(2026, 3, 1, 10, tzinfo=UTC)
    resent = [sent + timedelta(days=2), sent, sent + timedelta(days=1)]  # one resend is the latest itself
    assert email_times([sent], resent) == [sent, sent + timedelta(days=1), sent + timedelta(days=2)]
    assert email_times([None], []) == []  # never e-mailed, never resent
