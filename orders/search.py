"""The search box: where a ticket's text leads (order_search); what the text is, orders.classify."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import fileflare, types
from fileflare_admin.api.errors import ApiError, NotFound
from fileflare_admin.days import day_text
from fileflare_admin.numbers import grouped
from orders.classify import FILE_WORD, Query, classify_query, dashed
from orders.complaints import LABELS, Complaint
from orders.file_search import FileMatches, file_matches
from orders.identity import order_lookup_by_number
from orders.models import KnownCustomerToken
from orders_index.services import (
    Recheck,
    order_index_page,
    order_index_saw,
    order_sync_progress,
)

SEARCH_TAKES = gettext_lazy(
    "Search takes an order number (1050 or #1050), an order ID, the customer's order-status link "
    "or its token, a download record ID, or a file's name or download link."
)
ASK_INSTEAD = gettext_lazy(
    "Ask the customer for their order number (it is on their receipt, e.g. #1050), the link to their "
    "order-status page, or the name of the file they cannot download."
)


def _no_email_search() -> str:
    cannot = _("Fileflare's API gives no customer e-mail address or name, so orders cannot be found by them.")
    return f"{cannot} {ASK_INSTEAD}"


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
    files: FileMatches | None = None  # a pasted file's orders and records
    # The message states what the index last read, not a fact checked now: the page ends it with "as of"
    # the oldest time any shown order was read (`fetched_at`).
    message_as_of: bool = False

    @property
    def pager(self) -> str:
        """What the pager says: "Page 1 of 400 · 10,000 orders". From an index still being filled, only
        what is known: "Page 1 · at least 10,000 orders so far; 15,608 at Fileflare"."""
        page = self.orders
        if page is None:
            return ""
        values = {
            "page": grouped(page.page),
            "last": grouped(page.last_page or 0),
            "count": grouped(page.total or 0),
            "shop": grouped(self.shop_total or 0),
        }
        total = page.total
        if total is None:
            said = _("Page %(page)s of %(last)s") if page.last_page else _("Page %(page)s")
        elif self.from_index and not self.whole_shop and self.shop_total is not None:
            said = ngettext(
                "Page %(page)s · at least %(count)s order so far; %(shop)s at Fileflare",
                "Page %(page)s · at least %(count)s orders so far; %(shop)s at Fileflare",
                total,
            )
        elif self.from_index and not self.whole_shop:
            said = ngettext(
                "Page %(page)s · at least %(count)s order so far",
                "Page %(page)s · at least %(count)s orders so far",
                total,
            )
        elif page.last_page:
            said = ngettext(
                "Page %(page)s of %(last)s · %(count)s order",
                "Page %(page)s of %(last)s · %(count)s orders",
                total,
            )
        else:
            said = ngettext("Page %(page)s · %(count)s order", "Page %(page)s · %(count)s orders", total)
        return said % values

    @property
    def complaint(self) -> Complaint | None:
        return self.query.complaint

    @property
    def complaint_label(self) -> str:
        return str(LABELS[self.query.complaint]) if self.query.complaint else ""


def order_search(
    *,
    q: str | None,
    page: int = 1,
    per_page: int = 25,
    never_sent_only: bool = False,
    ordered_from: date | None = None,
    ordered_to: date | None = None,
) -> SearchResult:
    """One match: where to go. Several or none: a page of orders and a sentence. Costs at most 2 calls,
    3 for a pasted file (a link: the shop's files, to learn its name; the records naming it; the one
    order holding it, when no answer has shown that order yet). An e-mail address costs none.

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
        return SearchResult(query, target=Target("order", query.value), match_label=_("Order ID"))
    if query.kind == "token":
        link = (q or "").strip() if "/" in (q or "") else ""
        return SearchResult(
            query, target=Target("customer", query.value, link=link), match_label=_("Order-status link")
        )
    if query.kind == "order_id_or_token":
        return _order_id_or_token(query)
    if query.kind == "number":
        return _by_number(query, int(query.value))
    if query.kind == "no_such_number":
        number = query.value
        none = _("No order has the number %(number)s: order numbers start at 1.")
        return SearchResult(query, message=none % {"number": number})
    if query.kind == "download_id":
        return _by_download_id(query)
    if query.kind == "file":
        return _by_file(query)
    if query.kind == "email":
        return SearchResult(query, message=_no_email_search())
    if query.kind == "person_name":
        return _by_name(query)
    if query.complaint is not None:
        return SearchResult(
            query,
            message=_("The ticket says “%(label)s”, but names no order. %(ask)s")
            % {"label": LABELS[query.complaint], "ask": ASK_INSTEAD},
        )
    return SearchResult(query, message=str(SEARCH_TAKES))


