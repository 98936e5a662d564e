"""Fileflare: orders, assets, products (v1, bearer key) and the customer's download page (v2, no auth)."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache as django_cache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from fileflare_admin.api import cache, validators
from fileflare_admin.api._reads import get, parsed_once
from fileflare_admin.api.errors import ApiError, BadResponse, NotFound
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE, send
from fileflare_admin.api.types import Asset, CustomerView, Fetched, Order, Page, Product, data_list


def _laravel_page(payload: Any, parse: Any, what: StrOrPromise, *, page: int, limit: int) -> Page[Any]:
    items = tuple(parse(item) for item in data_list(payload, what))
    meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
    total, last = meta.get("total"), meta.get("last_page")
    return Page(
        items=items,
        page=int(meta.get("current_page") or page),
        per_page=int(meta.get("per_page") or limit),
        total=total if isinstance(total, int) else None,
        last_page=last if isinstance(last, int) else None,
    )


def _paged(
    path: str,
    params: dict[str, Any],
    parse: Any,
    what: StrOrPromise,
    *,
    page: int,
    limit: int,
    on_fetch: Callable[[Any], None] | None = None,
    fresh: bool = False,
) -> Fetched[Page[Any]]:
    fetched = get(
        FILEFLARE,
        path,
        {**params, "page": page, "limit": min(max(limit, 1), 1000)},
        on_fetch=on_fetch,
        fresh=fresh,
        family=LISTS,
    )
    # Parsed once per saved answer (the landing page's 1,000 orders with their files: ~10 ms a load).
    answer = (FILEFLARE.identity(), path, tuple(sorted(params.items())), page, limit, fetched.fetched_at)
    parsed = parsed_once(answer, lambda: _laravel_page(fetched.value, parse, what, page=page, limit=limit))
    return Fetched(parsed, fetched.fetched_at, fetched.stale)


def order_list(
    *,
    page: int = 1,
    limit: int = 25,
    order_number: int | None = None,
    with_assets: bool = False,
    fresh: bool = False,
) -> Fetched[Page[Order]]:
    """`fresh` reads past the cache (the order index keeping its newest pages fresh)."""
    params: dict[str, Any] = {}
    if order_number is not None:
        params["order_number"] = int(order_number)
    if with_assets:
        params["with_assets"] = "true"
    return _paged(
        "/v1/orders",
        params,
        Order.from_json,
        gettext_lazy("a list of orders"),
        page=page,
        limit=limit,
        on_fetch=_prime_single_orders if with_assets else _remember_listed_numbers,
        fresh=fresh,
    )


def _single_order_key(order_id: str) -> str:
    return cache.read_key("fileflare", FILEFLARE.identity(), f"/v1/orders/{order_id}", {"with_assets": 1})


# --- which order ID has which order number --------------------------------------------------------
# A fact that never changes, kept in one place for the whole dashboard: every answer that shows an order
# (a list, a single order, a resend) records both directions, keyed by the API identity like the read
# cache, so the order page can ask for the order, its records and the customer's view at the same time.
ORDER_NUMBER_TTL = 30 * 24 * 3600


def _number_key(number: int) -> str:
    return f"ffa:order-id:{FILEFLARE.identity()}:{int(number)}"


def _id_key(order_id: str) -> str:
    return f"ffa:order-number:{FILEFLARE.identity()}:{order_id}"


def _number_entries(items: list[Any]) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("order_number"), int):
            continue
        try:
            order_id = validators.order_id(item.get("id"))
        except ApiError:
            continue
        entries[_number_key(item["order_number"])] = order_id
        entries[_id_key(order_id)] = item["order_number"]
    return entries


def _remember_numbers(payload: Any, what: StrOrPromise) -> None:
    try:
        items = data_list(payload, what)
    except BadResponse:
        return
    django_cache.set_many(_number_entries(items), timeout=ORDER_NUMBER_TTL)


def _remember_listed_numbers(payload: Any) -> None:
    _remember_numbers(payload, gettext_lazy("a list of orders"))


def order_number_for(order_id: str) -> int | None:
    """The order number of this order ID, if an answer has shown it (no request is made)."""
    number = django_cache.get(_id_key(order_id.lower()))
    return number if isinstance(number, int) else None


def order_id_for(order_number: int) -> str | None:
    """The order ID of this order number, if an answer has shown it (no request is made)."""
    order_id = django_cache.get(_number_key(order_number))
    return order_id if isinstance(order_id, str) else None


def _prime_single_orders(payload: Any) -> None:
    """A list fetched with its assets holds each order exactly as GET /v1/orders/{id}?with_assets=1 would
    answer it: keep them (in one round trip to the cache), so opening an order found by a search costs no
    second call. Which ID has which number is kept too (longer: it never changes)."""
    try:
        items = data_list(payload, gettext_lazy("a list of orders"))
    except BadResponse:
        return
    entries: dict[str, Any] = {}
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("assets"), list)):
            continue
        try:
            order_id = validators.order_id(item.get("id"))
        except ApiError:
            continue
        entries[_single_order_key(order_id)] = {"data": [item]}
    cache.store_many(entries)
    django_cache.set_many(_number_entries(items), timeout=ORDER_NUMBER_TTL)


RECENT_ORDERS = 1000  # the most one list call returns
# Cached lists form their own family: a resend changes one order, so it drops the lists (which show
# e-mail times) and refreshes that order from the PUT's answer, keeping every other cached order.
LISTS = "fileflare-lists"


def order_get(*, order_id: str, with_assets: bool = True, fresh: bool = False) -> Fetched[Order]:
    """`fresh` reads past the cache (to check the order before a write) and keeps what it got."""
    order_id = validators.order_id(order_id)
    # With assets, the answer may already be cached from a search's list (see _prime_single_orders).
    fetched = get(
        FILEFLARE,
        f"/v1/orders/{order_id}",
        {"with_assets": 1} if with_assets else None,
        fresh=fresh,
        on_fetch=lambda payload: _remember_numbers(payload, gettext_lazy("an order")),
    )
    items = data_list(fetched.value, gettext_lazy("an order"))
    if not items:
        raise NotFound(_("No order with that ID in this shop."))
    return Fetched(Order.from_json(items[0]), fetched.fetched_at, fetched.stale)


def email_budget() -> tuple[str, int]:
    """The shop's e-mail budget (its name, its e-mails a minute): every e-mail sent takes a slot of it."""
    return f"fileflare-email:{FILEFLARE.identity()}", int(settings.FILEFLARE_EMAIL_BUDGET_PER_MINUTE)


