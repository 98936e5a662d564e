"""Fileflare's v1 API (../shared/api-reference/ 000 to 003 and NOTES.md): orders, the download e-mail,
attach/detach, assets, products. Bearer key, 60 requests a minute a key (the e-mail call also 30)."""

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox import state
from sandbox.common import answer, epoch
from sandbox.customer import customer_status_url
from sandbox.laravel import Params, method_not_allowed, not_found, paginate, read_json
from sandbox.laravel import invalid as laravel_invalid
from sandbox.models import Asset, Order, OrderAsset, OutboxMessage, Product

View = Callable[..., HttpResponse]


def fileflare_api(*, email: bool = False) -> Callable[[View], View]:
    """Bearer key, then Fileflare's limits (60 a minute a key; the e-mail call also 30 a minute)."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            header = request.headers.get("Authorization", "")
            key = header[7:].strip() if header[:7].lower() == "bearer " else ""
            if not key or not secrets.compare_digest(key.encode(), settings.SANDBOX_FILEFLARE_KEY.encode()):
                return answer({"message": "Unauthenticated."}, status=401)
            limits = state.config()
            checks = [state.throttle(key, "api", int(limits["rate_limit"]))]
            if email:
                checks.append(state.throttle(key, "email", int(limits["email_rate_limit"])))
            for check in checks:
                if not check.allowed:
                    return answer(
                        {"message": "Too Many Attempts."},
                        status=429,
                        headers={
                            "X-RateLimit-Limit": str(check.limit),
                            "X-RateLimit-Remaining": "0",
                            "Retry-After": str(check.retry_after),
                        },
                    )
            response = view(request, *args, **kwargs)
            shown = checks[-1]
            if shown.limit:
                response["X-RateLimit-Limit"] = str(shown.limit)
                response["X-RateLimit-Remaining"] = str(shown.remaining)
            return response

        return wrapper

    return decorate


def order_json(order: Order, *, with_assets: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(order.id),
        "order_number": order.order_number,
        "email_sent_at": epoch(order.email_sent_at),
        "ordered_at": epoch(order.ordered_at),
    }
    if with_assets:
        data["assets"] = [attached.asset.as_json() for attached in order.order_assets.all()]
    return data


def find_order(order_id: str) -> Order | None:
    try:
        return Order.objects.prefetch_related("order_assets__asset").get(id=uuid.UUID(order_id))
    except (ValueError, Order.DoesNotExist):
        return None


@fileflare_api()
def orders(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return method_not_allowed(request)
    params = Params(request)
    limit, page = params.limit_and_page()
    number = params.integer("order_number", None)
    with_assets = params.flag("with_assets")
    if params.errors:
        return laravel_invalid(params.errors)
    queryset = Order.objects.order_by("-ordered_at", "-order_number")
    if number is not None:
        queryset = queryset.filter(order_number=number)
    if with_assets:
        queryset = queryset.prefetch_related("order_assets__asset")
    return answer(
        paginate(
            request,
            queryset,
            per_page=limit,
            page=page,
            serialize=lambda order: order_json(order, with_assets=with_assets),
        )
    )


@csrf_exempt
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    """GET answers the order; PUT sends the download e-mail (under the stricter e-mail limit)."""
    if request.method == "PUT":
        return send_email(request, order_id)
    return order_get(request, order_id)


@fileflare_api()
def order_get(request: HttpRequest, order_id: str) -> HttpResponse:
    if request.method != "GET":
        return method_not_allowed(request)
    order = find_order(order_id)
    if order is None:
        return not_found()
    # The documented example answers one order as a list of one.
    return answer({"data": [order_json(order, with_assets=Params(request).flag("with_assets"))]})


def _email_body(order: Order) -> str:
    status_url = customer_status_url(order)
    files = [
        f"- {line_asset.asset.filename}: {line_asset.asset.url or status_url}"
        for line in order.lines.select_related("product").prefetch_related("line_assets__asset")
        for line_asset in line.line_assets.all()
    ]
    files += [
        f"- {attached.asset.filename}: {attached.asset.url or status_url}"
        for attached in order.order_assets.select_related("asset")
    ]
    return (
        f"Hello,\n\nThank you for your order #{order.order_number}. Your files are ready:\n\n"
        + ("\n".join(files) or "(no files are attached to this order yet)")
        + f"\n\nYou can always find them on your order page: {status_url}\n"
    )


@fileflare_api(email=True)
def send_email(request: HttpRequest, order_id: str) -> HttpResponse:
    order = find_order(order_id)
    if order is None:
        return not_found()
    email_send(order, at=timezone.now())
    return answer({"data": order_json(order, with_assets=True)})


def email_send(order: Order, *, at: datetime) -> None:
    """The download e-mail "sent" (into the outbox), and the order's `email_sent_at` set: by the e-mail
    call, and by the trickle's new orders (sandbox.trickle)."""
    order.email_sent_at = at.replace(microsecond=0)
    order.save(update_fields=["email_sent_at"])
    OutboxMessage.objects.create(
        order_number=order.order_number,
        to=order.customer_email,
        subject=f"Your downloads for order #{order.order_number}",
        body=_email_body(order),
    )


