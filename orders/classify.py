"""What a ticket's text is: an order number, an order ID, a status link or token, a download record,
a file, a person, and what it complains about (classify_query). Pure: no upstream is asked."""

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from fileflare_admin.order_numbers import find_order_number, read_order_number
from orders.complaints import Complaint, complaint_in

QueryKind = Literal[
    "empty",
    "number",  # a shop order number, 1 or more
    "no_such_number",  # 0 or a negative number: no order can have it
    "order_id",  # a Fileflare order UUID (canonical, lower case)
    "token",  # the 32 hex characters of a customer's order-status link (lower case)
    "order_id_or_token",  # a bare 32-hex that could be either: the search decides by asking
    "download_id",
    "file",  # a download link or a file name the customer pasted
    "email",  # an e-mail address: Fileflare's API cannot search by it
    "person_name",  # words that may be a customer's name (or a file's): tried as a file name first
    "unknown",
]

# Characters a ticket wraps an id in, and the punctuation a sentence ends it with.
_WRAPPERS = "\"'`“”\u2018\u2019„«»\u2039\u203a()[]{}<>"  # curly single quotes and angle quotes too
_TRAILING = ".,;:!?…"
_UUID = re.compile(
    r"(?<![0-9a-f])([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})(?![0-9a-f])", re.I
)
_HEX32 = re.compile(r"(?<![0-9a-z])[0-9a-f]{32}(?![0-9a-z])", re.I)
_HEX45 = re.compile(r"(?<![0-9a-z])[0-9a-f]{45}(?![0-9a-z])", re.I)
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+/orders/\S+", re.I)
# A customer's order-status link: …/orders/<32 hex>, whatever follows (/authenticate?key=…, #top).
_STATUS_PATH = re.compile(r"/orders/([0-9a-f]{32})(?![0-9a-z])", re.I)
# Words that make a bare 32-hex an order ID ("order id 82664d96…") or a token ("status link token …").
_ORDER_ID_WORDS = re.compile(r"\b(?:order[\s_-]*id|uuid|fileflare\s+id)\b", re.I)
_TOKEN_WORDS = re.compile(r"\b(?:token|status|link)\b", re.I)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.I)
# The kinds of files shops sell: a text ending in one of these is a file name ("My book.pdf").
FILE_EXTENSIONS = (
    "pdf", "epub", "mobi", "azw3", "zip", "rar", "7z", "mp3", "m4a", "m4b", "wav", "flac", "aac", "ogg",
    "mp4", "mov", "m4v", "avi", "mkv", "png", "jpg", "jpeg", "gif", "svg", "webp", "psd", "ai", "eps",
    "tif", "tiff", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "txt", "csv", "rtf", "ttf", "otf",
    "woff", "stl", "obj", "dwg", "procreate", "brushset", "abr", "xmp", "lrtemplate", "cube", "dng",
    "exe", "dmg", "apk",
)
_EXTENSION = r"\.(?:" + "|".join(FILE_EXTENSIONS) + r")"
_NOT_IN_A_NAME = "\\s\"'“”«»()<>\\[\\]/\\\\"  # spaces, quotes, brackets and slashes
_FILE_NAME = re.compile(r"[^\n\r/\\()<>\[\]\"“”«»]{1,200}" + _EXTENSION, re.I)
# A file name inside a sentence ("I got Planner-2026.pdf twice"): the word that ends in an extension.
FILE_WORD = re.compile(rf"(?<![^\s\"'“”«»(<\[/\\])[^{_NOT_IN_A_NAME}]+{_EXTENSION}\b", re.I)
_DOWNLOAD_PATH = re.compile(rf"/downloads?/|{_EXTENSION}$", re.I)
# Two to four capitalized words, letters only: "Jane Doe", "Marie-Claire Dupont", "Seán O'Brien".
_PERSON_NAME = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


@dataclass(frozen=True)
class Query:
    kind: QueryKind
    value: str
    # What the ticket complains about, read beside its number (orders.complaints); steers the page.
    complaint: Complaint | None = field(default=None, compare=False)


def _unwrap(text: str) -> str:
    """The text without the spaces, quotes and brackets around it and the punctuation after it."""
    previous = None
    while previous != text:
        previous = text
        text = text.strip().strip(_WRAPPERS).rstrip(_TRAILING)
    return text


def dashed(hex32: str) -> str:
    h = hex32.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _looks_like_uuid4(hex32: str) -> bool:
    """The version and variant digits every UUID Fileflare makes carries (4, and 8/9/a/b)."""
    return hex32[12] == "4" and hex32[16].lower() in "89ab"


