"""The daily digest: once a day, at the time of day each person chose in their own time zone
(staff.StaffPreferences.digest_at, opt-in), an e-mail of what needs a look, each line a link:
customers who reached their download limit (insights.limits) and link-scanner suspects
(insights.suspects) whose downloads were not given back yet, both in the last 24 hours, orders of
the last week never e-mailed and yesterday's downloads (insights.figures).
All of it read from the dashboard's own database: a digest costs no upstream call.

Sent once per person per day however many workers run: the worker's keeper (background.keepers, every
BACKGROUND_KEEPALIVE_SECONDS in every worker) queues a task for each person whose time has come today and
who has no digest of today yet; the task first claims the day (insights.DigestSent, unique per person and
day, written before anything is sent) and sends only when the claim is its own. A send that fails gives
the claim back, so a later round tries again; a person's "day" is their own (their zone's date).
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from downloads.suspects import Suspect
from fileflare_admin.days import day_text
from fileflare_admin.numbers import grouped
from insights.figures import Span, downloads_by, downloads_per_period, never_emailed_per_day
from insights.limits import at_limit_now
from insights.models import DigestSent, SuspectBurst
from insights.suspects import suspects_between, suspects_refresh, suspects_scanned_at
from orders.suspects import given_back, suspect_key
from staff import roles
from staff.models import StaffPreferences

logger = logging.getLogger(__name__)

MOST_LINES = 20  # a section lists at most this many lines, then links to the rest
NEVER_EMAILED_DAYS = 7
SINCE_LAST = timedelta(hours=24)  # the alerts of a digest: what happened since the day before's


@dataclass(frozen=True)
class Line:
    text: str
    url: str  # absolute: the e-mail is read outside the dashboard


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[Line, ...]
    empty: str  # what the section says when it lists nothing
    more: int = 0  # lines left out (MOST_LINES)
    more_url: str = ""


@dataclass(frozen=True)
class Digest:
    """Built in its reader's language and zone (digest_send), as its e-mail is written."""

    day: date
    zone: str
    subject: str
    sections: tuple[Section, ...]
    made_at: datetime
    day_shown: str = ""  # the day as the reader writes it: "7 Dec 2026", "7 déc. 2026"


def _absolute(path: str, **query: object) -> str:
    shown = {name: value for name, value in query.items() if value not in (None, "")}
    return f"{settings.DASHBOARD_URL}{path}" + (f"?{urlencode(shown)}" if shown else "")


def _order_url(order_id: str | None, order_number: int, anchor: str = "") -> str:
    """The order page (found by its number through the search box when its ID is not known)."""
    if order_id:
        url = _absolute(reverse("orders:detail", kwargs={"order_id": order_id}))
    else:
        url = _absolute(reverse("orders:list"), q=order_number)
    return f"{url}#{anchor}" if anchor else url


def _section(title: str, lines: list[Line], empty: str, more_url: str) -> Section:
    return Section(
        title=title,
        lines=tuple(lines[:MOST_LINES]),
        empty=empty,
        more=max(len(lines) - MOST_LINES, 0),
        more_url=more_url,
    )


def zone_of(time_zone: str) -> tzinfo:
    """A person's zone: theirs, or the shop's (also when this machine no longer knows theirs)."""
    try:
        return zoneinfo.ZoneInfo(time_zone or settings.SHOP_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.SHOP_TIME_ZONE)


def _needing_a_look(suspects: list[Suspect]) -> list[Suspect]:
    """The suspects whose downloads were not given back yet (orders.suspects.given_back, the pages' rule)."""
    backs = given_back(suspects)
    return [suspect for suspect in suspects if suspect_key(suspect) not in backs]


def digest_build(*, day: date, zone: tzinfo, now: datetime | None = None) -> Digest:
    """The digest of `day` (the person's date) as of `now`."""
    now = now or timezone.now()
    yesterday = Span(day - timedelta(days=1), day - timedelta(days=1), zone)
    week = Span(day - timedelta(days=NEVER_EMAILED_DAYS), day - timedelta(days=1), zone)
    reports = reverse("insights:page")
    since = now - SINCE_LAST

    at_limit = [
        Line(
            _("#%(number)s “%(file)s”: %(used)s downloads (%(source)s)")
            % {
                "number": item.order_number,
                "file": item.file_name,
                "used": item.limit.used(item.count),
                "source": item.limit_source,
            },
            _order_url(item.order_id, item.order_number),
        )
        for item in at_limit_now(near=0, now=now)
        if item.reached and item.seen_at >= since  # reached it since the last digest, not every day again
    ]
    suspects = [
        Line(
            _("#%(number)s “%(file)s”: %(sentence)s")
            % {"number": suspect.order_number, "file": suspect.file_name, "sentence": suspect.sentence},
            _order_url(suspect.order_id, suspect.order_number, anchor="suspects"),
        )
        for suspect in _needing_a_look(suspects_between(since, now))
    ]
    never = never_emailed_per_day(week)
    never_url = _absolute(
        reverse("orders:list"),
        email="never",
        ordered_from=week.first.isoformat(),
        ordered_to=week.last.isoformat(),
    )
    figures_url = _absolute(reports, start=yesterday.first.isoformat(), end=yesterday.last.isoformat())
    downloads = downloads_per_period(yesterday, period="day")
    by_product = downloads_by(yesterday, by="product")
    sections = (
        _section(
            _("Customers who reached their download limit (last 24 hours)"),
            at_limit,
            _("No customer reached their download limit."),
            _absolute(reports) + "#figure-at-limit",
        ),
        _section(
            _("Possible link scanners (last 24 hours)"),
            suspects,
            _("No download looked like a link scanner's."),
            _absolute(reports) + "#figure-suspects",
        ),
        Section(_("Orders never e-mailed"), (Line(never.summary, never_url),), ""),
        Section(
            _("Yesterday, %(day)s") % {"day": day_text(yesterday.first)},
            (Line(downloads.summary, figures_url), Line(by_product.summary, figures_url)),
            "",
        ),
    )
    if at_limit or suspects:
        subject = _("Fileflare Admin digest, %(day)s: %(reached)s, %(suspects)s") % {
            "day": day_text(day),
            "reached": ngettext(
                "%(count)s reached their limit", "%(count)s reached their limit", len(at_limit)
            )
            % {"count": grouped(len(at_limit))},
            "suspects": ngettext(
                "%(count)s possible link scanner", "%(count)s possible link scanners", len(suspects)
            )
            % {"count": grouped(len(suspects))},
        }
    else:
        subject = _("Fileflare Admin digest, %(day)s") % {"day": day_text(day)}
    return Digest(
        day=day, zone=str(zone), subject=subject, sections=sections, made_at=now, day_shown=day_text(day)
    )


