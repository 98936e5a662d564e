"""The order page and the customer's view: what support sees while a customer waits."""

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Generic, TypeVar, cast

from django.conf import settings
from django.utils import timezone, translation

from audit.models import AuditEntry
from audit.services import audit_entries_for_order
from downloads import records
from downloads.history import counts_of_order, note_seen, noted_key
from downloads.limits import KnownLimit, limits_for_order, limits_learn, order_limits_keys
from downloads.products import (
    product_name_keys,
    product_names_from_files,
    product_names_known,
    product_names_remember,
)
from downloads.reads import download_records_for_order
from fileflare_admin import kept_pages, readahead
from fileflare_admin.api import fileflare, types
from fileflare_admin.api.deadline import PageCalls
from fileflare_admin.api.errors import ApiError, NotFound
from fileflare_admin.filenames import file_key
from orders import diagnosis, replies, reply_text
from orders.attachments import ATTACH, DETACH
from orders.diagnosis import Complaint, Finding, ReadAt
from orders.identity import order_id_for_number, order_number_and_link
from orders.links import status_link_of
from orders.models import KnownCustomerToken
from orders.reply_text import RecentChanges, Situation
from orders.resend import EMAIL_RESEND
from orders.suspects import SuspectLine, order_suspects, suspect_lines
from orders_index.services import order_index_forget, order_index_saw
from staff import roles

T = TypeVar("T")
# What staff did on an order this long ago still shapes the reply ("I've reset your downloads…").
RECENT = timedelta(hours=2)


@dataclass
class Section(Generic[T]):
    """A part of the order page that loads on its own: a failure shows its sentence, not a broken page."""

    value: T | None = None
    error: str = ""
    fetched_at: datetime | None = None
    stale: bool = False
    complete: bool = True  # False: the upstream holds more than the one call read


@dataclass
class OrderPage:
    order: types.Order
    fetched_at: datetime
    stale: bool
    records: Section[list[types.DownloadRecord]]
    customer: Section[types.CustomerView]
    token: str | None
    status_link: str = ""
    findings: list[Finding] = field(default_factory=list)
    fitting: Situation = "ready"  # the reply the diagnosis and the recent changes call for
    situation: Situation = "ready"  # the reply shown (another when the person picked one)
    reply_language: str = ""  # the customer's language the reply is written in (picked, else the staff's)
    support_reply: str = ""
    timeline: list[AuditEntry] = field(default_factory=list)
    fileflare_app_url: str = ""
    complaint: Complaint | None = None  # what the ticket says (its findings lead)
    record_limits: dict[str, KnownLimit] = field(default_factory=dict)  # download ID → its file's limit
    suspects: list[SuspectLine] = field(default_factory=list)  # records whose count jumped like a scanner's
    file_limits: dict[str, KnownLimit] = field(default_factory=dict)  # file key → its limit on this order


def _section(load: Callable[[], types.Fetched[T]]) -> Section[T]:
    try:
        fetched = load()
    except ApiError as error:
        return Section(error=error.user_message)
    return Section(
        value=fetched.value, fetched_at=fetched.fetched_at, stale=fetched.stale, complete=fetched.complete
    )


def _records(number: int) -> Section[list[types.DownloadRecord]]:
    return _section(lambda: download_records_for_order(order_number=number))


def _customer(token: str) -> Section[types.CustomerView]:
    return _section(lambda: fileflare.customer_view_get(token=token))


def fileflare_app_order_url(order: types.Order) -> str:
    """The order in Fileflare's own app, where limits it keeps itself are raised (Override global
    limitations). FILEFLARE_APP_ORDER_URL may name it with {order_id} and {order_number}; by default
    the app's address is the API's without its /api."""
    template = settings.FILEFLARE_APP_ORDER_URL or (
        settings.FILEFLARE_API_URL.rstrip("/").removesuffix("/api") + "/orders/{order_id}"
    )
    return template.replace("{order_id}", order.id).replace("{order_number}", str(order.order_number))


def recent_changes(entries: list[AuditEntry], *, now: datetime | None = None) -> RecentChanges:
    """What staff did on the order within RECENT, as the reply tells it: downloads given back (a count
    lowered), files attached, the e-mail sent again. Only what succeeded and was not undone."""
    since = (now or timezone.now()) - RECENT
    fixed: list[str] = []
    attached: dict[str, str] = {}  # asset ID → file name, of the files attached and still on the order
    resent = False
    for entry in sorted(entries, key=lambda entry: (entry.created_at, entry.pk)):
        if entry.created_at < since or entry.outcome != AuditEntry.Outcome.SUCCESS:
            continue
        kept_pages.changes_at(entry.created_at + RECENT)  # the reply stops telling it then
        if any(later.outcome == AuditEntry.Outcome.SUCCESS for later in entry.undone_by.all()):
            continue
        change = records.count_change(entry.before, entry.after)
        after = entry.after if isinstance(entry.after, dict) else {}
        if change and change[1] < change[0] and entry.undo_of_id is None and after.get("download_file_name"):
            fixed.append(str(after["download_file_name"]))
        elif entry.action == ATTACH:
            attached.update(_files_named(after.get("attached")))
        elif entry.action == DETACH:  # a file detached since was not added, as far as the customer sees
            for asset_id in _files_named(after.get("detached")):
                attached.pop(asset_id, None)
        elif entry.action == EMAIL_RESEND:
            resent = True
    return RecentChanges(fixed_files=tuple(fixed), attached_files=tuple(attached.values()), resent=resent)


