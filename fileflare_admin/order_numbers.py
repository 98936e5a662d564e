"""Order-number text as people write it: the one parser behind the search box, the records list's
"#1050" search, the numbers pasted into a bulk fix and the numbers a link pre-fills (pure: no upstream).

An order number is a whole number. The text may label it ("#1050", "order 1050", "order:1050",
"Order No. 1,050", "nr 1050"), in French or Italian too ("commande n° 1050", "ordine n. 1050",
"numéro 1050"), group its thousands with commas ("1,050") or, once labelled, as French and Italian
write them ("commande n° 1 050", "ordine n. 1.050"; a bare "1 050" or "1.050" is not read), and write
its digits in any script (`\\d`: Arabic-Indic or full-width digits read as their values). It has at
most MAX_DIGITS digits: every such number fits the 64-bit integer (BigIntegerField) order numbers are
kept in — Shopify's order numbers (Fileflare's `order_number`) and the downloads API's int(11)
`order_id` both do. A longer run of digits is not an order number (a download record ID, a SKU). 0 and
negative numbers are read, so a caller can say that no order has them; `parse_order_number` takes only 1
and more.

Where the number leads (the order's Fileflare ID) is orders.identity's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_DIGITS = 18  # 10**18 - 1 < 2**63 - 1: any number this long fits a BigIntegerField
# "1050", "1,050", "-3": a whole number, optionally with thousands separators; after a label, grouped
# as French and Italian write them too: "1 050" (any one space), "1.050".
_GROUPED = r"(-?\d{1,3}(?:[,.\u0020\u00a0\u202f\u2009]\d{3})+|-?\d+)"
_LOCAL_MARKS = re.compile(r"[.\u0020\u00a0\u202f\u2009]")
# "No.", "nr", "n°"/"nº" and "n." (French and Italian), "number", "numéro", "numero".
_NO = r"(?:number|num[eé]ro|no\.?|nr\.?|n\s*[°º]|n\.)"
_ORDER = r"(?:order|commande|ordine)"
_LABEL = rf"(?:{_ORDER}\s*(?:{_NO}|#)?|{_NO})"
# The whole text is a number, with an optional label: "order 1050", "Order #1,050", "no. 1050", "#1050".
_WHOLE = re.compile(rf"({_LABEL})?\s*:?\s*(#)?\s*{_GROUPED}", re.I)
# A number inside longer text counts only when the text says it is an order's: "order #1050", "#1050".
_INSIDE = re.compile(
    rf"(?:\b{_ORDER}\s*(?:{_NO})?\s*:?\s*#?\s*|#\s*)" + _GROUPED + r"(?![\d,]*\d)", re.I
)


@dataclass(frozen=True)
class OrderNumberText:
    value: int  # 0 or less: a number no order can have
    labelled: bool  # the text says it is an order's number ("#1050", "order 1050"), not digits alone


def _value(number: str) -> int | None:
    plain = re.sub(r"[^\d-]", "", number)
    return int(plain) if len(plain.lstrip("-")) <= MAX_DIGITS else None


def read_order_number(text: str | None) -> OrderNumberText | None:
    """The whole text (spaces around it aside) as an order number, labelled or not; None when it is
    anything else, or has more than MAX_DIGITS digits."""
    match = _WHOLE.fullmatch((text or "").strip())
    value = _value(match.group(3)) if match else None
    if match is None or value is None:
        return None
    labelled = bool(match.group(1) or match.group(2))
    if not labelled and _LOCAL_MARKS.search(match.group(3)):
        return None  # "1 050" or "1.050" alone: two numbers, a version, a price; not read as an order's
    return OrderNumberText(value, labelled=labelled)


def find_order_number(text: str) -> OrderNumberText | None:
    """The first order number longer text labels as one ("Hi, order #1013: I can't download…")."""
    match = _INSIDE.search(text)
    value = _value(match.group(1)) if match else None
    return OrderNumberText(value, labelled=True) if value is not None else None


def parse_order_number(text: str | None) -> int | None:
    """An order number a person typed, bare or labelled ("1050", "#1050", "order 1050"): 1 or more;
    None for anything else."""
    read = read_order_number(text)
    return read.value if read is not None and read.value > 0 else None
