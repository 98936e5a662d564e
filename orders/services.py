"""Orders: what support staff do while a customer waits — find the order, see what the customer sees,
tell why they cannot download, resend the e-mail."""

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditEntry
from audit.services import audit_record
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import fileflare, types
from fileflare_admin.api.errors import ApiError, InvalidIdentifier, NotFound
from fileflare_admin.templatetags.display import is_http_url
from orders.models import KnownCustomerToken
from staff import roles

QueryKind = Literal["empty", "number", "order_id", "token", "download_id", "unknown"]
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TOKEN = re.compile(r"[0-9a-fA-F]{32}")
# An order's number never changes, so once seen it is remembered: the order page can then fetch the
# order, its records and the customer's view at the same time instead of one after another.
ORDER_NUMBER_TTL = 30 * 24 * 3600


@dataclass(frozen=True)
class Query:
    kind: QueryKind
    value: str


def classify_query(raw: str | None) -> Query:
    """What a ticket's text is, without asking any upstream."""
    text = (raw or "").strip()
    if not text:
        return Query("empty", "")
    if "/" in text and ("account/orders/" in text or "://" in text):
        path = urlsplit(text if "://" in text else f"https://{text}").path.rstrip("/")
        last = path.rsplit("/", 1)[-1]
        if _TOKEN.fullmatch(last):
            return Query("token", last.lower())
        return Query("unknown", text)
    number = text.lstrip("#").strip()
    if number.isascii() and number.isdigit() and len(number) <= 18:
        return Query("number", str(int(number)))
    if _UUID.fullmatch(text):
        return Query("order_id", text.lower())
    if _TOKEN.fullmatch(text):
        return Query("token", text.lower())
    if text.isascii() and text.isalnum() and len(text) <= 64:
        return Query("download_id", text)
    return Query("unknown", text)


def remember_order_number(order: types.Order) -> None:
    cache.set(f"ffa:order-number:{order.id}", order.order_number, timeout=ORDER_NUMBER_TTL)


def known_order_number(order_id: str) -> int | None:
    return cache.get(f"ffa:order-number:{order_id}")


@dataclass
class SearchResult:
    query: Query
    redirect_to: str | None = None
    orders: types.Page[types.Order] | None = None
    fetched_at: datetime | None = None
    stale: bool = False
    message: str = ""
    match_label: str = ""


def order_detail_url(order_id: str) -> str:
    return reverse("orders:detail", kwargs={"order_id": order_id})


def order_search(*, q: str | None, page: int = 1, per_page: int = 25) -> SearchResult:
    """One match: where to go. Several or none: a page of orders and a sentence. Costs at most 2 calls."""
    query = classify_query(q)
    if query.kind == "empty":
        return SearchResult(query, **_newest_orders(page=page, per_page=per_page))
    if query.kind == "order_id":
        return SearchResult(query, redirect_to=order_detail_url(query.value), match_label="Order ID")
    if query.kind == "token":
        return SearchResult(
            query,
            redirect_to=reverse("orders:customer", kwargs={"token": query.value}),
            match_label="Order-status link",
        )
    if query.kind == "number":
        return _by_number(query, int(query.value))
    if query.kind == "download_id":
        try:
            record = downloads_api.record_get(download_id=query.value).value
        except NotFound:
            return SearchResult(query, message=f"No order or download record matches “{query.value}”.")
        result = _by_number(query, record.order_id)
        if result.redirect_to:
            result.match_label = f"Download record {record.download_id}"
        return result
    return SearchResult(
        query,
        message=(
            "Search takes an order number (1050 or #1050), an order ID, the customer's order-status link "
            "or its token, or a download record ID."
        ),
    )


def _newest_orders(*, page: int, per_page: int) -> dict[str, Any]:
    """The landing page. Its first page asks for the newest 1,000 orders with their files in the same
    single call, and shows `per_page` of them: the rest make looking up any recent order (what most
    tickets are about) cost no call for a while. Later pages ask for just what they show.

    Newest first relies on the list's own order: the vendor documents none, the sandbox answers newest
    first (`ordered_at` descending, sandbox/README.md) and so do we, with no re-sorting. Were a real shop
    to answer oldest first (Laravel's default, by id), page N here would become page last_page + 1 - N,
    learnt from the first answer's `meta.last_page`: one extra call, on the first view only."""
    if page != 1:
        fetched = fileflare.order_list(page=page, limit=per_page)
        return {"orders": fetched.value, "fetched_at": fetched.fetched_at, "stale": fetched.stale}
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
    return {"orders": shown, "fetched_at": fetched.fetched_at, "stale": fetched.stale}