def _assets_named(request: HttpRequest) -> tuple[list[Asset] | None, HttpResponse | None]:
    """The body's asset ids: `{"assets": [...]}` (the documents) or `{"asset_ids": [...]}` (newer pages).

    An empty or missing list is Laravel's 422; an id that is no asset of the shop is a 404, as Laravel's
    findOrFail would answer it.
    """
    body, error = read_json(request)
    if error:
        return None, error
    body = body or {}
    field = "asset_ids" if "asset_ids" in body and "assets" not in body else "assets"
    raw = body.get(field)
    if not isinstance(raw, list) or not raw:
        return None, laravel_invalid({field: [f"The {field} field is required."]})
    wanted: list[uuid.UUID] = []
    malformed: dict[str, list[str]] = {}
    for index, value in enumerate(raw):
        try:
            wanted.append(uuid.UUID(str(value)))
        except ValueError:
            malformed[f"{field}.{index}"] = [f"The {field}.{index} field must be a valid UUID."]
    if malformed:
        return None, laravel_invalid(malformed)
    found = {asset.id: asset for asset in Asset.objects.filter(id__in=wanted)}
    if any(asset_id not in found for asset_id in wanted):
        return None, not_found()
    return [found[asset_id] for asset_id in dict.fromkeys(wanted)], None


def _attach_or_detach(request: HttpRequest, order_id: str, *, attach: bool) -> HttpResponse:
    if request.method != "POST":
        return method_not_allowed(request)
    order = find_order(order_id)
    if order is None:
        return not_found()
    assets, error = _assets_named(request)
    if error:
        return error
    for asset in assets or []:
        if attach:
            OrderAsset.objects.get_or_create(order=order, asset=asset)  # twice is once
        else:
            OrderAsset.objects.filter(order=order, asset=asset).delete()
    refreshed = find_order(order_id) or order
    return answer({"data": order_json(refreshed, with_assets=True)}, status=201)


@fileflare_api()
def order_attach(request: HttpRequest, order_id: str) -> HttpResponse:
    return _attach_or_detach(request, order_id, attach=True)


@fileflare_api()
def order_detach(request: HttpRequest, order_id: str) -> HttpResponse:
    return _attach_or_detach(request, order_id, attach=False)


@fileflare_api()
def assets(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return method_not_allowed(request)
    params = Params(request)
    limit, page = params.limit_and_page()
    if params.errors:
        return laravel_invalid(params.errors)
    queryset = Asset.objects.order_by("filename", "id")
    if request.GET.get("filename"):
        queryset = queryset.filter(filename__icontains=request.GET["filename"])
    return answer(paginate(request, queryset, per_page=limit, page=page, serialize=Asset.as_json))


@fileflare_api()
def products(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return method_not_allowed(request)
    params = Params(request)
    limit, page = params.limit_and_page()
    product_id = params.integer("product_id", None)
    if params.errors:
        return laravel_invalid(params.errors)
    queryset = Product.objects.order_by("name", "variant_id")
    for name in ("name", "sku", "vendor"):
        if request.GET.get(name):
            queryset = queryset.filter(**{f"{name}__icontains": request.GET[name]})
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    tag = request.GET.get("tag")
    if tag:  # JSON containment is not portable across databases; tags are few, so filter in Python
        queryset = queryset.filter(pk__in=[product.pk for product in queryset if tag in product.tags])
    return answer(paginate(request, queryset, per_page=limit, page=page, serialize=Product.as_json))
