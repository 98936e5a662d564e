"""The search box: what a ticket's text is (classify_query, pure) and where it leads (order_search)."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import fileflare, types
from fileflare_admin.api.errors import NotFound
from fileflare_admin.order_numbers import find_order_number, read_order_number
from orders.identity import order_lookup_by_number
from orders.models import KnownCustomerToken
from orders_index.services import order_index_page, order_sync_progress

QueryKind = Literal[
    "empty",
    "number",  # a shop order number, 1 or more
    "no_such_number",  # 0 or a negative number: no order can have it
    "order_id",  # a Fileflare order UUID (canonical, lower case)
    "token",  # the 32 hex characters of a customer's order-status link (lower case)
    "order_id_or_token",  # a bare 32-hex that could be either: the search decides by asking
    "download_id",
    "unknown",
]
SEARCH_TAKES = (
    "Search takes an order number (1050 or #1050), an order ID, the customer's order-status link "
    "or its token, or a download record ID."
)

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


@dataclass(frozen=True)
class Query:
    kind: QueryKind
    value: str


def _unwrap(text: str) -> str:
    """The text without the spaces, quotes and brackets around it and the punctuation after it."""
    previous = None
    while previous != text:
        previous = text
        text = text.strip().strip(_WRAPPERS).rstrip(_TRAILING)
    return text


def _dashed(hex32: str) -> str:
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
        return Query("order_id", _dashed(hex32))
    if _TOKEN_WORDS.search(text) or not _looks_like_uuid4(hex32):
        return Query("token", hex32.lower())
    return Query("order_id_or_token", hex32.lower())


def classify_query(raw: str | None) -> Query:
    """What a ticket's text points at, without asking any upstream.

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
    Anything else is unknown, and the page says what search takes.
    """
    text = _unwrap(raw or "")
    if not text:
        return Query("empty", "")
    url = _URL.search(text)
    if url:
        return _from_url(url.group(0)) or Query("unknown", text)
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
    return Query("unknown", text)


@dataclass(frozen=True)
class Target:
    """Where one match leads: an order page (`key` is the order ID) or a customer's view (the token).
    The view turns it into a URL."""

    kind: Literal["order", "customer"]
    key: str
    link: str = ""  # the whole status link, when that is what was pasted (kept to show it back)


@dataclass
class SearchResult:
    query: Query
    target: Target | None = None
    orders: types.Page[types.Order] | None = None
    fetched_at: datetime | None = None
    stale: bool = False
    message: str = ""
    match_label: str = ""
    from_index: bool = False  # the list came from the order index (no call), `stale`: older than the TTL
    whole_shop: bool = False  # the index holds every order: a filter looks at all, not the newest 1,000
    partial_note: str = ""  # a filter only the index answers, before it has read every order: says so
    shop_total: int | None = None  # the whole shop's count at Fileflare, when the list is all its orders

    @property
    def counted(self) -> str:
        """What the pager says after "Page N": " of 400 · 10,000 orders". From an index still being
        filled, only what is known: " · at least 10,000 orders so far; 15,608 at Fileflare"."""
        page = self.orders
        if page is None or page.total is None:
            return f" of {page.last_page:,}" if page is not None and page.last_page else ""
        if self.from_index and not self.whole_shop:
            at_fileflare = f"; {self.shop_total:,} at Fileflare" if self.shop_total is not None else ""
            return f" · at least {_orders_n(page.total)} so far{at_fileflare}"
        return (f" of {page.last_page:,}" if page.last_page else "") + f" · {_orders_n(page.total)}"


def order_search(
    *,
    q: str | None,
    page: int = 1,
    per_page: int = 25,
    never_sent_only: bool = False,
    ordered_from: date | None = None,
    ordered_to: date | None = None,
) -> SearchResult:
    """One match: where to go. Several or none: a page of orders and a sentence. Costs at most 2 calls.

    With no query, the newest orders: from the order index when its sync has read the newest page (no
    call), else from Fileflare. `never_sent_only` keeps those whose e-mail was never sent: over the whole
    shop once the index has walked every order, else among the newest 1,000 the landing page loads
    anyway (no extra call). `ordered_from` / `ordered_to` (days in the current time zone, both included)
    are answered by the index alone, never with a call; before it has read every order, the result says
    so. A query names one order (or a record): the date filter is for the list, not for a search."""
    query = classify_query(q)
    if query.kind == "empty" and (ordered_from is not None or ordered_to is not None):
        return _ordered_between(
            query, page=page, per_page=per_page, never=never_sent_only, start=ordered_from, end=ordered_to
        )
    if query.kind == "empty":
        indexed = _from_index(query, page=page, per_page=per_page, never_sent_only=never_sent_only)
        if indexed is not None:
            return indexed
    if query.kind == "empty" and never_sent_only:
        return _never_sent(query, page=page, per_page=per_page)
    if query.kind == "empty":
        return _newest_orders(query, page=page, per_page=per_page)
    if query.kind == "order_id":
        return SearchResult(query, target=Target("order", query.value), match_label="Order ID")
    if query.kind == "token":
        link = (q or "").strip() if "/" in (q or "") else ""
        return SearchResult(
            query, target=Target("customer", query.value, link=link), match_label="Order-status link"
        )
    if query.kind == "order_id_or_token":
        return _order_id_or_token(query)
    if query.kind == "number":
        return _by_number(query, int(query.value))
    if query.kind == "no_such_number":
        number = query.value
        return SearchResult(query, message=f"No order has the number {number}: order numbers start at 1.")
    if query.kind == "download_id":
        return _by_download_id(query)
    return SearchResult(query, message=SEARCH_TAKES)


def _by_download_id(query: Query) -> SearchResult:
    try:
        record = downloads_api.record_get(download_id=query.value).value
    except NotFound:
        return SearchResult(query, message=f"No order or download record matches “{query.value}”.")
    result = _by_number(query, record.order_id)
    if result.target:
        result.match_label = f"Download record {record.download_id}"
    return result


def _order_id_or_token(query: Query) -> SearchResult:
    """A bare 32-hex that may be an order ID without its dashes or a status-link token: a token staff
    pasted before is known without a call; otherwise Fileflare is asked for the order (one call) and,
    when it has none, the text is taken as a token."""
    as_token = SearchResult(query, target=Target("customer", query.value), match_label="Order-status link")
    if KnownCustomerToken.objects.filter(token=query.value).exists():
        return as_token
    order_id = _dashed(query.value)
    try:
        fileflare.order_get(order_id=order_id)
    except NotFound:
        return as_token
    return SearchResult(query, target=Target("order", order_id), match_label="Order ID")


def _from_index(query: Query, *, page: int, per_page: int, never_sent_only: bool) -> SearchResult | None:
    """The Orders page from the order index, or None when it cannot answer (not read yet; a filter over
    the whole shop before the sync has walked every order): then Fileflare is asked."""
    listed = order_index_page(page=page, per_page=per_page, email_never_sent=never_sent_only)
    if listed is None or (never_sent_only and not listed.complete):
        return None
    result = SearchResult(
        query,
        orders=listed.orders,
        fetched_at=listed.fetched_at,
        stale=listed.stale,
        from_index=True,
        whole_shop=listed.complete,
        shop_total=None if never_sent_only else listed.shop_total,
    )
    if never_sent_only:
        counted = _orders_counted(listed.orders.total or 0)
        result.message = f"{counted} in this shop never had the download e-mail sent."
    return result


def _orders_n(total: int) -> str:
    """"0 orders", "1 order", "1,204 orders"."""
    return f"{total:,} order{'s' if total != 1 else ''}"


def _orders_counted(total: int) -> str:
    """"No order", "1 order", "1,204 orders": how a filtered list's summary starts."""
    return _orders_n(total) if total else "No order"