def _by_number(query: Query, number: int) -> SearchResult:
    """An order whose number a list answer has shown (the newest 1,000 on the orders page, any search)
    needs no call; any other costs one."""
    order_id = fileflare.known_order_id(order_number=number)
    if order_id is not None:
        return SearchResult(query, redirect_to=order_detail_url(order_id), match_label=f"Order #{number}")
    fetched = fileflare.order_list(order_number=number, with_assets=True)
    matches = [order for order in fetched.value.items if order.order_number == number]
    for order in matches:
        remember_order_number(order)
    if len(matches) == 1:
        return SearchResult(
            query,
            redirect_to=order_detail_url(matches[0].id),
            orders=fetched.value,
            fetched_at=fetched.fetched_at,
            stale=fetched.stale,
            match_label=f"Order #{number}",
        )
    if not matches:
        return SearchResult(
            query,
            message=f"No order has the number {number}.",
            fetched_at=fetched.fetched_at,
            stale=fetched.stale,
        )
    return SearchResult(query, orders=fetched.value, fetched_at=fetched.fetched_at, stale=fetched.stale)


@dataclass(frozen=True)
class Finding:
    """One reason a customer may not be able to download, and what fixes it."""

    severity: Literal["bad", "warn", "ok"]
    text: str
    action: str = ""  # "resend" when the resend button fixes it


@dataclass
class Section:
    """A part of the order page that loads on its own: a failure shows its sentence, not a broken page."""

    value: Any = None
    error: str = ""
    fetched_at: datetime | None = None
    stale: bool = False


@dataclass
class OrderPage:
    order: types.Order
    fetched_at: datetime
    stale: bool
    records: Section
    customer: Section
    token: str | None
    findings: list[Finding] = field(default_factory=list)
    support_reply: str = ""
    timeline: list[AuditEntry] = field(default_factory=list)


def _section(load: Any) -> Section:
    try:
        fetched = load()
    except ApiError as error:
        return Section(error=error.user_message)
    return Section(value=fetched.value, fetched_at=fetched.fetched_at, stale=fetched.stale)


def _records_for(order_number: int) -> Any:
    from downloads.services import download_records_for_order

    return download_records_for_order(order_number=order_number)


def order_page(*, order_id: str) -> OrderPage:
    """The order, its download records, and (when its token is known) the customer's view: at most three
    upstream calls, made at the same time when the order number is already known."""
    number = known_order_number(order_id)
    token = KnownCustomerToken.token_for(number) if number is not None else None
    with ThreadPoolExecutor(max_workers=3) as pool:
        order_future = pool.submit(fileflare.order_get, order_id=order_id, with_assets=True)
        early_records = pool.submit(_section, lambda: _records_for(number)) if number is not None else None
        early_customer = (
            pool.submit(_section, lambda: fileflare.customer_view_get(token=token)) if token else None
        )
        fetched = order_future.result()  # NotFound and other failures of the order itself propagate
    order = fetched.value
    remember_order_number(order)
    if early_records is not None and number == order.order_number:
        records, customer = early_records.result(), early_customer.result() if early_customer else Section()
    else:
        token = KnownCustomerToken.token_for(order.order_number)
        with ThreadPoolExecutor(max_workers=2) as pool:
            records_future = pool.submit(_section, lambda: _records_for(order.order_number))
            customer_future = (
                pool.submit(_section, lambda: fileflare.customer_view_get(token=token)) if token else None
            )
            records = records_future.result()
            customer = customer_future.result() if customer_future else Section()
    page = OrderPage(
        order=order,
        fetched_at=fetched.fetched_at,
        stale=fetched.stale,
        records=records,
        customer=customer,
        token=token,
    )
    page.findings = diagnose(order=order, customer=customer.value, customer_known=token is not None)
    page.support_reply = support_reply(order=order, customer=customer.value)
    from audit.services import audit_entries_for_order

    page.timeline = audit_entries_for_order(order_number=order.order_number)
    return page


