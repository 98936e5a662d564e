"""What a ticket complains about, read from its words in English, French and Italian
(orders/complaints.py holds the vocabulary; the search box reads it beside the order number)."""

import pytest

from orders.classify import classify_query
from orders.complaints import COMPLAINTS, LABELS, PHRASES, Complaint, complaint_in, parse_complaint

LIMIT, EXPIRED, NO_EMAIL, WRONG, MISSING = COMPLAINTS


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        ("Hi, I bought order #1050 and my download link says limit reached", LIMIT),
        ("I hit the download limit", LIMIT),
        ("My downloads are all used up.", LIMIT),
        ("The link has EXPIRED", EXPIRED),
        ("I got no e-mail after buying", NO_EMAIL),
        ("no email yet", NO_EMAIL),
        ("I didn't receive anything", NO_EMAIL),
        ("I didn\u2019t receive anything", NO_EMAIL),  # a typographic apostrophe
        ("I didnt receive anything", NO_EMAIL),  # none at all
        ("Wrong file in my order", WRONG),
        ("there is a missing file", MISSING),
    ],
)
def test_english_tickets(ticket: str, expected: Complaint) -> None:
    assert complaint_in(ticket) == expected


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        ("Bonjour, commande n° 1050 : limite atteinte", LIMIT),
        ("LIMITE ATTEINTE", LIMIT),
        ("j'ai atteint la limite de téléchargements", LIMIT),
        ("limite de telechargement", LIMIT),  # accents optional
        ("Le lien expiré ne marche pas", EXPIRED),
        ("lien expire", EXPIRED),
        ("Je n'ai pas reçu le fichier", NO_EMAIL),
        ("je n\u2019ai PAS RECU mon e-mail", NO_EMAIL),
        ("pas d\u2019e-mail depuis hier", NO_EMAIL),
        ("C'est le mauvais fichier", WRONG),
        ("fichier manquant dans la commande", MISSING),
    ],
)
def test_french_tickets(ticket: str, expected: Complaint) -> None:
    assert complaint_in(ticket) == expected


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        ("Ordine n. 1050: limite raggiunto", LIMIT),
        ("ho raggiunto il limite di download", LIMIT),
        ("Il link scaduto non funziona", EXPIRED),
        ("il link è scaduto", EXPIRED),
        ("il link e scaduto", EXPIRED),  # accents optional
        ("Non ho ricevuto l\u2019e-mail", NO_EMAIL),
        ("NON RICEVUTO", NO_EMAIL),
        ("mi avete mandato il file sbagliato", WRONG),
        ("c'è un file mancante", MISSING),
    ],
)
def test_italian_tickets(ticket: str, expected: Complaint) -> None:
    assert complaint_in(ticket) == expected


@pytest.mark.parametrize(
    "ticket", ["", None, "Order #1050", "refund please", "I can't download", "limited edition", "unlimited"]
)
def test_a_ticket_naming_no_complaint_has_none(ticket: str | None) -> None:
    assert complaint_in(ticket) is None


def test_the_complaint_named_first_wins() -> None:
    assert complaint_in("I never received the e-mail, and now the link expired") == NO_EMAIL
    assert complaint_in("link expired, and I never received the e-mail") == EXPIRED


@pytest.mark.parametrize(
    ("complaint", "phrase"),
    [
        (complaint, phrase)
        for complaint, languages in PHRASES.items()
        for phrases in languages.values()
        for phrase in phrases
    ],
)
def test_every_phrase_of_the_vocabulary_reads_as_its_own_complaint(complaint: Complaint, phrase: str) -> None:
    assert complaint_in(phrase) == complaint
    assert complaint_in(f"Hello. {phrase.upper()}!") == complaint


def test_each_complaint_has_a_label_and_phrases_in_three_languages() -> None:
    assert COMPLAINTS == ("limit", "expired", "no_email", "wrong_file", "missing_file")
    assert LABELS[LIMIT] == "limit reached"
    for complaint in COMPLAINTS:
        assert LABELS[complaint] and set(PHRASES[complaint]) == {"en", "fr", "it"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("limit", LIMIT),
        ("no_email", NO_EMAIL),
        (" Missing_File ", MISSING),
        ("", None),
        (None, None),
        ("x", None),
    ],
)
def test_a_complaint_parameter_is_read_back_and_an_unknown_one_ignored(
    value: str | None, expected: Complaint | None
) -> None:
    assert parse_complaint(value) == expected


@pytest.mark.parametrize(
    ("ticket", "number", "complaint"),
    [
        ("Hi, I bought order #1050 and my download link says limit reached", "1050", LIMIT),
        ("Bonjour, commande n° 1050 : limite atteinte", "1050", LIMIT),
        ("commande n°1050, pas reçu", "1050", NO_EMAIL),
        ("Ma commande numéro 1,050 : fichier manquant", "1050", MISSING),
        ("Ordine n. 1050: limite raggiunto", "1050", LIMIT),
        ("ordine numero 1050 — link scaduto", "1050", EXPIRED),
        ("ordine 1050 file sbagliato", "1050", WRONG),
        ("#1050 didn\u2019t receive", "1050", NO_EMAIL),
    ],
)
def test_the_search_box_reads_the_number_and_the_complaint_together(
    ticket: str, number: str, complaint: Complaint
) -> None:
    query = classify_query(ticket)
    assert (query.kind, query.value, query.complaint) == ("number", number, complaint)