def _file_result(query: Query, matches: FileMatches) -> SearchResult:
    """One order holds the file: go there (its ID asked of Fileflare when no answer has shown it yet).
    Several: list them. None: say where the dashboard looked and what to ask for."""
    result = SearchResult(query, files=matches)
    if len(matches.holders) == 1:
        holder = matches.holders[0]
        order_id = holder.order_id or order_lookup_by_number(holder.order_number).order_id
        if order_id:
            result.target = Target("order", order_id)
            result.match_label = _("Order #%(number)s holds “%(file)s”") % {
                "number": holder.order_number,
                "file": matches.searched,
            }
    elif not matches.holders:
        result.message = _(
            "No order or download record holds “%(file)s”: no file attached to an order in the "
            "dashboard's order index has that name or link, and no download record names it. Files that "
            "come through a product are found by their record's name. %(ask)s"
        ) % {"file": matches.searched, "ask": ASK_INSTEAD}
    return result


def _by_file(query: Query) -> SearchResult:
    """A link, or a file's name. A name that ends a sentence ("please resend My Book.pdf") is searched
    whole first, then as its last word ("Book.pdf") when nothing holds the whole."""
    if "/" in query.value:
        return _file_result(query, file_matches(query.value, url=query.value))
    matches = file_matches(query.value)
    word = FILE_WORD.search(query.value)
    if not matches.holders and word and word.group(0) != query.value:
        matches = file_matches(word.group(0))
    return _file_result(query, matches)


def _by_name(query: Query) -> SearchResult:
    """Capitalized words: a file's name ("My New Book") when a record or an order's file has it, else
    most likely a customer's, which Fileflare's API cannot search by."""
    try:
        matches = file_matches(query.value)
    except ApiError:
        unread = _("The downloads API did not answer, so no file of that name was looked for.")
        return SearchResult(query, message=f"{_no_email_search()} {unread}")
    if matches.holders:
        return _file_result(query, matches)
    return SearchResult(query, message=_no_email_search())


def _by_download_id(query: Query) -> SearchResult:
    try:
        record = downloads_api.record_get(download_id=query.value).value
    except NotFound:
        return SearchResult(
            query, message=_("No order or download record matches “%(text)s”.") % {"text": query.value}
        )
    result = _by_number(query, record.order_id)
    if result.target:
        result.match_label = _("Download record %(id)s") % {"id": record.download_id}
    return result


def _order_id_or_token(query: Query) -> SearchResult:
    """A bare 32-hex that may be an order ID without its dashes or a status-link token: a token staff
    pasted before is known without a call; otherwise Fileflare is asked for the order (one call) and,
    when it has none, the text is taken as a token."""
    as_token = SearchResult(query, target=Target("customer", query.value), match_label=_("Order-status link"))
    if KnownCustomerToken.objects.filter(token=query.value).exists():
        return as_token
    order_id = dashed(query.value)
    try:
        fileflare.order_get(order_id=order_id)
    except NotFound:
        return as_token
    return SearchResult(query, target=Target("order", order_id), match_label=_("Order ID"))


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
        total = listed.orders.total or 0
        result.message = (
            ngettext(
                "%(count)s order in this shop had no download e-mail sent",
                "%(count)s orders in this shop had no download e-mail sent",
                total,
            )
            % {"count": grouped(total)}
            if total
            else _("No order in this shop had no download e-mail sent")
        )
        result.message_as_of = True
    return result


def recheck_sentence(found: Recheck) -> str:
    """What "Re-check these N orders now" found, as the flash message says it."""
    calls = ngettext("%(count)s request", "%(count)s requests", found.calls) % {"count": grouped(found.calls)}
    if found.checked != found.asked:
        which = _("%(checked)s of %(asked)s orders") % {
            "checked": grouped(found.checked),
            "asked": grouped(found.asked),
        }
    elif found.asked == 1:
        which = _("the order")
    else:
        which = _("all %(count)s orders") % {"count": grouped(found.asked)}
    changes = []
    if found.changed:
        changes.append(
            ngettext(
                "%(count)s had changed and now show what Fileflare holds",
                "%(count)s had changed and now show what Fileflare holds",
                found.changed,
            )
            % {"count": grouped(found.changed)}
        )
    if found.gone:
        changes.append(
            ngettext(
                "%(count)s no longer exists there and left the list",
                "%(count)s no longer exist there and left the list",
                found.gone,
            )
            % {"count": grouped(found.gone)}
        )
    told = "; ".join(changes) or _("nothing had changed")
    if found.error and not found.checked:
        return _("Nothing was re-checked: %(error)s The list keeps what the order index last read.") % {
            "error": found.error
        }
    sentence = _("Re-checked %(which)s at Fileflare (%(calls)s): %(told)s.") % {
        "which": which,
        "calls": calls,
        "told": told,
    }
    if found.error:
        return _(
            "%(sentence)s %(error)s The others keep what the order index last read: press again in a minute."
        ) % {"sentence": sentence, "error": found.error}
    return sentence


