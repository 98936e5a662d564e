"""Replies in the customer's language (issue 30.3), as pure functions: the default wording in each
language keeps its {placeholders}, and the sentences, numbers and dates the reply fills in follow the
reply's language, not the active (staff's) one."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest
from django.utils import translation

from orders.diagnosis import CountFix
from orders.reply_text import (
    DEFAULT_REPLIES,
    RecentChanges,
    default_reply,
    reply_language,
    support_reply,
    unknown_placeholders,
)
from tests.unit.test_diagnosis import STATUS_LINK, item, order, view

LANGUAGES = ["en", "fr", "it"]
ORDERED = datetime(2026, 12, 7, 9, 42, tzinfo=UTC)


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{([^{}]*)\}", text))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_default_reply_in_every_language_fills_the_same_placeholders_as_english(language: str) -> None:
    for situation in DEFAULT_REPLIES:
        english = default_reply(situation, "en")
        translated = default_reply(situation, language)
        assert unknown_placeholders(translated) == []
        assert _placeholders(translated) == _placeholders(english), (language, situation)
        if language != "en":
            assert translated != english, (language, situation)  # written, not left in English


def test_the_reply_is_written_in_its_language_whatever_the_staff_member_reads() -> None:
    customer = view(item("Planner", 8, 10), item("Free", 1, None, url="https://x.example/f"))
    with translation.override("fr"):  # a French support person
        italian = support_reply(order=order(), customer=customer, status_link=STATUS_LINK, language="it",
                                template=default_reply("ready", "it"))
        french = support_reply(order=order(), customer=customer, language="fr",
                               template=default_reply("ready", "fr"))
        assert translation.get_language() == "fr"  # the page goes on in the staff's language
    assert italian.startswith("Ciao,") and "ordine n. 1013" in italian
    assert "- Planner (2 download rimasti)" in italian
    assert "- Free: https://x.example/f (download illimitati)" in italian
    assert f"dalla pagina del tuo ordine: {STATUS_LINK}" in italian
    assert "Bonjour" not in italian and "Hello" not in italian
    assert french.startswith("Bonjour,") and "commande n° 1013" in french
    assert "- Planner (2 téléchargements restants)" in french
    assert "depuis la page de votre commande sur la boutique" in french


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("en", "(1 download left)", "(2 downloads left)"),
        ("fr", "(1 téléchargement restant)", "(2 téléchargements restants)"),
        ("it", "(1 download rimasto)", "(2 download rimasti)"),
    ],
)
def test_downloads_left_take_the_plural_of_the_replys_language(language: str, one: str, two: str) -> None:
    text = support_reply(order=order(), customer=view(item("A", 9, 10), item("B", 8, 10)), language=language)
    assert f"- A {one}" in text and f"- B {two}" in text


@pytest.mark.parametrize(
    ("language", "date", "count"),
    [("en", "7 Dec 2026", "1,536"), ("fr", "7 déc. 2026", "1\u202f536"), ("it", "7 dic 2026", "1\u202f536")],
)
def test_dates_and_numbers_in_a_reply_are_the_replys_language(language: str, date: str, count: str) -> None:
    ordered = dataclasses.replace(order(), ordered_at=ORDERED)
    template = "{order_date}\n{files}"
    with translation.override("en"):
        text = support_reply(order=ordered, customer=view(item("Big", 0, 1536)), template=template,
                             language=language)
    first, files = text.split("\n", 1)
    assert first == date
    assert count.replace("\u202f", " ") in files.replace("\u202f", " ").replace("\u00a0", " ")


def test_the_files_just_fixed_are_named_and_joined_in_the_replys_language() -> None:
    recent = RecentChanges(fixed_files=("Planner", "Book"))
    french = support_reply(order=order(), customer=None, recent=recent, situation="downloads_reset",
                           language="fr", template=default_reply("downloads_reset", "fr"))
    assert "vos téléchargements de «\u00a0Planner\u00a0» et «\u00a0Book\u00a0»" in french
    italian = support_reply(order=order(), customer=None, recent=recent, situation="downloads_reset",
                            language="it", template=default_reply("downloads_reset", "it"))
    assert "i tuoi download di “Planner” e “Book”" in italian


def test_a_reply_language_is_one_the_dashboard_speaks_else_the_staff_members_else_the_shops() -> None:
    assert reply_language("it", default="fr") == "it"
    assert reply_language("fr-CA", default="en") == "fr"
    assert reply_language("de", default="fr") == "fr"
    assert reply_language("", default="it-IT") == "it"
    assert reply_language("<script>", default="xx") == "en"  # LANGUAGE_CODE in the tests


@pytest.mark.parametrize(
    ("language", "reset", "give_one", "give_two"),
    [
        ("en", "Reset to 0", "Give 1 more download", "Give 2 more downloads"),
        ("fr", "Remettre à 0", "Accorder 1 téléchargement de plus", "Accorder 2 téléchargements de plus"),
        ("it", "Azzera", "Concedi 1 download in più", "Concedi altri 2 download"),
    ],
)
def test_the_fix_buttons_label_is_the_staff_members_language(
    language: str, reset: str, give_one: str, give_two: str
) -> None:
    with translation.override(language):
        assert CountFix("P", 10, 10, (("r1", 10, 0),)).label == reset
        assert CountFix("P", 10, 10, (("r1", 10, 9),)).label == give_one
        assert CountFix("P", 10, 10, (("r1", 10, 8),)).label == give_two


# --- The diagnosis speaks the staff member's language ----------------------------------------------
@pytest.mark.parametrize("language", ["fr", "it"])
def test_every_finding_and_its_evidence_is_in_the_staff_members_language(language: str) -> None:
    from downloads.limits import KnownLimit
    from orders.diagnosis import ReadAt, diagnose
    from tests.support.i18n import untranslated
    from tests.unit.test_diagnosis import SENT, asset, record

    read = ReadAt(order=SENT, customer=SENT, records=SENT)
    learned = KnownLimit(10, "learned", order_number=1049, seen_at=datetime(2025, 12, 29, tzinfo=UTC))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with translation.override(language):
        findings = [
            *diagnose(order=order(sent=False), customer=view(item("Planner", 10, 10), item("Free", 0, None)),
                      customer_known=True, records=[record("Planner", 10)], read_at=read),
            *diagnose(order=order(sent=False), customer=view(item("Planner", 10, 10)), customer_known=True,
                      records=None, read_at=read),
            *diagnose(order=order(), customer=None, customer_known=False,
                      records=[record("Planner", 10), record("Planner", 2, "r2")], max_count_step=0,
                      known_limits={"planner": learned}, read_at=read, now=now),
            *diagnose(order=order(), customer=None, customer_known=False, records=[record("Planner", 3)],
                      known_limits={"planner": KnownLimit(5, "shop_default")}, complaint="limit", now=now),
            *diagnose(order=order(), customer=None, customer_known=False, records=[record("Planner", 3)],
                      complaint="limit", now=now),
            *diagnose(order=order(assets=(asset("Odd", url="ftp://x", link=True),)), customer=view(),
                      customer_known=True),
            *diagnose(order=order(), customer=view(item("Planner", 1, 10)), customer_known=True),
        ]
        texts = [finding.text for finding in findings]
        texts += [f"{seen.source}: {seen.facts}" for finding in findings for seen in finding.evidence]
        texts += [finding.fix.label for finding in findings if finding.fix is not None]
    assert len(findings) >= 8
    for text in texts:
        assert untranslated(f"<p>{text}</p>", language) == [], text