def _number_query(value: int) -> Query:
    if value < 1:
        return Query("no_such_number", str(value))
    return Query("number", str(value))


def _from_url(url: str) -> Query | None:
    status = _STATUS_PATH.search(url)
    if status:
        return Query("token", status.group(1).lower())
    uuid = _UUID.search(url)
    if uuid:
        return Query("order_id", "-".join(uuid.groups()).lower())
    return None


def _from_hex32(text: str, hex32: str) -> Query:
    if _ORDER_ID_WORDS.search(text):
        return Query("order_id", dashed(hex32))
    if _TOKEN_WORDS.search(text) or not _looks_like_uuid4(hex32):
        return Query("token", hex32.lower())
    return Query("order_id_or_token", hex32.lower())


def link_path(url: str) -> str:
    """The path of a pasted link, which may come without its scheme ("www.shop.com/d/book.pdf")."""
    return urlsplit(url if "://" in url else f"https://{url}").path


def _download_link(url: str) -> str | None:
    """A link that is a file's (its path ends in a file name or goes through /download/), cut where a
    sentence goes on; None for any other page."""
    url = url.rstrip(_TRAILING + _WRAPPERS)
    return url if _DOWNLOAD_PATH.search(link_path(url)) else None


def _looks_like_a_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 4 and len(text) <= 60 and all(
        _PERSON_NAME.fullmatch(word) and word[0].isupper() for word in words
    )


def classify_query(raw: str | None) -> Query:
    """What a ticket's text points at, and what it complains about, without asking any upstream.

    The rule, in order (the first that applies wins):
    1. A link: `…/orders/<32 hex>` with anything after it (`/authenticate?key=…`) is a customer's
       order-status token; a link holding an order UUID (Fileflare's app, this dashboard) is that order.
       Any other link is unknown.
    2. An order UUID with dashes, anywhere in the text, in any case.
    3. The whole text is a number, labelled or not: `1050`, `#1,050`, `Order #1050`, `order 1050`,
       `1050.`; inside longer text only a labelled one (`order 1050`, `#1050`). 0 and negatives are
       numbers no order has (fileflare_admin.order_numbers reads them).
    4. 32 hex characters without dashes: an order UUID written without its dashes and a status-link
       token look alike, so context decides. Words around it ("order id", "uuid") make it an order ID;
       ("token", "status", "link") a token; with no such word it is a token unless it carries a UUID's
       version and variant digits (one token in 64 does), and then the search tries both.
    5. 45 hex characters (the downloads API's ids), or a whole text of letters and digits up to 64
       long with a digit in it: a download record ID (hex ones in lower case, as the API makes them).
    6. Any other link whose path ends in a file name or goes through /download/, a text that is a file
       name ("My book.pdf"), or a word of longer text that is one ("I got Planner.pdf twice"): a file,
       searched for among the orders and records holding it.
    7. An e-mail address, or two to four capitalized words ("Jane Doe"): a person, whom Fileflare's
       API cannot search for (the words are tried as a file's name first).
    Anything else is unknown, and the page says what search takes.

    The complaint ("limit reached", "pas reçu", "link scaduto"…) is read from the whole text whatever
    it points at (orders.complaints).
    """
    query = _classified(raw)
    complaint = complaint_in(raw)
    return Query(query.kind, query.value, complaint) if complaint else query


def _classified(raw: str | None) -> Query:
    text = _unwrap(raw or "")
    if not text:
        return Query("empty", "")
    url = _URL.search(text)
    if url:
        download = _download_link(url.group(0))
        found = _from_url(url.group(0)) or (Query("file", download) if download else None)
        return found or Query("unknown", text)
    uuid = _UUID.search(text)
    if uuid:
        return Query("order_id", "-".join(uuid.groups()).lower())
    number = read_order_number(text) or find_order_number(text)
    if number is not None:
        return _number_query(number.value)
    hex32 = _HEX32.search(text)
    if hex32:
        return _from_hex32(text, hex32.group(0))
    hex45 = _HEX45.search(text)
    if hex45:
        return Query("download_id", hex45.group(0).lower())
    if text.isascii() and text.isalnum() and len(text) <= 64 and any(ch.isdigit() for ch in text):
        lowered = text.lower()
        return Query("download_id", lowered if all(ch in "0123456789abcdef" for ch in lowered) else text)
    email = _EMAIL.search(text)
    if email:
        return Query("email", email.group(0))
    if _FILE_NAME.fullmatch(text):
        return Query("file", " ".join(text.split()))
    file_word = FILE_WORD.search(text)
    if file_word:
        return Query("file", file_word.group(0))
    if _looks_like_a_name(text):
        return Query("person_name", text)
    return Query("unknown", text)
