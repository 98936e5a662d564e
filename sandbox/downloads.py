"""The downloads API: WP EasyCart's Downloads resource (../shared/api-reference/004)."""

import base64
import binascii
import math
import random
import re
import secrets
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox.common import answer
from sandbox.laravel import Params, invalid, read_json
from sandbox.models import DownloadRecord
from sandbox.seed import new_download_id

DOWNLOAD_ID_RE = re.compile(r"^[0-9a-zA-Z]+$")
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


def _authorized(request: HttpRequest, *, write: bool) -> bool:
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


def _create(request: HttpRequest) -> HttpResponse:
    if not _authorized(request, write=True):
        return _unauthorized()
    body, error = read_json(request)
    if error:
        return error
    values, errors = _record_fields(body or {}, partial=False)
    if values.get("is_amazon") and not values.get("amazon_key"):
        errors.setdefault("amazon_key", []).append("The amazon_key field is required when is_amazon is true.")
    if errors:
        return invalid(errors)
    now = timezone.now().replace(microsecond=0)
    record = DownloadRecord.objects.create(
        download_id=new_download_id(random.Random(), now), date_created=now, **values
    )
    return answer(record_json(record))


def _list(request: HttpRequest) -> HttpResponse:
    if not _authorized(request, write=False):
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
def downloads(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create(request)
    if request.method != "GET":
        return answer({"error": "Method not allowed"}, status=405)
    return _list(request)


def _update(request: HttpRequest, record: DownloadRecord) -> HttpResponse:
    body, error = read_json(request)
    if error:
        return error
    values, errors = _record_fields(body or {}, partial=True)
    if values.get("is_amazon", record.is_amazon) and not values.get("amazon_key", record.amazon_key):
        errors.setdefault("amazon_key", []).append("The amazon_key field is required when is_amazon is true.")
    if errors:
        return invalid(errors)
    for name, value in values.items():
        setattr(record, name, value)
    record.save()
    return answer(record_json(record))


@csrf_exempt
def download_detail(request: HttpRequest, download_id: str) -> HttpResponse:
    write = request.method in ("PATCH", "DELETE", "PUT", "POST")
    if not _authorized(request, write=write):
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
        return _update(request, record)
