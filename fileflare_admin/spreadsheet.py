"""CSV a spreadsheet opens without running anything: the one writer every CSV export uses.

A cell whose text a spreadsheet could read as a formula (OWASP's "CSV injection") is prefixed with an
apostrophe, which shows the text as typed. Upstream text (a file name, a note) can hide the formula
behind what a spreadsheet skips or reads alike: leading spaces, new lines, a no-break space, invisible
characters, or the full-width equals, plus, minus and at (U+FF1D, U+FF0B, U+FF0D, U+FF20: NFKC reads them as
= + - @), which some spreadsheets take for the formula characters themselves.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator

FORMULA_STARTS = frozenset("=+-@")
_CONTROL_STARTS = frozenset("\t\r\n")


def _skipped(character: str) -> bool:
    """What a spreadsheet may pass over before a formula: whitespace of any script, control and
    invisible format characters (a zero-width space, a byte-order mark)."""
    return character.isspace() or unicodedata.category(character) in ("Cc", "Cf")


def csv_cell(value: object) -> str:
    """The text of one cell, prefixed with an apostrophe when a spreadsheet could run it as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in _CONTROL_STARTS:
        return f"'{text}"
    start = next((character for character in text if not _skipped(character)), "")
    if unicodedata.normalize("NFKC", start)[:1] in FORMULA_STARTS:
        return f"'{text}"
    return text


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Each row as one CSV line (cells through `csv_cell`), for a streaming download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(value) for value in row])
        yield buffer.getvalue()
