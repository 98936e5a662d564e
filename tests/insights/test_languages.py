"""Issue 30, the insights in French and Italian: the Reports page as each role (every figure, the at-limit
list and its bulk fix button, the suspects, the range picker's errors), a chart's SVG, a CSV's header, the
daily digest in its RECIPIENT's language (subject included) and the snapshots' Status section show none of
our catalogue's English (tests/support/i18n.py); counts take their plural with 1 and 2; what a spreadsheet
or the audit trail reads (CSV cells, a give-back's reason) stays the same in every language."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from audit.models import AuditEntry
from downloads.edits import COUNT
from downloads.history import note_counts
from downloads.suspects import Evidence, Suspect, reason_read
from fileflare_admin.api import types
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE
from insights import digest
from insights.figures import Span, downloads_per_period
from insights.models import CountSnapshots
from insights.suspects import suspects_refresh
from jobs.models import BulkJob
from orders.resend import EMAIL_RESEND
from orders_index.models import IndexedOrder
from staff.models import StaffPreferences
from tests.support.i18n import untranslated, visible_text

pytestmark = pytest.mark.django_db
LANGUAGES = ["fr", "it"]
PAGE = "/reports/"


def _record(download_id: str, count: int, order: int, file: str = "manual.pdf") -> types.DownloadRecord:
    return types.DownloadRecord(download_id, None, 11, order, count, file, False, "")


def _indexed(number: int, *, ordered: Any, sent: Any) -> None:
    IndexedOrder.objects.create(
        shop=FILEFLARE.identity(),
        order_id=f"00000000-0000-4000-8000-{number:012d}",
        order_number=number,
        ordered_at=ordered,
        email_sent_at=sent,
        seen_at=timezone.now(),
    )


def _world(settings: Any, user: User) -> None:
    """Something in every figure of today: downloads, two records at or near the shop's limit of 3 (so the
    page lists them with their bulk fix), a link scanner after an e-mail, an order never e-mailed, a
    resend and a count fix in the audit trail."""
    settings.SHOP_DOWNLOAD_LIMIT = 3
    now = timezone.now()
    sent = now - timedelta(minutes=30)
    _indexed(8001, ordered=sent - timedelta(minutes=1), sent=sent)
    _indexed(8002, ordered=now - timedelta(minutes=20), sent=None)
    note_counts([_record("scan", 0, 8001), _record("near", 1, 8003)], seen_at=sent, source="snapshot")
    note_counts(
        [_record("scan", 3, 8001), _record("near", 2, 8003)],
        seen_at=sent + timedelta(minutes=4),
        source="snapshot",
    )
    suspects_refresh()
    for action in (EMAIL_RESEND, COUNT):
        AuditEntry.objects.create(
            actor=user,
            actor_name=user.get_username(),
            action=action,
            order_number=8001,
            outcome=AuditEntry.Outcome.SUCCESS,
        )


def _get(client: Client, url: str, language: str, **query: str) -> Any:
    response = client.get(url, query, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, (url, response.status_code)
    return response


def _read(page: str, language: str) -> str:
    return html.unescape(visible_text(page, language))


def _text_mail(body: str) -> str:
    """A plain-text e-mail as the readable text of a page: its links (addresses, not sentences) left out."""
    return html.escape(re.sub(r"https?://\S+", " ", body))


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- The Reports page ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ["support", "merchant", "admin"])
def test_the_reports_page_as_each_role_shows_none_of_our_english(
    request: pytest.FixtureRequest, settings: Any, merchant_user: User, role: str, language: str
) -> None:
    _world(settings, merchant_user)
    client: Client = request.getfixturevalue(f"{role}_client")
    page = _get(client, PAGE, language, range="7d").content.decode()
    assert untranslated(page, language) == []
    text = _read(page, language)
    assert {"fr": "Téléchargements par jour", "it": "Download per giorno"}[language] in text
    assert {"fr": "Analyseurs de liens possibles", "it": "Possibili scanner di link"}[language] in text
    if role != "support":  # the at-limit bulk fix, and staff activity
        assert {"fr": "Accorder", "it": "Concedi"}[language] in text
        assert {"fr": "Activité de l'équipe", "it": "Attività del team"}[language] in text
    weekly = _get(client, PAGE, language, range="30d", period="week").content.decode()
    assert untranslated(weekly, language) == []
    assert {"fr": "Semaine du", "it": "Settimana dal"}[language] in _read(weekly, language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, {"fr": "« Au » est avant", "it": "“Al” è prima"}),
        ({"start": "2025-01-01", "end": "2026-03-01"}, {"fr": "au plus un an", "it": "al massimo un anno"}),
        ({"start": "2026-02-31", "end": "2026-03-01"}, {"fr": "n'est pas une date", "it": "non è una data"}),
        ({"start": "2026-03-01"}, {"fr": "Indiquez les deux jours", "it": "Indica entrambi i giorni"}),
    ],
)
def test_a_wrong_range_is_said_in_the_persons_language(
    merchant_client: Client, query: dict[str, str], said: dict[str, str], language: str
) -> None:
    page = _get(merchant_client, PAGE, language, **query).content.decode()
    assert untranslated(page, language) == []
    assert said[language] in _read(page, language)


def test_the_days_and_numbers_are_the_languages_own(merchant_client: Client) -> None:
    page = _get(merchant_client, PAGE, "fr", start="2026-03-01", end="2026-03-31").content.decode()
    assert "Du 1 mars 2026 au 31 mars 2026." in _read(page, "fr")
    page = _get(merchant_client, PAGE, "it", start="2026-03-08", end="2026-03-08").content.decode()
    assert "Il giorno 8 mar 2026." in _read(page, "it")


# --- A chart, a CSV ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_chart_speaks_the_page_language_and_its_address_carries_it(
    settings: Any, merchant_client: Client, merchant_user: User, language: str
) -> None:
    _world(settings, merchant_user)
    page = _get(merchant_client, PAGE, language, range="7d").content.decode()
    assert "/reports/downloads.svg?start=" in page and f"lang={language}" in page
    for name in ("downloads", "downloads-by-product", "never-emailed", "resends", "staff-per-person"):
        response = _get(merchant_client, f"/reports/{name}.svg", language, range="7d")
        assert untranslated(response.content.decode(), language) == [], name
        assert "Accept-Language" in response.get("Vary", "")
    empty = _get(
        merchant_client, "/reports/downloads-by-product.svg", language, start="2020-01-01", end="2020-01-02"
    )
    svg = empty.content.decode()
    assert {"fr": "Rien sur cette période", "it": "Niente in questo periodo"}[language] in svg
    month = _get(merchant_client, "/reports/downloads.svg", language, start="2026-03-01", end="2026-03-03")
    assert {"fr": "1 mars 2026", "it": "1 mar 2026"}[language] in month.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_csv_header_is_translated_and_its_cells_stay_as_a_spreadsheet_reads_them(
    settings: Any, merchant_client: Client, merchant_user: User, language: str
) -> None:
    _world(settings, merchant_user)
    for name in ("downloads", "at-limit", "suspects", "staff-activity", "never-emailed"):
        english = _csv(_get(merchant_client, f"/reports/{name}.csv", "en", range="7d"))
        translated = _csv(_get(merchant_client, f"/reports/{name}.csv", language, range="7d"))
        assert untranslated(" | ".join(translated[0]), language) == [], name
        assert translated[0] != english[0], name
        if name != "suspects" and name != "at-limit":  # their prose cells are sentences, said too
            assert translated[1:] == english[1:], name
    per_day = _csv(_get(merchant_client, "/reports/downloads.csv", language, range="today"))
    assert per_day[1][0] == timezone.localdate().isoformat() and per_day[1][1].isdigit()
    at_limit = _csv(_get(merchant_client, "/reports/at-limit.csv", language))
    assert at_limit[1][0][:4].isdigit() and "T" in at_limit[1][0]  # an ISO time


# --- Plurals, sentences ------------------------------------------------------------------------------


def test_figures_and_the_at_limit_button_take_their_plural_with_1_and_2(
    settings: Any, merchant_client: Client
) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = 3
    now = timezone.now()
    # Both sightings today, however soon after midnight the test runs (the figure is today's).
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    note_counts([_record("a", 0, 9001)], seen_at=midnight + (now - midnight) / 3, source="snapshot")
    note_counts([_record("a", 1, 9001)], seen_at=midnight + (now - midnight) * 2 / 3, source="snapshot")
    today = Span(timezone.localdate(), timezone.localdate(), timezone.get_current_timezone())
    said = {}
    for language in LANGUAGES:
        with translation.override(language):
            said[language, 1] = downloads_per_period(today).summary
    note_counts([_record("a", 3, 9001)], seen_at=now, source="snapshot")  # now 3: at its limit, 1 record
    for language in LANGUAGES:
        with translation.override(language):
            said[language, 3] = downloads_per_period(today).summary
    assert said["fr", 1].startswith("1 téléchargement le ")
    assert said["fr", 3].startswith("3 téléchargements le ")
    assert said["it", 1].startswith("1 download il giorno ")  # "download" is the same in the plural
    assert said["it", 3].startswith("3 download il giorno ") and "in 1 giorno." in said["it", 3]
    one = _read(_get(merchant_client, PAGE, "fr").content.decode(), "fr")
    assert "téléchargements de plus à 1 fiche : aperçu" in one
    note_counts([_record("b", 2, 9002)], seen_at=now, source="snapshot")
    two = _read(_get(merchant_client, PAGE, "fr").content.decode(), "fr")
    assert "téléchargements de plus à ces 2 fiches : aperçu" in two
    assert "1 fiche à la limite et 1 à un téléchargement de celle-ci" in two
    assert "download in più a questi 2 record: anteprima" in _read(
        _get(merchant_client, PAGE, "it").content.decode(), "it"
    )


def _suspect(downloads: int, minutes: int) -> Suspect:
    seen = timezone.now()
    return Suspect(
        download_id="r1",
        order_number=1,
        file_name="a.pdf",
        rule="email",
        downloads=downloads,
        evidence=(Evidence(seen_at=seen, count=downloads, delta=downloads),),
        since=seen - timedelta(minutes=minutes),
        minutes=minutes,
    )


def test_a_suspects_sentence_is_said_in_each_language_and_its_audit_reason_stays_english() -> None:
    with translation.override("fr"):
        assert _suspect(1, 1).sentence == (
            "1 téléchargement moins de 1 minute après l'e-mail : peut-être un analyseur de liens"
        )
        assert _suspect(2, 2).sentence.startswith("2 téléchargements moins de 2 minutes après")
        assert _suspect(2, 2).reason == "Possible link scanner: 2 downloads within 2 minutes of the e-mail"
    with translation.override("it"):
        assert _suspect(2, 1).sentence == "2 download entro 1 minuto dall'e-mail: forse uno scanner di link"
        assert _suspect(1, 2).reason == "Possible link scanner: 1 download within 2 minutes of the e-mail"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_give_backs_reason_kept_in_english_reads_in_the_readers_language(
    merchant_client: Client, merchant_user: User, language: str
) -> None:
    """The audit log, the undo confirmation and the order's history say the give-back's reason in the
    reader's language (they once showed "Possible link scanner: …" on French pages); the trail keeps it
    as written, and a reason a person typed is shown as typed."""
    reason = _suspect(3, 4).reason
    entry = AuditEntry.objects.create(
        actor=merchant_user, actor_name="mia-merchant", action=COUNT, order_number=1, download_id="r1",
        before={"download_count": 3}, after={"download_count": 0}, reason=reason, outcome="success",
    )
    AuditEntry.objects.create(
        actor=merchant_user, actor_name="mia-merchant", action=COUNT, order_number=1, download_id="r2",
        before={"download_count": 1}, after={"download_count": 0}, reason="Possible link scanner, ticket 9",
        outcome="success",
    )
    said = {
        "fr": "Analyseur de liens possible : 3 téléchargements moins de 4 minutes après l'e-mail",
        "it": "Possibile scanner di link: 3 download entro 4 minuti dall'e-mail",
    }[language]
    for url in ("/audit/", f"/audit/{entry.pk}/undo/"):
        page = _read(_get(merchant_client, url, language).content.decode(), language)
        assert said in page and reason not in page, url
        assert url != "/audit/" or "Possible link scanner, ticket 9" in page  # typed: as typed
    assert AuditEntry.objects.get(pk=entry.pk).reason == reason
    with translation.override(language):
        hourly = "Possible link scanner: 1,200 downloads within 40 minutes, more than the shop's 5 an hour"
        assert "1\u00a0200" in (reason_read(hourly) or "")  # grouped as the language groups it
        assert reason_read("Bot storm, ticket 4821") is None


# --- The digest, in its recipient's language ----------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_digest_is_written_in_its_recipients_language_subject_included(
    settings: Any, support_user: User, merchant_user: User, language: str
) -> None:
    settings.DASHBOARD_URL = "https://admin.example.com"
    _world(settings, merchant_user)
    support_user.email = "sam@example.com"
    support_user.save()
    StaffPreferences.objects.update_or_create(
        user=support_user, defaults={"digest_at": time(0, 0), "time_zone": "UTC", "language": language}
    )
    with translation.override("en"):  # the worker's own language is not the reader's
        assert digest.digest_send(user_id=support_user.pk, day=timezone.now().date()) is True
    [message] = mail.outbox
    subject = {"fr": "Résumé quotidien de Fileflare Admin", "it": "Riepilogo giornaliero di Fileflare Admin"}
    assert message.subject.startswith(subject[language])
    assert untranslated(message.subject, language) == []
    assert untranslated(_text_mail(message.body), language) == []
    page = message.alternatives[0][0]  # type: ignore[index]  # (content, mimetype)
    assert f'<html lang="{language}">' in page and untranslated(str(page), language) == []
    lines = {"fr": "Commande n° 8001, « manual.pdf » : 3 téléchargements moins de", "it": "Ordine n. 8001"}
    assert lines[language] in message.body


def test_the_digest_with_nothing_to_say_is_still_in_the_recipients_language(
    settings: Any, support_user: User
) -> None:
    support_user.email = "sam@example.com"
    support_user.save()
    StaffPreferences.objects.update_or_create(
        user=support_user, defaults={"digest_at": time(0, 0), "time_zone": "UTC", "language": "it"}
    )
    assert digest.digest_send(user_id=support_user.pk, day=timezone.now().date()) is True
    [message] = mail.outbox
    assert message.subject.startswith("Riepilogo giornaliero di Fileflare Admin, ")
    assert "Nessun cliente ha raggiunto il limite di download." in message.body
    assert untranslated(_text_mail(message.body), "it") == []


# --- The snapshots' Status section -----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_insights_status_sections_and_the_snapshots_last_error_in_the_readers_language(
    settings: Any, merchant_client: Client, language: str
) -> None:
    settings.SNAPSHOT_FULL_EVERY_SECONDS = 86400
    settings.SNAPSHOT_RECENT_EVERY_SECONDS = 3600
    now = timezone.now()
    with translation.override("en"):  # as the task worker (LANGUAGE_CODE en) kept it
        said = "The downloads API did not answer the snapshot in time; it will try again."
    CountSnapshots.objects.create(
        api=DOWNLOADS.identity(),
        full_page=3,
        full_records=200,
        full_started_at=now,
        recent_finished_at=now,
        last_error=said,
        last_error_at=now,
    )
    suspects_refresh()  # the suspects' scan and digest section beside it: "(0 bursts stored)"
    page = _get(merchant_client, "/status/", language).content.decode()
    for name in ("status-suspects-digest", "status-count-snapshots"):
        section = page[page.index(f'id="{name}"') :]
        section = section[: section.index("</section>")]
        assert untranslated(section, language) == [], name
    error = {
        "fr": "L'API des téléchargements n'a pas répondu à temps",
        "it": "L'API dei download non ha risposto",
    }
    assert error[language] in html.unescape(section)


def test_the_at_limit_bulk_fix_takes_n_as_a_french_person_types_it_and_its_reason_in_french(
    merchant_client: Client, make_record: Any, settings: Any
) -> None:
    settings.SHOP_DOWNLOAD_LIMIT = 3
    record = make_record(download_count=3)
    merchant_client.get("/downloads/", {"q": str(record["order_id"])})  # the list notes counts
    page = _get(merchant_client, PAGE, "fr").content.decode()
    form = page.split('id="at-limit-fix"', 1)[1].split("</form>", 1)[0]
    # A text box with the numeric keyboard: "1 000" may be typed (a number box refuses the space).
    assert 'id="at-limit-amount" type="text"' in form and 'inputmode="numeric"' in form
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    merchant_client.post("/jobs/new/", {**fields, "amount": "1 000"}, HTTP_ACCEPT_LANGUAGE="fr")
    job = BulkJob.objects.get()
    assert job.amount == 1000
    assert job.reason.startswith("Clients à leur limite de téléchargements ou tout près (Rapports, ")
