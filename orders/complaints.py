"""What a ticket complains about, read from its words (pure: no request, no database).

The one home of the complaint vocabulary: each complaint with its phrases in English, French and
Italian (the vendor writes its documents in both), and the short label the order page's chip shows.
The search box reads it from the ticket (`complaint_in`), passes it to the order page as
`?complaint=<value>` (`parse_complaint` reads it back), and the page puts the findings of that kind
first (`orders.diagnosis.diagnose`, by each finding's `topic`).

Reading is forgiving the way tickets are written: any case, accents optional ("recu" is "reçu"),
typographic or straight apostrophes, or none ("didn't", "didnt"), "e-mail", "e mail" or "email".
When a ticket names several complaints, the one it names first wins.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, get_args

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# What a ticket complains of: the values of the order page's `?complaint=`.
Complaint = Literal["limit", "expired", "no_email", "wrong_file", "missing_file"]
COMPLAINTS: tuple[Complaint, ...] = get_args(Complaint)

# What the chip says after "Ticket says: " (in the page's language; the phrases below are read in all three).
LABELS: dict[Complaint, Promise] = {
    "limit": _("limit reached"),
    "expired": _("link expired"),
    "no_email": _("no e-mail received"),
    "wrong_file": _("wrong file"),
    "missing_file": _("missing file"),
}


def parse_complaint(value: str | None) -> Complaint | None:
    """A `?complaint=` value; None for a missing or unknown one (never an error: it only steers)."""
    said = (value or "").strip().lower()
    return next((known for known in COMPLAINTS if known == said), None)


# Each complaint's phrases by language, written as people write them; accents and apostrophes are
# made optional when the patterns are built, so each phrase is listed once.
PHRASES: dict[Complaint, dict[str, tuple[str, ...]]] = {
    "limit": {
        "en": (
            "limit reached",
            "reached the limit",
            "reached my limit",
            "download limit",
            "limit exceeded",
            "exceeded the limit",
            "used up",
            "too many downloads",
            "no downloads left",
            "no more downloads",
            "maximum number of downloads",
            "max downloads",
        ),
        "fr": (
            "limite atteinte",
            "limite de téléchargement",
            "limite de téléchargements",
            "limite dépassée",
            "atteint la limite",
            "nombre maximum de téléchargements",
            "plus de téléchargements",
            "téléchargements épuisés",
        ),
        "it": (
            "limite raggiunto",
            "limite raggiunta",
            "raggiunto il limite",
            "limite di download",
            "limite superato",
            "download esauriti",
            "troppi download",
            "numero massimo di download",
        ),
    },
    "expired": {
        "en": ("expired", "has expired", "link expired", "no longer valid", "no longer works"),
        "fr": ("expiré", "expirée", "lien expiré", "a expiré", "n'est plus valide"),
        "it": ("scaduto", "scaduta", "link scaduto", "è scaduto", "non è più valido"),
    },
    "no_email": {
        "en": (
            "no e-mail",
            "no mail",
            "didn't receive",
            "did not receive",
            "didn't get",
            "did not get",
            "haven't received",
            "have not received",
            "never received",
            "never got",
            "not received",
            "email never arrived",
            "e-mail never came",
        ),
        "fr": (
            "pas reçu",
            "jamais reçu",
            "rien reçu",
            "aucun e-mail",
            "aucun mail",
            "aucun courriel",
            "pas d'e-mail",
            "pas de mail",
            "pas de courriel",
            "e-mail n'est pas arrivé",
        ),
        "it": (
            "non ricevuto",
            "non ho ricevuto",
            "mai ricevuto",
            "nessuna e-mail",
            "nessuna mail",
            "e-mail non è arrivata",
            "mail non arrivata",
        ),
    },
    "wrong_file": {
        "en": (
            "wrong file",
            "wrong download",
            "incorrect file",
            "wrong version",
            "wrong book",
            "not the file",
        ),
        "fr": ("mauvais fichier", "fichier erroné", "pas le bon fichier", "mauvaise version"),
        "it": ("file sbagliato", "file errato", "file non corretto", "non è il file", "versione sbagliata"),
    },
    "missing_file": {
        "en": (
            "missing file",
            "file missing",
            "file is missing",
            "files are missing",
            "missing files",
            "no file",
            "no files",
            "nothing to download",
            "file not there",
        ),
        "fr": ("fichier manquant", "fichiers manquants", "il manque", "aucun fichier", "rien à télécharger"),
        "it": ("file mancante", "file mancanti", "manca il file", "mancano i file", "nessun file"),
    },
}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})


def normalized(text: str) -> str:
    """Lower case, without accents, with one kind of apostrophe and single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.split())


def _pattern(phrase: str) -> str:
    """A phrase as a regex over normalized text: its apostrophes optional, "e-mail" also "e mail" or
    "email", whole words only."""
    parts = []
    for ch in normalized(phrase):
        if ch == "'":
            parts.append("'?")
        elif ch == "-":
            parts.append("[- ]?")
        elif ch == " ":
            parts.append(" ")
        else:
            parts.append(re.escape(ch))
    return r"(?<!\w)" + "".join(parts) + r"(?!\w)"


_MATCHERS: tuple[tuple[Complaint, re.Pattern[str]], ...] = tuple(
    (
        complaint,
        re.compile("|".join(_pattern(phrase) for phrases in languages.values() for phrase in phrases)),
    )
    for complaint, languages in PHRASES.items()
)


def complaint_in(text: str | None) -> Complaint | None:
    """The complaint the ticket's text names first; None when it names none."""
    plain = normalized(text or "")[:5000]
    found: list[tuple[int, int, Complaint]] = []
    for order, (complaint, matcher) in enumerate(_MATCHERS):
        match = matcher.search(plain)
        if match:
            found.append((match.start(), order, complaint))
    return min(found)[2] if found else None
