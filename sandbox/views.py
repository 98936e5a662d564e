"""The two upstream APIs as their vendors document them (see sandbox/README.md for what is decided here)."""

import base64
import binascii
import json
import math
import random
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox import state
from sandbox.models import Asset, DownloadRecord, Order, OrderAsset, OutboxMessage
from sandbox.seed import SHOP_STATUS_URL, _download_id

View = Callable[..., HttpResponse]
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
DOWNLOAD_ID_RE = re.compile(r"^[0-9a-zA-Z]+$")
TRUE_VALUES = {"1", "true", "yes", "on"}


# --- answers -----------------------------------------------------------------------------------------
def answer(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def invalid(errors: dict[str, list[str]]) -> HttpResponse:
    """Laravel's 422: the first message, "(and N more errors)", and every message by field."""
    messages = [message for field_messages in errors.values() for message in field_messages]
    summary = messages[0] + (
        f" (and {len(messages) - 1} more error{'s' if len(messages) > 2 else ''})"
        if len(messages) > 1
        else ""
    )
    return answer({"message": summary, "errors": errors}, status=422)


def not_found() -> HttpResponse:
    return answer({"message": "Not found."}, status=404)


def epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


class Params:
    """Query parameters checked the way Laravel's validator would, collecting every error."""

    def __init__(self, request: HttpRequest) -> None:
        self.query = request.GET
        self.errors: dict[str, list[str]] = {}

    def integer(self, name: str, default: int | None, minimum: int = 1) -> int | None:
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        if not re.fullmatch(r"-?\d{1,18}", raw):
            self.errors.setdefault(name, []).append(f"The {name} field must be an integer.")
            return default
        value = int(raw)
        if value < minimum:
            self.errors.setdefault(name, []).append(f"The {name} field must be at least {minimum}.")
            return default
        return value

    def flag(self, name: str) -> bool:
        return str(self.query.get(name, "")).lower() in TRUE_VALUES


def read_json(request: HttpRequest) -> tuple[dict[str, Any] | None, HttpResponse | None]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None, invalid({"body": ["The request body must be valid JSON."]})
    if not isinstance(body, dict):
        return None, invalid({"body": ["The request body must be a JSON object."]})
    return body, None


# --- Fileflare ---------------------------------------------------------------------------------------
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
            shown = checks[-1]
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
            if shown.limit:
                response["X-RateLimit-Limit"] = str(shown.limit)
                response["X-RateLimit-Remaining"] = str(shown.remaining)
            return response

        return wrapper

    return decorate


def asset_json(asset: Asset) -> dict[str, Any]:
    return {
        "id": str(asset.id),
        "filename": asset.filename,
        "size": asset.size,
        "is_file": asset.is_file,
        "is_link": not asset.is_file,
        "url": asset.url,
    }


def order_json(order: Order, *, with_assets: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(order.id),
        "order_number": order.order_number,
        "email_sent_at": epoch(order.email_sent_at),
        "ordered_at": epoch(order.ordered_at),
    }
    if with_assets:
        data["assets"] = [asset_json(attached.asset) for attached in order.order_assets.all()]
    return data


def _page_url(path: str, page: int) -> str:
    return f"{path}?page={page}"


def _meta_links(path: str, current: int, last: int) -> list[dict[str, Any]]:
    """Laravel's UrlWindow with onEachSide = 3: all pages when few, else a slider with "..." gaps."""
    on_each_side, window = 3, 7
    if last < on_each_side * 2 + 8:
        parts: list[list[int] | None] = [list(range(1, last + 1)), None, None]
    elif current <= window:
        parts = [list(range(1, window + on_each_side + 1)), None, [last - 1, last]]
    elif current > last - window:
        parts = [[1, 2], None, list(range(last - (window + on_each_side - 1), last + 1))]
    else:
        parts = [[1, 2], list(range(current - on_each_side, current + on_each_side + 1)), [last - 1, last]]
    links = [
        {"url": _page_url(path, current - 1) if current > 1 else None, "label": "« Previous", "active": False}
    ]
    for index, pages in enumerate(parts):
        if pages is None:
            continue
        if index > 0:
            links.append({"url": None, "label": "...", "active": False})
        links += [
            {"url": _page_url(path, page), "label": str(page), "active": page == current} for page in pages
        ]
    links.append(
        {"url": _page_url(path, current + 1) if current < last else None, "label": "Next »", "active": False}
    )
    return links


def laravel_page(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    per_page: int,
    page: int,
    serialize: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    total = queryset.count()
    last = max(1, math.ceil(total / per_page))
    rows = [serialize(row) for row in queryset[(page - 1) * per_page : page * per_page]]
    first_index = (page - 1) * per_page + 1 if rows else None
    path = request.build_absolute_uri(request.path)
    return {
        "data": rows,
        "links": {
            "first": _page_url(path, 1),
            "last": _page_url(path, last),
            "prev": _page_url(path, page - 1) if page > 1 else None,
            "next": _page_url(path, page + 1) if page < last else None,
        },
        "meta": {
            "current_page": page,
            "from": first_index,
            "last_page": last,
            "links": _meta_links(path, page, last),
            "path": path,
            "per_page": per_page,
            "to": first_index + len(rows) - 1 if first_index else None,
            "total": total,
        },
    }


def _limit_and_page(params: Params) -> tuple[int, int]:
    limit = params.integer("limit", 25)
    page = params.integer("page", 1)
    return min(limit or 25, 1000), page or 1


@fileflare_api()
def orders(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return answer(
            {"message": f"The {request.method} method is not supported for this route."}, status=405
        )
    params = Params(request)
    limit, page = _limit_and_page(params)
    number = params.integer("order_number", None)
    with_assets = params.flag("with_assets")
    if params.errors:
        return invalid(params.errors)
    queryset = Order.objects.order_by("-ordered_at", "-order_number")
    if number is not None:
        queryset = queryset.filter(order_number=number)
    if with_assets:
        queryset = queryset.prefetch_related("order_assets__asset")
    return answer(
        laravel_page(
            request,
            queryset,
            per_page=limit,
            page=page,
            serialize=lambda order: order_json(order, with_assets=with_assets),
        )
    )


def _find_order(order_id: str) -> Order | None:
    try:
        return Order.objects.prefetch_related("order_assets__asset").get(id=uuid.UUID(order_id))
    except (ValueError, Order.DoesNotExist):
        return None


@csrf_exempt
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    """GET answers the order; PUT sends the download e-mail (under the stricter e-mail limit)."""
    if request.method == "PUT":
        return send_email(request, order_id)
    return order_get(request, order_id)


@fileflare_api()
def order_get(request: HttpRequest, order_id: str) -> HttpResponse:
    if request.method != "GET":
        return answer(
            {"message": f"The {request.method} method is not supported for this route."}, status=405
        )
    order = _find_order(order_id)
    if order is None:
        return not_found()
    # The documented example answers one order as a list of one.
    return answer({"data": [order_json(order, with_assets=Params(request).flag("with_assets"))]})


def customer_status_url(order: Order) -> str:
    return SHOP_STATUS_URL.format(token=order.customer_token)


@fileflare_api(email=True)
def send_email(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _find_order(order_id)
    if order is None:
        return not_found()
    order.email_sent_at = timezone.now().replace(microsecond=0)
    order.save(update_fields=["email_sent_at"])
    files = [
        f"- {line_asset.asset.filename}: {line_asset.asset.url or customer_status_url(order)}"
        for line in order.lines.select_related("product").prefetch_related("line_assets__asset")
        for line_asset in line.line_assets.all()
    ]
    files += [
        f"- {attached.asset.filename}: {attached.asset.url or customer_status_url(order)}"
        for attached in order.order_assets.all()
    ]
    OutboxMessage.objects.create(
        order_number=order.order_number,
        to=order.customer_email,
        subject=f"Your downloads for order #{order.order_number}",
        body=(
            f"Hello,\n\nThank you for your order #{order.order_number}. Your files are ready:\n\n"
            + ("\n".join(files) or "(no files are attached to this order yet)")
            + f"\n\nYou can always find them on your order page: {customer_status_url(order)}\n"
        ),
    )
    return answer({"data": order_json(order, with_assets=True)})


def _asset_ids(request: HttpRequest) -> tuple[list[Asset] | None, HttpResponse | None]:
    body, error = read_json(request)
    if error:
        return None, error
    raw = body.get("assets") if body else None
    if not isinstance(raw, list) or not raw:
        return None, invalid({"assets": ["The assets field is required and must be a list."]})
    found, errors = [], {}
    for index, value in enumerate(raw):
        try:
            found.append(Asset.objects.get(id=uuid.UUID(str(value))))
        except (ValueError, Asset.DoesNotExist):
            errors[f"assets.{index}"] = [f"The selected assets.{index} is invalid."]
    return (None, invalid(errors)) if errors else (found, None)


@fileflare_api()
def order_attach(request: HttpRequest, order_id: str) -> HttpResponse:
    return _attach_or_detach(request, order_id, attach=True)


@fileflare_api()
def order_detach(request: HttpRequest, order_id: str) -> HttpResponse:
    return _attach_or_detach(request, order_id, attach=False)


def _attach_or_detach(request: HttpRequest, order_id: str, *, attach: bool) -> HttpResponse:
    if request.method != "POST":
        return answer(
            {"message": f"The {request.method} method is not supported for this route."}, status=405
        )
    order = _find_order(order_id)
    if order is None:
        return not_found()
    assets, error = _asset_ids(request)
    if error:
        return error
    for asset in assets or []:
        if attach:
            OrderAsset.objects.get_or_create(order=order, asset=asset)
        else:
            OrderAsset.objects.filter(order=order, asset=asset).delete()
    order = _find_order(order_id)
    return answer({"data": order_json(order, with_assets=True)})  # type: ignore[arg-type]


@fileflare_api()
def assets(request: HttpRequest) -> HttpResponse:
    params = Params(request)
    limit, page = _limit_and_page(params)
    if params.errors:
        return invalid(params.errors)
    queryset = Asset.objects.order_by("filename", "id")
    if request.GET.get("filename"):
        queryset = queryset.filter(filename__icontains=request.GET["filename"])
    return answer(laravel_page(request, queryset, per_page=limit, page=page, serialize=asset_json))


@fileflare_api()
def products(request: HttpRequest) -> HttpResponse:
    from sandbox.models import Product

    params = Params(request)
    limit, page = _limit_and_page(params)
    product_id = params.integer("product_id", None)
    if params.errors:
        return invalid(params.errors)
    queryset = Product.objects.order_by("name", "variant_id")
    for name in ("name", "sku", "vendor"):
        if request.GET.get(name):
            queryset = queryset.filter(**{f"{name}__icontains": request.GET[name]})
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    tag = request.GET.get("tag")
    rows = laravel_page(
        request, queryset, per_page=limit, page=page, serialize=lambda product: product.as_json()
    )
    if tag:  # JSON containment is not portable across databases; tags are few, so filter in Python
        matching = [product.pk for product in queryset if tag in product.tags]
        rows = laravel_page(
            request,
            queryset.filter(pk__in=matching),
            per_page=limit,
            page=page,
            serialize=lambda product: product.as_json(),
        )
    return answer(rows)


def customer_view_json(order: Order) -> dict[str, Any]:
    def limited(link: Any) -> dict[str, Any]:
        return {
            "limits": {"downloaded": link.downloaded, "limit": link.limit},
            "data": asset_json(link.asset),
        }

    lines = order.lines.select_related("product").prefetch_related("line_assets__asset")
    return {
        "order": {
            "order_number": order.order_number,
            "lines": [
                {
                    "product": line.product.as_json(),
                    "assets": [limited(link) for link in line.line_assets.all()],
                }
                for line in lines
            ],
            "assets": [limited(link) for link in order.order_assets.select_related("asset")],
        },
        "text": {"title": order.text_title, "text": order.text_text},
    }


@csrf_exempt
def customer_account_orders(request: HttpRequest) -> HttpResponse:
    """v2: no authentication, and no rate limit documented."""
    token = request.GET.get("id", "")
    if not TOKEN_RE.fullmatch(token):
        return not_found()
    order = Order.objects.filter(customer_token=token).first()
    if order is None:
        return not_found()
    return answer(customer_view_json(order))


# --- the downloads API (WP EasyCart) -----------------------------------------------------------------
RECORD_FIELDS = (
    "download_id",
    "date_created",
    "product_id",
    "order_id",
    "download_count",
    "download_file_name",
    "is_amazon",
    "amazon_key",
)


def record_json(record: DownloadRecord) -> dict[str, Any]:
    return {
        "download_id": record.download_id,
        "date_created": timezone.localtime(record.date_created, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "product_id": record.product_id,
        "order_id": record.order_id,
        "download_count": record.download_count,
        "download_file_name": record.download_file_name,
        "is_amazon": record.is_amazon,
        "amazon_key": record.amazon_key,
    }


def _downloads_auth(request: HttpRequest, *, write: bool) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    token = settings.SANDBOX_DOWNLOADS_TOKEN
    if scheme.lower() == "bearer":
        return secrets.compare_digest(value.strip().encode(), token.encode())
    if scheme.lower() == "basic" and not write:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = f"{token}:{settings.SANDBOX_DOWNLOADS_SECRET}"
        return secrets.compare_digest(decoded.encode(), expected.encode())
    return False


def _unauthorized() -> HttpResponse:
    return answer({"error": "Unauthorized"}, status=400)


def _record_fields(body: dict[str, Any], *, partial: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    values, errors = {}, {}
    for name in ("product_id", "order_id"):
        if name in body:
            value = body[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                errors[name] = [f"The {name} field must be a positive integer."]
            else:
                values[name] = value
    if "download_count" in body:
        value = body["download_count"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors["download_count"] = ["The download_count field must be a whole number of at least 0."]
        else:
            values["download_count"] = value
    for name in ("download_file_name", "amazon_key"):
        if name in body:
            if not isinstance(body[name], str):
                errors[name] = [f"The {name} field must be a string."]
            else:
                values[name] = body[name]
    if "is_amazon" in body:
        if not isinstance(body["is_amazon"], bool):
            errors["is_amazon"] = ["The is_amazon field must be true or false."]
        else:
            values["is_amazon"] = body["is_amazon"]
    unknown = sorted(set(body) - set(RECORD_FIELDS))
    if unknown:
        errors[unknown[0]] = [f"The {unknown[0]} field is not a field of a download."]
    if not partial and not errors and not values:
        errors["body"] = ["Submit at least one field of the download."]
    return values, errors


@csrf_exempt
def downloads(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not _downloads_auth(request, write=True):
            return _unauthorized()
        body, error = read_json(request)
        if error:
            return error
        values, errors = _record_fields(body or {}, partial=False)
        if values.get("is_amazon") and not values.get("amazon_key"):
            errors.setdefault("amazon_key", []).append(
                "The amazon_key field is required when is_amazon is true."
            )
        if errors:
            return invalid(errors)
        now = timezone.now().replace(microsecond=0)
        record = DownloadRecord.objects.create(
            download_id=_download_id(random.Random(), now), date_created=now, **values
        )
        return answer(record_json(record))
    if request.method != "GET":
        return answer({"error": "Method not allowed"}, status=405)
    if not _downloads_auth(request, write=False):
        return _unauthorized()
    params = Params(request)
    page = params.integer("page", 1) or 1
    per_page = min(params.integer("perpage", 25) or 25, 500)
    sortby = request.GET.get("sortby") or "date_created"
    sortdir = (request.GET.get("sortdir") or "DESC").upper()
    if sortby not in RECORD_FIELDS:
        params.errors["sortby"] = [f"The sortby field must be one of: {', '.join(RECORD_FIELDS)}."]
    if sortdir not in ("ASC", "DESC"):
        params.errors["sortdir"] = ["The sortdir field must be ASC or DESC."]
    if params.errors:
        return invalid(params.errors)
    queryset = DownloadRecord.objects.all()
    search = (request.GET.get("search") or "").strip()
    if search:
        matches = Q(download_id__icontains=search) | Q(download_file_name__icontains=search)
        if search.isdecimal() and len(search) < 19:
            matches |= Q(order_id=int(search)) | Q(product_id=int(search))
        queryset = queryset.filter(matches)
    prefix = "-" if sortdir == "DESC" else ""
    queryset = queryset.order_by(f"{prefix}{sortby}", f"{prefix}download_id")
    total = queryset.count()
    rows = [record_json(record) for record in queryset[(page - 1) * per_page : page * per_page]]
    return answer(
        rows, headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(max(1, math.ceil(total / per_page)))}
    )


@csrf_exempt
def download_detail(request: HttpRequest, download_id: str) -> HttpResponse:
    write = request.method in ("PATCH", "DELETE", "PUT", "POST")
    if not _downloads_auth(request, write=write):
        return _unauthorized()
    if not DOWNLOAD_ID_RE.fullmatch(download_id):
        return invalid({"download_id": ["The download_id must contain only letters and digits."]})
    if request.method not in ("GET", "PATCH", "DELETE"):
        return answer({"error": "Method not allowed"}, status=405)
    with transaction.atomic():
        record = DownloadRecord.objects.filter(download_id=download_id).first()
        if record is None:
            return answer({"error": "Not found"}, status=404)
        if request.method == "GET":
            return answer(record_json(record))
        if request.method == "DELETE":
            data = record_json(record)
            record.delete()
            return answer(data)
        body, error = read_json(request)
        if error:
            return error
        values, errors = _record_fields(body or {}, partial=True)
        if values.get("is_amazon", record.is_amazon) and not values.get("amazon_key", record.amazon_key):
            errors.setdefault("amazon_key", []).append(
                "The amazon_key field is required when is_amazon is true."
            )
        if errors:
            return invalid(errors)
        for name, value in values.items():
            setattr(record, name, value)
        record.save()
        return answer(record_json(record))
