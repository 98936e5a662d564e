"""The order page and the customer's view: what support sees while a customer waits."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from audit.models import AuditEntry
from audit.services import audit_entries_for_order
from downloads.services import download_records_for_order
from fileflare_admin.api import fileflare, types
from fileflare_admin.api.errors import ApiError
from orders.diagnosis import Finding, diagnose, support_reply
from orders.models import KnownCustomerToken

T = TypeVar("T")


@dataclass
class Section(Generic[T]):
    """A part of the order page that loads on its own: a failure shows its sentence, not a broken page."""

    value: T | None = None
    error: str = ""
    fetched_at: datetime | None = None
    stale: bool = False


@dataclass
class OrderPage:
    order: types.Order
    fetched_at: datetime
    stale: bool
    records: Section[list[types.DownloadRecord]]
    customer: Section[types.CustomerView]
    token: str | None
    findings: list[Finding] = field(default_factory=list)
    support_reply: str = ""
    timeline: list[AuditEntry] = field(default_factory=list)


def _section(load: Callable[[], types.Fetched[T]]) -> Section[T]:
    try:
        fetched = load()
    except ApiError as error:
        return Section(error=error.user_message)
    return Section(value=fetched.value, fetched_at=fetched.fetched_at, stale=fetched.stale)


def _records(number: int) -> Section[list[types.DownloadRecord]]:
    return _section(lambda: download_records_for_order(order_number=number))


def _customer(token: str) -> Section[types.CustomerView]:
    return _section(lambda: fileflare.customer_view_get(token=token))


def order_page(*, order_id: str) -> OrderPage:
    """The order, its download records, and (when its token is known) the customer's view: at most three
    upstream calls, made at the same time when the order number is already known."""
    number = fileflare.order_number_for(order_id)
    token = KnownCustomerToken.token_for(number) if number is not None else None
    early_records: Future[Section[list[types.DownloadRecord]]] | None = None
    early_customer: Future[Section[types.CustomerView]] | None = None
    with ThreadPoolExecutor(max_workers=3) as pool:
        order_future = pool.submit(fileflare.order_get, order_id=order_id, with_assets=True)
        if number is not None:
            early_records = pool.submit(_records, number)
        if token:
            early_customer = pool.submit(_customer, token)
        fetched = order_future.result()  # NotFound and other failures of the order itself propagate
    order = fetched.value
    if early_records is not None and number == order.order_number:
        records = early_records.result()
        customer = early_customer.result() if early_customer else Section[types.CustomerView]()
    else:
        token = KnownCustomerToken.token_for(order.order_number)
        with ThreadPoolExecutor(max_workers=2) as pool:
            records_future = pool.submit(_records, order.order_number)
            customer_future = pool.submit(_customer, token) if token else None
            records = records_future.result()
            customer = customer_future.result() if customer_future else Section[types.CustomerView]()
    return OrderPage(
        order=order,
        fetched_at=fetched.fetched_at,
        stale=fetched.stale,
        records=records,
        customer=customer,
        token=token,
        findings=diagnose(order=order, customer=customer.value, customer_known=token is not None),
        support_reply=support_reply(order=order, customer=customer.value),
        timeline=audit_entries_for_order(order_number=order.order_number),
    )


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
    order_id = order_id_for_number(view.order_number)
    return CustomerPage(
        token=token, view=view, fetched_at=fetched.fetched_at, stale=fetched.stale, order_id=order_id
    )


def order_id_for_number(number: int) -> str | None:
    """The order ID of an order number, asking Fileflare when no answer has shown it yet; None when it
    cannot be learnt right now."""
    known = fileflare.order_id_for(number)
    if known is not None:
        return known
    try:
        listed = fileflare.order_list(order_number=number, with_assets=True).value.items
    except ApiError:
        return None
    match = next((order for order in listed if order.order_number == number), None)
    return match.id if match is not None else None
