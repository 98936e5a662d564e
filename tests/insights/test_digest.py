"""The daily digest (insights.digest), in-process: who is due when (their time, in their zone), the
once-a-day claim, and what the e-mail says — each line a link — checked against what was noted."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from audit.models import AuditEntry
from downloads.edits import COUNT
from downloads.history import note_counts
from downloads.models import SeenLimit
from fileflare_admin.api import types
from fileflare_admin.api.http import FILEFLARE
from insights import digest
from insights.models import DigestSent
from insights.suspects import suspects_between, suspects_refresh
from orders_index.models import IndexedOrder
from staff.models import StaffPreferences

pytestmark = pytest.mark.django_db
# 07:30 UTC on 10 March: 08:30 in Paris, 16:30 in Tokyo, 03:30 in New York (EDT since the 8th).
NOW = datetime(2026, 3, 10, 7, 30, tzinfo=UTC)


def _wants(user: User, at: time, zone: str = "", email: str = "x@example.com") -> User:
    user.email = email
    user.save()
    StaffPreferences.objects.update_or_create(user=user, defaults={"digest_at": at, "time_zone": zone})
    return user


def test_a_person_is_due_once_their_time_has_come_in_their_own_zone(
    support_user: User, merchant_user: User, admin_user: User
) -> None:
    _wants(support_user, time(8, 0), "Europe/Paris")  # 08:30 there: due, on the 10th
    _wants(merchant_user, time(4, 0), "America/New_York")  # 03:30 there: not yet
    _wants(admin_user, time(9, 0), "Asia/Tokyo")  # 16:30 there: due
    assert sorted(digest.digests_due(now=NOW)) == sorted(
        [(support_user.pk, date(2026, 3, 10)), (admin_user.pk, date(2026, 3, 10))]
    )
    assert (merchant_user.pk, date(2026, 3, 10)) in digest.digests_due(now=NOW + timedelta(hours=1))


@pytest.mark.engine  # the once-a-day claim is a unique row
def test_nobody_is_due_without_asking_without_an_address_or_once_claimed(
    support_user: User, merchant_user: User, admin_user: User
) -> None:
    StaffPreferences.objects.create(user=support_user, time_zone="UTC")  # never asked
    _wants(merchant_user, time(6, 0), email="")
    _wants(admin_user, time(6, 0))
    assert digest.digests_due(now=NOW) == [(admin_user.pk, date(2026, 3, 10))]
    assert digest.digest_claim(user_id=admin_user.pk, day=date(2026, 3, 10)) is not None
    assert digest.digest_claim(user_id=admin_user.pk, day=date(2026, 3, 10)) is None  # once a day
    assert digest.digests_due(now=NOW) == []
    assert digest.digests_due(now=NOW + timedelta(days=1)) == [(admin_user.pk, date(2026, 3, 11))]


def _record(download_id: str, count: int, order: int, file: str) -> types.DownloadRecord:
    return types.DownloadRecord(download_id, None, 11, order, count, file, False, "")


def _world(now: datetime) -> None:
    """Order 7001 at its limit (5 of 5) since 21 hours, order 7004 at it since two days (an old story),
    order 7002 scanned right after its e-mail, order 7003 never
    e-mailed yesterday, and 4 downloads yesterday."""
    shop = FILEFLARE.identity()
    for number, sent in ((7001, None), (7002, now - timedelta(hours=2)), (7003, None)):
        IndexedOrder.objects.create(
            shop=shop,
            order_id=f"00000000-0000-4000-8000-{number:012d}",
            order_number=number,
            ordered_at=now - timedelta(hours=30),  # yesterday or the day before: in the last week
            email_sent_at=sent,
            seen_at=now,
        )
    SeenLimit.objects.create(
        order_number=7001, asset_id="a1", filename="Song.mp3", file_key="song.mp3", limit=5, seen_at=now
    )
    note_counts([_record("song", 4, 7001, "Song.mp3")], seen_at=now - timedelta(hours=22), source="snapshot")
    note_counts([_record("song", 5, 7001, "Song.mp3")], seen_at=now - timedelta(hours=21), source="snapshot")
    SeenLimit.objects.create(
        order_number=7004, asset_id="a4", filename="Old.mp3", file_key="old.mp3", limit=2, seen_at=now
    )
    note_counts([_record("old", 2, 7004, "Old.mp3")], seen_at=now - timedelta(days=2), source="snapshot")
    note_counts([_record("scan", 0, 7002, "Guide.pdf")], seen_at=now - timedelta(hours=3), source="snapshot")
    scanned = now - timedelta(hours=1, minutes=55)
    note_counts([_record("scan", 3, 7002, "Guide.pdf")], seen_at=scanned, source="snapshot")


@pytest.mark.engine  # the once-a-day claim is a unique row
def test_the_digest_sends_each_line_as_a_link_once_a_day(
    support_user: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DASHBOARD_URL = "https://admin.example.com"
    now = timezone.now()
    _world(now)
    _wants(support_user, time(0, 0), "UTC", email="sam@example.com")
    today = now.date()
    assert digest.digest_send(user_id=support_user.pk, day=today) is True
    assert digest.digest_send(user_id=support_user.pk, day=today) is False  # claimed: not again
    [message] = mail.outbox
    assert message.to == ["sam@example.com"]
    assert message.subject == (
        f"Fileflare Admin digest, {today.day} {today:%b %Y}: 1 reached their limit, 1 possible link scanner"
    )
    text = message.body
    order = "https://admin.example.com/orders/00000000-0000-4000-8000-00000000700"
    assert "- #7001 “Song.mp3”: 5 of 5 downloads (limit seen on this order's customer page" in text
    assert f"  {order}1/\n" in text
    assert "Old.mp3" not in text  # at its limit since before the last digest: not news
    assert "- #7002 “Guide.pdf”: 3 downloads within 5 minutes of the e-mail: possibly a link scanner" in text
    assert f"  {order}2/#suspects\n" in text
    assert "- 2 orders placed from" in text and "never had the download e-mail." in text
    assert "https://admin.example.com/orders/?email=never&ordered_from=" in text
    assert "https://admin.example.com/reports/?start=" in text
    assert "Change its time or stop it: https://admin.example.com/staff/digest/" in text
    html = message.alternatives[0][0]  # type: ignore[index]  # (content, mimetype)
    assert f'<a href="{order}2/#suspects">#7002 “Guide.pdf”: 3 downloads within 5 minutes' in html
    sent = DigestSent.objects.get()
    assert (sent.user, sent.day, sent.sent_to) == (support_user, today, "sam@example.com") and sent.sent_at


@pytest.mark.engine  # the once-a-day claim is a unique row
def test_a_send_that_fails_gives_the_day_back_for_the_next_round(
    support_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wants(support_user, time(0, 0), "UTC")
    today = timezone.now().date()

    def refused(*args: Any, **kwargs: Any) -> int:
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refused)
    with pytest.raises(ConnectionRefusedError):
        digest.digest_send(user_id=support_user.pk, day=today)
    assert not DigestSent.objects.exists() and digest.digests_due() == [(support_user.pk, today)]
    monkeypatch.undo()
    assert digest.digest_send(user_id=support_user.pk, day=today) is True
    assert len(mail.outbox) == 1


def test_no_digest_for_an_account_without_a_role(support_user: User) -> None:
    _wants(support_user, time(0, 0), "UTC")
    support_user.groups.clear()
    assert digest.digest_send(user_id=support_user.pk, day=timezone.now().date()) is False
    assert mail.outbox == [] and not DigestSent.objects.exists()


def test_the_keeper_queues_one_task_per_digest_due(
    support_user: User, admin_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wants(support_user, time(0, 0), "UTC")
    queued: list[tuple[Any, ...]] = []

    class Task:
        def enqueue(self, *args: Any) -> None:
            queued.append(args)

    monkeypatch.setattr("insights.tasks.digest_send_task", Task())
    assert digest.digest_keep() == 1
    assert queued == [(support_user.pk, timezone.now().date().isoformat())]


def test_the_status_page_says_when_the_suspects_were_last_scanned_and_the_last_digest_sent(
    support_user: User, merchant_client: Any
) -> None:
    page = merchant_client.get("/status/").content.decode()
    assert "Link-scanner suspects and the daily digest" in page
    assert "not yet: the task worker scans the counts as they are noted" in page and "none yet" in page
    _wants(support_user, time(0, 0))
    today = timezone.localdate()
    assert digest.digest_send(user_id=support_user.pk, day=today) is True  # it scans first, then sends
    page = merchant_client.get("/status/").content.decode()
    section = page.split('id="status-suspects-digest"', 1)[1].split("</section>", 1)[0]
    assert "not yet" not in section and "none yet" not in section
    assert "(0 bursts stored)" in section and "(1 sent today)" in section


def test_a_suspect_whose_downloads_were_given_back_needs_no_look_in_the_digest(support_user: User) -> None:
    now = timezone.now()
    _world(now)
    suspects_refresh()
    [suspect] = suspects_between(now - timedelta(hours=24), now)

    def lines() -> str:
        built = digest.digest_build(day=now.date(), zone=UTC, now=now)
        return "\n".join(line.text for section in built.sections for line in section.lines)

    assert "#7002 “Guide.pdf”" in lines()
    AuditEntry.objects.create(  # the order page's give-back, as orders.suspects writes it
        actor=support_user,
        actor_name=support_user.get_username(),
        action=COUNT,
        order_number=7002,
        download_id="scan",
        before={"download_count": 3},
        after={"download_count": 0},
        reason=suspect.reason,
        outcome=AuditEntry.Outcome.SUCCESS,
    )
    assert "#7002 “Guide.pdf”" not in lines()  # orders.suspects.given_back: the same rule as the pages
