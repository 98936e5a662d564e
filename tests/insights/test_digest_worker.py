"""The daily digest end to end: real task workers (`manage.py background_worker`) find it due on their
keep-alive timer, queue it, claim it and send it through Django's e-mail backend (here the file backend,
as the demo's outbox) — once per person and day, with two workers looking at the same time."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import time, timedelta
from email import message_from_string
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from downloads.history import note_counts
from fileflare_admin.api import types
from fileflare_admin.api.http import FILEFLARE
from insights.models import DigestSent
from insights.tasks import digest_send_task
from orders_index.models import IndexedOrder
from staff.models import StaffPreferences
from tests.jobs.conftest import start_worker
from tests.jobs.worker import Worker

__all__ = ["start_worker"]  # the bulk-fix tests' worker fixture, used here too

ZONE = "Pacific/Kiritimati"  # UTC+14: the person's day is often not the machine's


def _messages(outbox: Path) -> list[str]:
    """Every e-mail the file backend wrote (one file per connection, messages separated by a line of -)."""
    found = []
    for path in sorted(outbox.glob("*.log")):
        for chunk in path.read_text().split("-" * 79):
            if "Subject:" in chunk:
                found.append(chunk.strip())
    return found


@pytest.mark.engine  # the once-a-day claim is a unique row
def test_two_workers_send_the_digest_once_with_its_lines_as_links(
    start_worker: Callable[..., Worker], support_user: User, tmp_path: Path
) -> None:
    now = timezone.now()
    IndexedOrder.objects.create(
        shop=FILEFLARE.identity(),
        order_id="00000000-0000-4000-8000-000000009001",
        order_number=9001,
        ordered_at=now - timedelta(hours=1),
        email_sent_at=now - timedelta(minutes=30),
        seen_at=now,
    )
    record = types.DownloadRecord("scan9001", None, 11, 9001, 0, "Guide.pdf", False, "")
    note_counts([record], seen_at=now - timedelta(minutes=40), source="snapshot")
    scanned = types.DownloadRecord("scan9001", None, 11, 9001, 4, "Guide.pdf", False, "")
    note_counts([scanned], seen_at=now - timedelta(minutes=26), source="snapshot")
    support_user.email = "sam@example.com"
    support_user.save()
    StaffPreferences.objects.create(user=support_user, time_zone=ZONE, digest_at=time(0, 0))
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    # django-environ reads the path after "filemail://" as relative: a third slash makes it absolute.
    settings = {"EMAIL_URL": f"filemail:///{outbox}", "DASHBOARD_URL": "https://admin.example.com"}

    day = timezone.localtime(now, zoneinfo.ZoneInfo(ZONE)).date()
    # Queued twice already, as two workers' keepers queue it when they find it due at the same moment.
    digest_send_task.enqueue(support_user.pk, day.isoformat())
    digest_send_task.enqueue(support_user.pk, day.isoformat())

    first, _second = start_worker(**settings), start_worker(**settings)
    tasks = DBTaskResult.objects.filter(task_path__endswith="digest_send_task")
    first.wait_for(
        "every digest task to finish",
        lambda: tasks.count() >= 2
        and not tasks.exclude(status="SUCCESSFUL").exists()
        and DigestSent.objects.filter(sent_at__isnull=False).exists(),
    )
    sent = DigestSent.objects.get()
    assert (sent.user, sent.day, sent.sent_to) == (support_user, day, "sam@example.com")
    # Each task claimed the day or found it claimed: one sent, and whichever workers ran the others, none.
    assert sorted(tasks.values_list("return_value", flat=True)) == [False] * (tasks.count() - 1) + [True]
    [text] = _messages(outbox)
    message = message_from_string(text)
    assert message["To"] == "sam@example.com"
    assert "1 possible link scanner" in message["Subject"]
    body = message.get_payload(0).get_payload()  # type: ignore[union-attr]  # multipart: text, then HTML
    assert "#9001 “Guide.pdf”: 4 downloads within 4 minutes of the e-mail: possibly a link scanner" in body
    assert "https://admin.example.com/orders/00000000-0000-4000-8000-000000009001/#suspects" in body
    assert DigestSent.objects.count() == 1