def _between_text(start: date | None, end: date | None) -> str:
    """"between 1 Mar 2026 and 31 Mar 2026", "on 1 Mar 2026", "on or after …", "on or before …"."""
    start_text, end_text = (f"{day.day} {day:%b %Y}" if day else "" for day in (start, end))
    if start_text and end_text:
        return f"on {start_text}" if start == end else f"between {start_text} and {end_text}"
    return f"on or after {start_text}" if start_text else f"on or before {end_text}"


def _ordered_between(
    query: Query, *, page: int, per_page: int, never: bool, start: date | None, end: date | None
) -> SearchResult:
    """Orders placed between two days, from the order index only: Fileflare's list cannot filter by date,
    and reading it all to do so would spend the shop's budget. No call, whatever the index holds."""
    listed = order_index_page(
        page=page, per_page=per_page, email_never_sent=never, ordered_from=start, ordered_to=end
    )
    if listed is None:
        return SearchResult(
            query,
            message="Only the dashboard's order index can list orders by date, and it has not read this "
            "shop's orders yet. Try again in a minute: the Status page shows how far it has got.",
        )
    total, between = listed.orders.total or 0, _between_text(start, end)
    counted = _orders_counted(total)
    if never:
        message = f"{counted} placed {between} never had the download e-mail sent."
    else:
        message = f"{counted} {'were' if total > 1 else 'was'} placed {between}."
    result = SearchResult(
        query,
        orders=listed.orders,
        fetched_at=listed.fetched_at,
        stale=listed.stale,
        message=message,
        from_index=True,
        whole_shop=listed.complete,
    )
    if not listed.complete:
        progress = order_sync_progress()  # the index's own count: no call
        read = f"{progress.indexed:,}" + (f" of about {progress.total:,}" if progress.total else "")
        result.partial_note = (
            f"The order index has read {read} orders so far, newest first; orders it has not reached yet "
            "are not in this list. The Status page shows how far it has got."
        )
    return result