def _files_named(listed: object) -> dict[str, str]:
    """The files an attach or detach entry lists: asset ID → file name."""
    items = listed if isinstance(listed, list) else []
    return {str(item.get("id")): str(item.get("filename")) for item in items if isinstance(item, dict)}


def order_page(
    *,
    order_id: str,
    user: roles.AnyUser,
    situation: Situation | None = None,
    complaint: Complaint | None = None,
    reply_language: str | None = None,
    known: tuple[int | None, tuple[str, str] | None] | None = None,
    meanwhile: Callable[["OrderPage"], object] | None = None,
) -> OrderPage:
    """The order, its download records, and (when its token is known) the customer's view: at most three
    upstream calls, made at the same time when the order number is already known (from an answer the
    API layer has seen, or the order index). They share the page's deadline; what is fresh in the read
    cache is answered at once, with no thread (PageCalls). `situation`
    picks a reply other than the one that fits, `reply_language` the language it is written in (the
    customer's; default: the active one, the staff member's); `complaint` (what the ticket says) leads the
    findings; `known`: the order's number and pasted link, when the caller read them already
    (identity.order_number_and_link).
    The customer's view, when read, teaches each file's limit (downloads.limits). `meanwhile` is given the
    page as far as it is known while its records are still on their way (a cold page: the page is rendered
    then but for the parts that show them, orders.pages): no records, findings or reply yet, and no
    customer's view."""
    number, known_link = known or order_number_and_link(order_id)  # known_link: (token, status URL)
    token = known_link[0] if known_link else None
    early_records: Future[Section[list[types.DownloadRecord]]] | None = None
    early_customer: Future[Section[types.CustomerView]] | None = None
    with PageCalls(max_workers=3) as pool:
        # The cached answers of all three read in one round trip (a warm page: no thread, no call). The
        # records go out first: a search of the downloads API is the slower answer (a WordPress search
        # reads its table; the sandbox's takes ~10 ms more than an order).
        calls: list[Callable[[], object]] = [partial(_records, number)] if number is not None else []
        calls += [partial(fileflare.order_get, order_id=order_id, with_assets=True)]
        calls += [partial(_customer, token)] if token else []
        futures = iter(pool.submit_many(calls))
        if number is not None:
            early_records = cast("Future[Section[list[types.DownloadRecord]]]", next(futures))
        order_future = cast("Future[types.Fetched[types.Order]]", next(futures))
        if token:
            early_customer = cast("Future[Section[types.CustomerView]]", next(futures))
        pool.wait_sent()
        # While the calls are out (a cold page), what only our own database knows of the order.
        timeline = audit_entries_for_order(order_number=number) if number is not None else None
        try:
            fetched = order_future.result()  # NotFound and other failures of the order itself propagate
        except NotFound:
            order_index_forget(order_id)  # Fileflare says it is gone: the index must not send anyone here
            raise
        # The page's other cache reads that the records name, when they are in already (readahead).
        if early_records is not None and early_records.done() and early_records.exception() is None:
            readahead.read_ahead(_records_next(early_records.result(), order_number=number))
        # What Fileflare just said goes into the index (the Orders page's filters read it) once the page
        # is sent: nothing on it is read from there but its number, which an order keeps for good.
        order_index_saw([fetched.value], fetched_at=fetched.fetched_at, stale=fetched.stale, once_sent=True)
        # The records still on their way (a cold page): their counts as last noted, read now, so noting
        # the answer's costs no query after it when nothing changed.
        waiting = early_records is not None and not early_records.done()
        counts_known = counts_of_order(number) if number is not None and waiting else None
        if waiting and number == fetched.value.order_number:
            # What the rest of the page reads and the records do not name, read now: the count history
            # behind the link-scanner line and the reply wordings of the reply's language. Read again
            # after the records, each is answered from this read unless noting them changed it (kept).
            order_suspects(fetched.value, timeline or [])
            replies.reply_bodies(_reply_language(reply_language))
        if meanwhile is not None and waiting and number == fetched.value.order_number:
            meanwhile(
                OrderPage(
                    order=fetched.value,
                    fetched_at=fetched.fetched_at,
                    stale=fetched.stale,
                    records=Section(),  # on its way: shown by the parts the page leaves for later
                    customer=Section(),  # likewise, when its token is known (else none is read)
                    token=token,
                    status_link=status_link_of(known_link),
                    timeline=timeline or [],
                    fileflare_app_url=fileflare_app_order_url(fetched.value),
                    complaint=complaint,
                )
            )
    order = fetched.value
    if timeline is None or number != order.order_number:
        timeline = audit_entries_for_order(order_number=order.order_number)
    if early_records is not None and number == order.order_number:
        records = early_records.result()
        customer = early_customer.result() if early_customer else Section[types.CustomerView]()
    else:
        known_link = KnownCustomerToken.link_for(order.order_number)
        token = known_link[0] if known_link else None
        with PageCalls(max_workers=2) as pool:
            records_future = pool.submit(_records, order.order_number)
            customer_future = pool.submit(_customer, token) if token else None
            records = records_future.result()
            customer = customer_future.result() if customer_future else Section[types.CustomerView]()
    if customer.value is not None and customer.fetched_at is not None:
        limits_learn(view=customer.value, seen_at=customer.fetched_at)  # here, not in the pool's threads
    readahead.read_ahead(_records_next(records, order_number=order.order_number))  # in one round trip
    note_seen(
        records.value or [],
        seen_at=records.fetched_at,
        source="read",
        stale=records.stale,
        known=counts_known if number == order.order_number else None,
    )
    page = OrderPage(
        order=order,
        fetched_at=fetched.fetched_at,
        stale=fetched.stale,
        records=records,
        customer=customer,
        token=token,
        status_link=status_link_of(known_link),
        timeline=timeline,
        fileflare_app_url=fileflare_app_order_url(order),
        complaint=complaint,
    )
    page.file_limits, page.record_limits = limits_for_order(
        order_number=order.order_number, records=records.value or []
    )
    # The counts' history the dashboard keeps (one query, no upstream call): a scanner's burst of downloads.
    page.suspects = suspect_lines(
        order=order,
        records=records.value or [],
        timeline=page.timeline,
        user=user,
    )
    _diagnose(page, user=user, situation=situation, reply_language=reply_language)
    _remember_product_names(page)
    return page


