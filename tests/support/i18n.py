"""English left on a French or Italian page: the msgids of OUR catalogue (locale/<lang>/LC_MESSAGES/
django.po) that appear, untranslated, in the text a person reads.

    from tests.support.i18n import untranslated
    assert untranslated(response.content.decode(), "fr") == []

For the marking lanes (after marking a page, its French and Italian render shows none of our English) and
the browser walk (`untranslated(page.content(), "it")`). It knows only our catalogue: English that was
never marked is not found here (makemessages finds that: tests/i18n/test_catalogues.py), nor are
Django's own strings.

What counts as read: text nodes (visually hidden ones too: a screen reader says them) and the attributes
a person meets: title, placeholder, aria-label, alt, and the value of a button or submit input. Not read:
<script>, <style>, <template>, and any element in another language than the page (`lang="en"` on the
picker's "English", on a customer's name or a file name quoted as it is).

The rule, so a French or Italian sentence is not taken for English:
- an entry whose translation is the msgid itself ("Fileflare Admin", "Support", "API") is skipped;
- a msgid is cut at its placeholders (%(count)s, %s) and HTML tags: each piece of two words or more
  is looked for, case-sensitively, between word boundaries ("Search orders", "change your time zone");
  a piece the language's own translations write too ("in Fileflare" in Italian) is not looked for;
- a one-word msgid ("Orders", "Save") is looked for only if it has 5 letters or more and is no word of
  the page's catalogue (any msgstr) nor of SHARED_WORDS: "Main" (la main), "Type", "Total", "Date",
  "Note", "Image", "Version", "Description" are words of French or Italian too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[2] / "locale"
# One-word msgids that are also words in French or Italian: never reported alone. (A loanword a translation
# uses, "download" in Italian, is found in the catalogue's msgstrs and skipped for that language only.)
SHARED_WORDS = frozenset(
    word.casefold()
    for word in [
        "Description", "Date", "Format", "Image", "Note", "Page", "Question", "Stop", "Total", "Type",
        "Version", "Action", "Actions", "Message", "Position", "Options", "Option", "Service",
        "Source", "Solution", "Test", "Article", "Minute", "Minutes", "Performance", "Simple", "Normal",
    ]
)
MIN_SINGLE_WORD = 5
# Where a msgid is cut: its placeholders and, in a blocktranslate's msgid, its HTML tags.
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[sdifr%]|<[^>]+>")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_SKIPPED_TAGS = frozenset({"script", "style", "template", "noscript"})
_READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# A sentence never runs from one of these into the next (an h1 "Record di download" before a dt "ID download"
# is not the English "download ID"): untranslated() looks for a msgid inside one block's text only.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "button", "caption", "dd", "details", "div", "dl",
        "dt", "fieldset", "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "label", "legend", "li", "main", "nav", "ol", "option", "p", "pre", "section", "select", "summary",
        "table", "td", "textarea", "th", "title", "tr", "ul",
    }
)
_BOUNDARY = "\x00"
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


class _VisibleText(HTMLParser):
    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.pieces: list[str] = []

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        lang = values.get("lang", "").split("-")[0].casefold()
        skipped = (
            self._skipping()
            or tag in _SKIPPED_TAGS
            or (tag != "html" and bool(lang) and lang != self.language)
            or values.get("translate") == "no"
        )
        if tag in _BLOCKS:
            self.pieces.append(_BOUNDARY)
        if not skipped:
            for name in _READ_ATTRIBUTES:
                if values.get(name):
                    self.pieces.extend((_BOUNDARY, values[name], _BOUNDARY))
            if tag == "button" or (tag == "input" and values.get("type") in ("submit", "button", "reset")):
                self.pieces.extend((_BOUNDARY, values.get("value", ""), _BOUNDARY))
        if tag not in _VOID:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.pieces.append(_BOUNDARY)
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.pieces.append(data)


def visible_text(html: str, language: str, *, blocks: bool = False) -> str:
    """What a person reads on the page (see the module's docstring), whitespace collapsed. `blocks`: each
    block's text (a heading, a paragraph, a cell, an attribute) kept apart by a NUL."""
    parser = _VisibleText(language)
    parser.feed(html)
    parser.close()
    pieces = parser.pieces if blocks else [piece for piece in parser.pieces if piece != _BOUNDARY]
    return " ".join(" ".join(pieces).split())


@lru_cache(maxsize=4)
def _catalogue(language: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(msgid, its English pieces to look for) for each entry worth looking for."""
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    words = {word.casefold() for entry in po for text in _msgstrs(entry) for word in _WORD.findall(text)}
    # Every translation at once, so a piece the language itself writes ("in Fileflare" in Italian) is
    # not taken for English.
    written = "\n".join(" ".join(text.split()) for entry in po for text in _msgstrs(entry))
    looked_for = []
    for entry in po:
        if entry.obsolete or not entry.msgid:
            continue
        if any(text == entry.msgid or text == entry.msgid_plural for text in _msgstrs(entry)):
            continue
        pieces = _pieces(entry.msgid, words)
        if entry.msgid_plural:
            pieces += _pieces(entry.msgid_plural, words)
        pieces = [piece for piece in pieces if not re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", written)]
        if pieces:
            looked_for.append((entry.msgid, tuple(pieces)))
    return tuple(looked_for)


def _msgstrs(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def _pieces(msgid: str, words: set[str]) -> list[str]:
    cut = [" ".join(piece.split()) for piece in _PLACEHOLDER.split(msgid)]
    long_pieces = [piece for piece in cut if len(_WORD.findall(piece)) >= 2]
    if long_pieces:
        return long_pieces
    single = [piece.strip(" .,:;!?()«»“”\"'") for piece in cut if piece.strip()]
    return [
        word
        for word in single
        if _WORD.fullmatch(word)
        and len(word) >= MIN_SINGLE_WORD
        and word.casefold() not in words
        and word.casefold() not in SHARED_WORDS
    ]


_PATH = re.compile(r"(?<![\w/])/[\w./-]+")


def untranslated(html: str, language: str) -> list[str]:
    """The msgids of our catalogue whose English shows in the page's readable text, in catalogue order."""
    # An address quoted on the page (an API route "/v1/orders", a path) is no English sentence of ours.
    text = _PATH.sub(" ", visible_text(html, language, blocks=True))
    found = []
    for msgid, pieces in _catalogue(language):
        if any(re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text) for piece in pieces):
            found.append(msgid)
    return found