def diagnose(
    *, order: types.Order, customer: types.CustomerView | None, customer_known: bool
) -> list[Finding]:
    """Why this customer may not be able to download, from what the APIs tell."""
    findings: list[Finding] = []
    if order.email_sent_at is None:
        findings.append(
            Finding("bad", "The download e-mail was never sent to this customer.", action="resend")
        )
    assets: list[types.Asset] = list(order.assets)
    if customer is not None:
        assets += [item.asset for item in customer.all_assets]
        if not customer.all_assets:
            findings.append(
                Finding(
                    "bad",
                    "No files are attached to this order or its products, so the customer "
                    "has nothing to download. Attach files to the product in Fileflare.",
                )
            )
        for line in customer.lines:
            if not line.assets:
                name = line.product.name + (
                    f" — {line.product.variant_name}" if line.product.variant_name else ""
                )
                findings.append(Finding("warn", f"“{name}” has no files attached."))
        for item in customer.all_assets:
            limits = item.limits
            if limits.over_limit or limits.at_limit:
                findings.append(
                    Finding(
                        "bad",
                        f"“{item.asset.filename}” has used {limits.downloaded} of {limits.limit} downloads. "
                        "Raise the limit in Fileflare (order page → Override global limitations).",
                    )
                )
    elif not order.assets:
        findings.append(
            Finding(
                "warn",
                "No files are attached to the order itself; files may come through its "
                "products. Paste the customer's order-status link into the search box to "
                "see exactly what they see.",
            )
        )
    for asset in assets:
        if asset.is_link and not is_http_url(asset.url):
            findings.append(
                Finding(
                    "bad",
                    f"“{asset.filename}” is a link whose address is not a web address, so "
                    "it cannot be downloaded. Fix the link in Fileflare.",
                )
            )
    if customer is None and not customer_known:
        findings.append(
            Finding(
                "warn",
                "Download counts are unknown: paste the customer's order-status link into "
                "the search box to see them.",
            )
        )
    if not findings:
        findings.append(Finding("ok", "Nothing the APIs tell us stops this customer from downloading."))
    return findings


def support_reply(*, order: types.Order, customer: types.CustomerView | None) -> str:
    """A short reply support can paste into the ticket."""
    lines = [f"Hello, here are the files for your order #{order.order_number}:", ""]
    items: list[tuple[types.Asset, types.AssetLimit | None]] = []
    if customer is not None:
        items = [(item.asset, item.limits) for item in customer.all_assets]
    else:
        items = [(asset, None) for asset in order.assets]
    for asset, limits in items:
        link = f": {asset.url}" if asset.url and is_http_url(asset.url) else ""
        used = ""
        if limits is not None:
            used = (
                f" ({limits.downloaded} of {limits.limit} downloads used)"
                if limits.limit is not None
                else f" ({limits.downloaded} downloads used, no limit)"
            )
        lines.append(f"- {asset.filename}{link}{used}")
    if not items:
        lines.append("- (no files are attached yet; we are looking into it)")
    lines += ["", "You can also download them from your order-status page in the shop at any time."]
    return "\n".join(lines)


@dataclass
class CustomerPage:
    token: str
    view: types.CustomerView
    fetched_at: datetime
    stale: bool
    order_id: str | None


def customer_page(*, token: str) -> CustomerPage:
    """The customer's download page, and the dashboard's order it belongs to (remembered for next time)."""
    fetched = fileflare.customer_view_get(token=token)
    view = fetched.value
    KnownCustomerToken.remember(order_number=view.order_number, token=token)
    order_id = None
    try:
        listed = fileflare.order_list(order_number=view.order_number, with_assets=True).value.items
        match = next((order for order in listed if order.order_number == view.order_number), None)
        if match:
            remember_order_number(match)
            order_id = match.id
    except ApiError:
        order_id = None
    return CustomerPage(
        token=token, view=view, fetched_at=fetched.fetched_at, stale=fetched.stale, order_id=order_id
    )


def order_get(*, order_id: str) -> types.Order:
    """One order with its files (the resend confirmation names it and shows when it was last sent)."""
    order = fileflare.order_get(order_id=order_id).value
    remember_order_number(order)
    return order


def order_resend_email(*, actor: Any, order_id: str, reason: str = "") -> types.Order:
    """Send the download e-mail again. Audited whether it goes through or not."""
    number = known_order_number(order_id)
    before: dict[str, Any] | None = None
    try:
        roles.require_can_resend(actor)
        current = fileflare.order_get(order_id=order_id).value
        number = current.order_number
        before = {"email_sent_at": current.email_sent_at.isoformat() if current.email_sent_at else None}
        order = fileflare.order_send_email(order_id=order_id)
    except (ApiError, roles.NotAllowed) as error:
        if not isinstance(error, InvalidIdentifier):
            audit_record(
                actor=actor,
                action=AuditEntry.Action.EMAIL_RESEND,
                order_number=number,
                order_id=order_id,
                before=before,
                reason=reason,
                error=str(error),
            )
        raise
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EMAIL_RESEND,
        order_number=order.order_number,
        order_id=order.id,
        before=before,
        after={"email_sent_at": order.email_sent_at.isoformat() if order.email_sent_at else None},
        reason=reason,
    )
    return order
