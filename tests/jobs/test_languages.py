"""Bulk fixes in French and Italian (issue 30): every page kind shows none of our English, counts take
their plural ("1 sur 3 traité", "2 sur 3 traités"), N and the count filter are typed the language's way,
the services' refusals speak the person's language, and what the task worker noted on an item (it has
no reader) is said when shown, in the reader's language, in the page and in the CSV."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from fileflare_admin.api import errors
from jobs import notes, services
from jobs.models import BulkJob, BulkJobItem
from tests.support.i18n import untranslated, visible_text

pytestmark = pytest.mark.django_db
LANGUAGES = ["fr", "it"]
Kind, State, Item = BulkJob.Kind, BulkJob.State, BulkJobItem.State
HTMX = {"HTTP_HX_REQUEST": "true"}


def _job(
    user: User, state: str, *, kind: str = Kind.COUNT_SET, amount: int | None = 2, **values: Any
) -> BulkJob:
    return BulkJob.objects.create(
        kind=kind,
        amount=amount,
        reason="Ticket 4821",
        selection={"order_numbers": [1050, 1051], "count_at_least": 3, "created_from": "2026-05-01"},
        created_by=user,
        created_by_name=user.get_username(),
        state=state,
        **values,
    )


def _items(job: BulkJob, *states_and_notes: tuple[str, dict[str, Any]]) -> None:
    for position, (state, said) in enumerate(states_and_notes, start=1):
        BulkJobItem.objects.create(
            job=job,
            position=position,
            download_id=f"rec{position}",
            order_number=1050,
            file_name="guide.pdf",
            count_before=5,
            count_after=2,
            state=state,
            said=said,
            note=notes.english(said),
        )


def _page(client: Client, name: str, language: str, **kwargs: Any) -> str:
    response = client.get(reverse(name, kwargs=kwargs), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_bulk_fix_page_shows_none_of_our_english(
    merchant_client: Client, merchant_user: User, language: str
) -> None:
    draft = _job(merchant_user, State.DRAFT)
    _items(draft, (Item.PENDING, {}), (Item.SKIPPED, notes.note("already", count=2)))
    running = _job(merchant_user, State.RUNNING, waiting_until=timezone.now() + timedelta(minutes=5))
    BulkJob.objects.filter(pk=running.pk).update(
        error_said=notes.note("unclear"), last_error="The upstream did not answer clearly."
    )
    _items(running, (Item.DONE, notes.note("set", count=2)), (Item.IN_FLIGHT, {}), (Item.PENDING, {}))
    finished = _job(merchant_user, State.DONE, kind=Kind.COUNT_GIVE, amount=1, finished_at=timezone.now())
    _items(
        finished,
        (Item.DONE, notes.note("set_checked", count=4)),
        (Item.SKIPPED, notes.note("changed_since_dry_run", count=9)),
        (Item.FAILED, notes.note("record_gone")),
        (Item.CANCELLED, notes.note("not_run")),
    )
    resend = _job(merchant_user, State.DONE, kind=Kind.EMAIL_RESEND, amount=None, finished_at=timezone.now())
    _items(resend, (Item.DONE, notes.note("sent", when=notes.moment(timezone.now()))))
    stalled = _job(merchant_user, State.QUEUED, step_due_at=timezone.now() - timedelta(minutes=5))
    _items(stalled, (Item.PENDING, {}))
    pages = {
        "list": _page(merchant_client, "jobs:list", language),
        "new": _page(merchant_client, "jobs:new", language),
        "dry run": _page(merchant_client, "jobs:detail", language, pk=draft.pk),
        "running": _page(merchant_client, "jobs:detail", language, pk=running.pk),
        "stalled": _page(merchant_client, "jobs:detail", language, pk=stalled.pk),
        "its poll": merchant_client.get(
            reverse("jobs:progress", kwargs={"pk": running.pk}), HTTP_ACCEPT_LANGUAGE=language, **HTMX
        ).content.decode(),
        "finished": _page(merchant_client, "jobs:detail", language, pk=finished.pk),
        "resend": _page(merchant_client, "jobs:detail", language, pk=resend.pk),
        "undo": _page(merchant_client, "jobs:undo", language, pk=finished.pk),
        "no undo": _page(merchant_client, "jobs:undo", language, pk=resend.pk),
        "filtered items": merchant_client.get(
            reverse("jobs:detail", kwargs={"pk": finished.pk}),
            {"state": "failed"},
            HTTP_ACCEPT_LANGUAGE=language,
        ).content.decode(),
    }
    for kind, page in pages.items():
        assert untranslated(page, language) == [], kind
    # The helper does see our English: the finished job's page in English.
    english = untranslated(_page(merchant_client, "jobs:detail", "en", pk=finished.pk), language)
    assert {"Download the result (CSV)", "Set to %(count)s (checked at the API)."} <= set(english), english
    finished_text = html.unescape(pages["finished"])
    said = {
        "fr": [
            "Fixé à 4 (vérifié auprès de l'API).",
            "Non exécuté : la tâche a été arrêtée.",
            "Accorder 1 téléchargement de plus",
        ],
        "it": [
            "Impostato a 4 (verificato presso l'API).",
            "Non eseguito: l'operazione è stata interrotta.",
            "Concedi 1 download in più",
        ],
    }[language]
    assert all(sentence.lower() in finished_text.lower() for sentence in said), said


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("fr", "1 sur 3 traité", "2 sur 3 traités"),
        ("it", "1 di 3 elaborato", "2 di 3 elaborati"),
    ],
)
def test_n_of_m_processed_takes_its_plural(
    merchant_client: Client, merchant_user: User, language: str, one: str, two: str
) -> None:
    job = _job(merchant_user, State.RUNNING)
    _items(job, (Item.DONE, notes.note("set", count=2)), (Item.PENDING, {}), (Item.PENDING, {}))
    first = visible_text(_page(merchant_client, "jobs:detail", language, pk=job.pk), language)
    assert one in first, first
    BulkJobItem.objects.filter(job=job, position=2).update(state=Item.FAILED)
    second = visible_text(_page(merchant_client, "jobs:list", language), language)
    assert two in second, second


@pytest.mark.parametrize(
    ("language", "amount", "at_least", "summary"),
    [
        ("fr", "1 536", "1.000", "Fixer le nombre de téléchargements à 1\xa0536"),
        ("it", "1.536", "1 000", "Imposta il numero di download a 1\xa0536"),
    ],
)
def test_n_and_the_count_filter_are_typed_the_languages_way(
    merchant_client: Client,
    make_records: Callable[..., list[dict[str, Any]]],
    new_order_number: Callable[[], int],
    language: str,
    amount: str,
    at_least: str,
    summary: str,
) -> None:
    number = new_order_number()
    make_records(number, [1200, 4])
    form = {
        "order_numbers": str(number),
        "action": Kind.COUNT_SET,
        "amount": amount,
        "count_at_least": at_least,
        "reason": "Ticket 4821",
    }
    response = merchant_client.post(reverse("jobs:new"), form, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 302, untranslated(response.content.decode(), language)
    job = BulkJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.amount == 1536 and job.selection["count_at_least"] == 1000
    assert [item.count_before for item in job.items.all()] == [1200]
    page = html.unescape(_page(merchant_client, "jobs:detail", language, pk=job.pk))
    assert summary.lower() in page.lower() and untranslated(page, language) == []
    dry_run = {"fr": "1 fiche à modifier", "it": "1 record da modificare"}[language]
    assert dry_run in visible_text(page, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_refusals_and_form_errors_are_in_the_persons_language(
    merchant_client: Client, merchant_user: User, language: str
) -> None:
    bad = merchant_client.post(
        reverse("jobs:new"),
        {"order_numbers": "Refund please 1050", "action": Kind.COUNT_GIVE, "amount": "", "reason": ""},
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    assert untranslated(bad, language) == []
    expected = {
        "fr": [
            "Ce ne sont pas des numéros de commande : “Refund”, “please”.",
            "Indiquez combien (N) pour cette action.",
        ],
        "it": [
            "Questi non sono numeri d'ordine: “Refund”, “please”.",
            "Indica quanti (N) per questa azione.",
        ],
    }[language]
    assert all(sentence in html.unescape(bad) for sentence in expected), expected
    job = _job(merchant_user, State.RUNNING)
    with translation.override(language):
        with pytest.raises(services.JobRefused) as refused:
            services.job_run(actor=merchant_user, job_id=job.pk)
        assert (
            refused.value.user_message
            == {
                "fr": f"La correction groupée n° {job.pk} a déjà été lancée (en cours).",
                "it": f"La correzione in blocco n. {job.pk} è già stata avviata (in corso).",
            }[language]
        )
    followed = merchant_client.post(reverse("jobs:run", kwargs={"pk": job.pk}), HTTP_ACCEPT_LANGUAGE=language)
    page = merchant_client.get(followed["Location"], HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert untranslated(page, language) == [] and refused.value.user_message in html.unescape(page)


def test_what_the_worker_noted_is_said_in_each_readers_language_and_time_zone(merchant_user: User) -> None:
    sent_at = datetime(2026, 12, 7, 9, 42, 7, tzinfo=UTC)
    said = notes.note("sent_elsewhere", when=notes.moment(sent_at, seconds=True))
    shown = {}
    for language in ("en", "fr", "it"):
        with translation.override(language), timezone.override("Europe/Paris"):
            shown[language] = notes.say(said)
    assert (
        shown["en"]
        == "Sent again by someone else since the dry run (7 Dec 2026, 10:42:07 CET); not sent twice."
    )
    assert shown["fr"].startswith("Renvoyé par quelqu'un d'autre depuis l'aperçu (7 déc. 2026, 10:42:07")
    assert shown["it"].startswith("Reinviato da qualcun altro dopo l'anteprima (7 dic 2026, 10:42:07")
    # The English kept on the row (logs, the admin) and a sentence made elsewhere, kept as it was.
    assert notes.english(notes.note("set", count=1536)) == "Set to 1,536."
    with translation.override("en"):
        refused = notes.text(errors.NotFound().user_message)  # an upstream's plain refusal, made in English
    with translation.override("fr"):
        assert notes.say(notes.text("Refusé par l'API.")) == "Refusé par l'API."
        french = translation.gettext(refused["values"]["text"])
        assert notes.say(refused) == french != refused["values"]["text"]
        assert notes.say(notes.note("set", count=1536)) == "Fixé à 1\xa0536."


@pytest.mark.parametrize(
    ("language", "header", "outcome"),
    [
        ("en", "position,order_number,download_id,file_name", "Done,Set to 2."),
        ("fr", "position,numéro de commande,ID de téléchargement,nom du fichier", "Effectué,Fixé à 2."),
        ("it", "posizione,numero d'ordine,ID download,nome del file", "Completato,Impostato a 2."),
    ],
)
def test_the_results_csv_speaks_the_downloaders_language_and_keeps_its_cells(
    merchant_client: Client, merchant_user: User, language: str, header: str, outcome: str
) -> None:
    job = _job(merchant_user, State.DONE, finished_at=timezone.now())
    _items(job, (Item.DONE, notes.note("set", count=2)))
    response = merchant_client.get(reverse("jobs:csv", kwargs={"pk": job.pk}), HTTP_ACCEPT_LANGUAGE=language)
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith(header), lines[0]
    assert f",{outcome}," in lines[1] and re.match(r"1,1050,rec1,guide\.pdf,,5,2,", lines[1]), lines[1]