def _between_text(start: date | None, end: date | None) -> str:
    """"between 1 Mar 2026 and 31 Mar 2026", "on 1 Mar 2026", "on or after …", "on or before …"."""
    start_text, end_text = (day_text(day) if day else "" for day in (start, end))
    if start_text and end_text:
        if start == end:
            return _("on %(day)s") % {"day": start_text}
        return _("between %(start)s and %(end)s") % {"start": start_text, "end": end_text}
    if start_text:
        return _("on or after %(day)s") % {"day": start_text}
    return _("on or before %(day)s") % {"day": end_text}


def _placed_sentence(total: int, between: str, *, never: bool) -> str:
    """"12 orders were placed between …", or with `never`: "12 orders placed … had no download e-mail
    sent" (the page ends that one with "as of")."""
    values = {"count": grouped(total), "between": between}
    if never and not total:
        return _("No order placed %(between)s had no download e-mail sent") % values
    if never:
        return ngettext(
            "%(count)s order placed %(between)s had no download e-mail sent",
            "%(count)s orders placed %(between)s had no download e-mail sent",
            total,
        ) % values
    if not total:
        return _("No order was placed %(between)s.") % values
    return ngettext(
        "%(count)s order was placed %(between)s.", "%(count)s orders were placed %(between)s.", total
    ) % values


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
            message=_(
                "Only the dashboard's order index can list orders by date, and it has not read this "
                "shop's orders yet. Try again in a minute: the Status page shows how far it has got."
            ),
        )
    total = listed.orders.total or 0
    result = SearchResult(
        query,
        orders=listed.orders,
        fetched_at=listed.fetched_at,
        stale=listed.stale,
        message=_placed_sentence(total, _between_text(start, end), never=never),
        message_as_of=never,
        from_index=True,
        whole_shop=listed.complete,
    )
    if not listed.complete:
        progress = order_sync_progress()  # the index's own count: no call
        values = {"read": grouped(progress.indexed), "total": grouped(progress.total or 0)}
        result.partial_note = (
            _(
                "The order index has read %(read)s of about %(total)s orders so far, newest first; orders it "
                "has not reached yet are not in this list. The Status page shows how far it has got."
            )
            if progress.total
            else _(
                "The order index has read %(read)s orders so far, newest first; orders it has not reached "
                "yet are not in this list. The Status page shows how far it has got."
            )
        ) % values
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
        fetched = _listed(page=page, limit=per_page)
        return SearchResult(query, orders=fetched.value, fetched_at=fetched.fetched_at, stale=fetched.stale)
    fetched = _listed(page=1, limit=fileflare.RECENT_ORDERS, with_assets=True)
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


def _listed(*, page: int, limit: int, with_assets: bool = False) -> types.Fetched[types.Page[types.Order]]:
    """A page of Fileflare's list; what it says goes into the order index at once."""
    fetched = fileflare.order_list(page=page, limit=limit, with_assets=with_assets)
    order_index_saw(fetched.value.items, fetched_at=fetched.fetched_at, stale=fetched.stale)
    return fetched


def _never_sent(query: Query, *, page: int, per_page: int) -> SearchResult:
    fetched = _listed(page=1, limit=fileflare.RECENT_ORDERS, with_assets=True)
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
    message = _never_sent_sentence(len(never), len(loaded))
    return SearchResult(
        query, orders=shown, fetched_at=fetched.fetched_at, stale=fetched.stale, message=message
    )


def _never_sent_sentence(never: int, loaded: int) -> str:
    """"3 orders of the newest 1,000 orders never had the download e-mail sent."."""
    values = {"count": grouped(never), "loaded": grouped(loaded)}
    if loaded <= 1:
        if not never:
            return _("No order of the newest order never had the download e-mail sent.")
        return _("%(count)s order of the newest order never had the download e-mail sent.") % values
    if not never:
        return _("No order of the newest %(loaded)s orders never had the download e-mail sent.") % values
    return ngettext(
        "%(count)s order of the newest %(loaded)s orders never had the download e-mail sent.",
        "%(count)s orders of the newest %(loaded)s orders never had the download e-mail sent.",
        never,
    ) % values


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
        result.target = Target("order", lookup.order_id)
        result.match_label = _("Order #%(number)s") % {"number": number}
    elif not lookup.matches:
        result.orders, result.message = None, _("No order has the number %(number)s.") % {"number": number}
    return result