def order_send_email(*, order_id: str) -> Order:
    """PUT: (re)send the download e-mail. Spends the e-mail budget as well as the general one.

    Sent once, never repeated (it is not idempotent: each PUT sends an e-mail). A timeout or a 5xx after
    it went out raises OutcomeUnknown / Unavailable: orders.resend reads the order back to learn which."""
    order_id = validators.order_id(order_id)
    try:
        answer = send(
            FILEFLARE,
            "PUT",
            f"/v1/orders/{order_id}",
            body={},
            extra_budgets=(email_budget(),),
            repeatable=False,
        )
    except ApiError:
        cache.invalidate(LISTS)
        cache.mark_stale(_single_order_key(order_id))  # it may or may not have been sent: read afresh
        raise
    cache.invalidate(LISTS)
    items = data_list(answer.payload, gettext_lazy("an order")) if answer.payload else []
    django_cache.set_many(_number_entries(items), timeout=ORDER_NUMBER_TTL)
    if not items:
        cache.mark_stale(_single_order_key(order_id))
        raise BadResponse(_("Fileflare accepted the e-mail but did not send the order back."))
    if isinstance(items[0], dict) and isinstance(items[0].get("assets"), list):
        cache.store(_single_order_key(order_id), {"data": [items[0]]})
    else:
        cache.mark_stale(_single_order_key(order_id))
    return Order.from_json(items[0])


def _assets_change(order_id: str, asset_ids: list[str], action: str) -> None:
    order_id = validators.order_id(order_id)
    body = {"assets": [validators.order_id(asset_id) for asset_id in asset_ids]}
    try:
        send(FILEFLARE, "POST", f"/v1/orders/{order_id}/{action}", body=body)
    finally:
        cache.invalidate(FILEFLARE.name)
        cache.invalidate(LISTS)


def order_attach_assets(*, order_id: str, asset_ids: list[str]) -> None:
    _assets_change(order_id, asset_ids, "attach")


def order_detach_assets(*, order_id: str, asset_ids: list[str]) -> None:
    _assets_change(order_id, asset_ids, "detach")


def asset_list(*, filename: str | None = None, page: int = 1, limit: int = 25) -> Fetched[Page[Asset]]:
    return _paged(
        "/v1/assets",
        {"filename": filename} if filename else {},
        Asset.from_json,
        gettext_lazy("a list of assets"),
        page=page,
        limit=limit,
    )


def product_list(
    *, name: str | None = None, sku: str | None = None, page: int = 1, limit: int = 25
) -> Fetched[Page[Product]]:
    params = {key: value for key, value in (("name", name), ("sku", sku)) if value}
    products = gettext_lazy("a list of products")
    return _paged("/v1/products", params, Product.from_json, products, page=page, limit=limit)


# The customer's page shows the order's files (Fileflare's writes) and how often each was downloaded,
# which a shop that counts downloads in its records takes from the downloads API: a write to either
# makes it stale.
CUSTOMER_VIEW = cache.family_showing("fileflare-customer", FILEFLARE.name, DOWNLOADS.name)


def customer_view_get(*, token: str, fresh: bool = False) -> Fetched[CustomerView]:
    """v2 needs no key, but goes through the same budget and cache: it is the same shop's quota.
    `fresh` reads past the cache (to show what the customer sees right after a fix) and keeps it."""
    token = validators.customer_token(token)
    fetched = get(FILEFLARE, "/v2/customer-account-orders", {"id": token}, fresh=fresh, family=CUSTOMER_VIEW)
    return Fetched(CustomerView.from_json(fetched.value), fetched.fetched_at, fetched.stale)