def _records_next(records: Section[list[types.DownloadRecord]], *, order_number: int | None) -> list[str]:
    """The cache keys the records name: whether their counts are noted already, their product names, and
    their files' known limits on the order."""
    listed = records.value or []
    noted = noted_key(listed, seen_at=records.fetched_at, source="read", stale=records.stale)
    limits = order_limits_keys(order_number=order_number, records=listed) if order_number is not None else []
    names = product_name_keys({record.product_id for record in listed})
    return [*([noted] if noted else []), *names, *limits]


def _remember_product_names(page: OrderPage) -> None:
    """The customer's view names each product with its files: the records of those files get the name
    in every list of records (downloads.products), at no extra call."""
    view = page.customer.value
    if view is None or not page.records.value:
        return
    files: dict[str, str] = {}
    for line in view.lines:
        variant = line.product.variant_name
        name = f"{line.product.name} \N{EM DASH} {variant}" if variant else line.product.name
        for item in line.assets:
            key = file_key(item.asset.filename)
            files[key] = name if files.get(key, name) == name else ""
    learned = product_names_from_files(page.records.value, files)
    known = product_names_known(learned)  # read ahead with the page's other keys: no round trip
    product_names_remember({number: name for number, name in learned.items() if known.get(number) != name})


def _diagnose(
    page: OrderPage, *, user: roles.AnyUser, situation: Situation | None, reply_language: str | None
) -> None:
    page.findings = diagnosis.diagnose(
        order=page.order,
        customer=page.customer.value,
        customer_known=page.token is not None,
        records=page.records.value if not page.records.error else None,
        max_count_step=roles.permissions_for(user).max_count_step,
        known_limits=page.file_limits,  # read with the records table's (limits_for_order)
        complaint=page.complaint,
        read_at=ReadAt(
            order=page.fetched_at, customer=page.customer.fetched_at, records=page.records.fetched_at
        ),
        now=timezone.now(),
    )
    recent = recent_changes(page.timeline)
    page.fitting = reply_text.reply_situation(findings=page.findings, recent=recent)
    page.situation = situation or page.fitting
    page.reply_language = _reply_language(reply_language)
    page.support_reply = reply_text.support_reply(
        order=page.order,
        customer=page.customer.value,
        status_link=page.status_link,
        recent=recent,
        template=replies.reply_template(page.situation, page.reply_language),
        situation=page.situation,
        language=page.reply_language,
    )


def _reply_language(picked: str | None) -> str:
    """The language the reply is written in: the one picked, else the staff member's."""
    return reply_text.reply_language(picked, default=translation.get_language())


@dataclass
class CustomerPage:
    token: str
    view: types.CustomerView
    fetched_at: datetime
    stale: bool
    order_id: str | None


def customer_page(*, token: str, status_url: str = "") -> CustomerPage:
    """The customer's download page, and the dashboard's order it belongs to (remembered for next time)."""
    fetched = fileflare.customer_view_get(token=token)
    view = fetched.value
    KnownCustomerToken.remember(order_number=view.order_number, token=token, status_url=status_url)
    limits_learn(view=view, seen_at=fetched.fetched_at)
    try:
        order_id = order_id_for_number(view.order_number)
    except ApiError:
        order_id = None  # the page still shows the customer's view; the link to the order waits
    return CustomerPage(
        token=token, view=view, fetched_at=fetched.fetched_at, stale=fetched.stale, order_id=order_id
    )