def _newest_orders(query: Query, *, page: int, per_page: int) -> SearchResult:
    """The landing page. Its first page asks for the newest 1,000 orders with their files in the same
    single call, and shows `per_page` of them: the rest make looking up any recent order (what most
    tickets are about) cost no call for a while. Later pages ask for just what they show.

    Newest first relies on the list's own order: the vendor documents none, the sandbox answers newest
    first (`ordered_at` descending, sandbox/README.md) and so do we, with no re-sorting. Were a real shop
    to answer oldest first (Laravel's default, by id), page N here would become page last_page + 1 - N,
    learnt from the first answer's `meta.last_page`: one extra call, on the first view only."""
    if page != 1:
        fetched = fileflare.order_list(page=page, limit=per_page)
        return SearchResult(query, orders=fetched.value, fetched_at=fetched.fetched_at, stale=fetched.stale)
    fetched = fileflare.order_list(page=1, limit=fileflare.RECENT_ORDERS, with_assets=True)
    newest = fetched.value
    total = newest.total
    shown = types.Page(
        items=newest.items[:per_page],
        page=1,
        per_page=per_page,
        total=total,
        last_page=-(-total // per_page) if total is not None else None,
    )
    return SearchResult(query, orders=shown, fetched_at=fetched.fetched_at, stale=fetched.stale)


def _never_sent(query: Query, *, page: int, per_page: int) -> SearchResult:
    fetched = fileflare.order_list(page=1, limit=fileflare.RECENT_ORDERS, with_assets=True)
    loaded = fetched.value.items
    never = tuple(order for order in loaded if order.email_sent_at is None)
    last_page = max(-(-len(never) // per_page), 1)
    page = min(page, last_page)
    shown = types.Page(
        items=never[(page - 1) * per_page : page * per_page],
        page=page,
        per_page=per_page,
        total=len(never),
        last_page=last_page,
    )
    newest = f"the newest {len(loaded):,} orders" if len(loaded) > 1 else "the newest order"
    counted = "No order" if not never else f"{len(never):,} order{'s' if len(never) != 1 else ''}"
    message = f"{counted} of {newest} never had the download e-mail sent."
    return SearchResult(
        query, orders=shown, fetched_at=fetched.fetched_at, stale=fetched.stale, message=message
    )


def _by_number(query: Query, number: int) -> SearchResult:
    """An order the order index holds or an answer has shown (the newest 1,000 on the orders page, any
    search) needs no call; any other costs one (orders.identity)."""
    lookup = order_lookup_by_number(number)
    result = SearchResult(query)
    if lookup.listed is not None:
        result.orders, result.fetched_at, result.stale = (
            lookup.listed.value,
            lookup.listed.fetched_at,
            lookup.listed.stale,
        )
    if lookup.order_id is not None:
        result.target, result.match_label = Target("order", lookup.order_id), f"Order #{number}"
    elif not lookup.matches:
        result.orders, result.message = None, f"No order has the number {number}."
    return result