def _local(now: datetime, time_zone: str) -> datetime:
    return timezone.localtime(now, zone_of(time_zone))


def digests_due(*, now: datetime | None = None) -> list[tuple[int, date]]:
    """(user ID, their day) of each person whose digest time has come today, in their zone, with no
    digest of that day claimed yet. Two queries."""
    now = now or timezone.now()
    wanted = StaffPreferences.objects.filter(
        digest_at__isnull=False, user__is_active=True
    ).exclude(user__email="").values_list("user_id", "time_zone", "digest_at")
    due: list[tuple[int, date]] = []
    for user_id, time_zone, digest_at in wanted:
        local = _local(now, time_zone)
        if digest_at is not None and local.time() >= digest_at:
            due.append((user_id, local.date()))
    if not due:
        return []
    claimed = set(
        DigestSent.objects.filter(
            user_id__in=[user_id for user_id, _ in due], day__in={day for _, day in due}
        ).values_list("user_id", "day")
    )
    return [pair for pair in due if pair not in claimed]


def digest_claim(*, user_id: int, day: date) -> DigestSent | None:
    """Claim this person's digest of `day`: the claim, or None when another worker has it already."""
    try:
        with transaction.atomic():
            return DigestSent.objects.create(user_id=user_id, day=day, claimed_at=timezone.now())
    except IntegrityError:
        return None


def digest_send(*, user_id: int, day: date) -> bool:
    """Build and send this person's digest of `day`, once: False when it is not theirs to get (no role,
    no address, no longer wanted) or another worker claimed it. A failed send gives the claim back and
    raises, so a later round tries again."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    preferences = StaffPreferences.objects.filter(user_id=user_id, digest_at__isnull=False).first()
    if user is None or preferences is None or not user.email or not roles.allows(user, "view_reports"):
        return False
    claim = digest_claim(user_id=user_id, day=day)
    if claim is None:
        return False
    try:
        suspects_refresh()  # the suspects up to this moment (the scan usually ran seconds ago)
        zone = zone_of(preferences.time_zone)
        language = preferences.language or settings.LANGUAGE_CODE
        with timezone.override(zone), translation.override(language):  # the person's zone and language
            digest = digest_build(day=day, zone=zone)
            context = {
                "digest": digest,
                "person": user.get_username(),
                "settings_url": _absolute(reverse("staff:digest")),
            }
            message = EmailMultiAlternatives(
                subject=digest.subject,
                body=render_to_string("insights/digest_email.txt", context),
                to=[user.email],
            )
            message.attach_alternative(render_to_string("insights/digest_email.html", context), "text/html")
        message.send()
    except Exception:
        claim.delete()  # nothing went out: the next round claims it again
        raise
    claim.sent_at = timezone.now()
    claim.sent_to = user.email[:254]
    claim.save(update_fields=["sent_at", "sent_to"])
    logger.info("digest: sent the digest of %s to user %s", day.isoformat(), user_id)
    return True


def digest_keep() -> int:
    """The keeper: queue a sending task for each digest due now (background.keepers)."""
    from insights.tasks import digest_send_task  # the task module imports this one

    due = digests_due()
    for user_id, day in due:
        digest_send_task.enqueue(user_id, day.isoformat())
    return len(due)



@dataclass(frozen=True)
class DigestStatus:
    """The Status page's section of the suspects' scan and the daily digest: when each last ran."""

    scanned_at: datetime | None  # the last scan of the counts for link-scanner suspects
    suspects: int  # bursts stored
    digest_sent_at: datetime | None  # the last digest e-mailed, to anyone
    sent_today: int  # digests e-mailed since midnight (the shop's zone)
    wanted: int  # people who asked for the digest


def digest_status(*, now: datetime | None = None) -> DigestStatus:
    """Four queries, none upstream."""
    now = now or timezone.now()
    midnight = timezone.localtime(now, zone_of("")).replace(hour=0, minute=0, second=0, microsecond=0)
    sent = DigestSent.objects.filter(sent_at__isnull=False)
    return DigestStatus(
        scanned_at=suspects_scanned_at(),
        suspects=SuspectBurst.objects.count(),
        digest_sent_at=sent.aggregate(last=Max("sent_at"))["last"],
        sent_today=sent.filter(sent_at__gte=midnight).count(),
        wanted=StaffPreferences.objects.filter(digest_at__isnull=False, user__is_active=True).count(),
    )
