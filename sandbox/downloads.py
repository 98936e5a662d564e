"""The downloads API: WP EasyCart's Downloads resource (../shared/api-reference/004), answered as a
WordPress plugin's REST routes are (see sandbox/README.md, "The downloads API as WordPress serves it").

WordPress's order: the route (path and method) must match, else 404 rest_no_route; then the arguments
are checked against their schema (400 rest_invalid_param); then the permission callback (the document's
400 "Unauthorized"); then the callback itself.
"""

import base64
import binascii
import math
import random
import secrets
from datetime import tzinfo
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox import state
from sandbox.common import answer, json_body
from sandbox.models import DownloadRecord, atomic
from sandbox.seed import new_download_id
from sandbox.wordpress import (
    Invalid,
    boolean,
    integer,
    invalid_json,
    invalid_params,
    no_route,
    one_of,
    rest_error,
    server_zone,
    string,
)

# The columns of ec_download: what `sortby` can name (it goes into ORDER BY on a real server).
COLUMNS = (
    "download_id",
    "date_created",
    "product_id",
    "order_id",
    "download_count",
    "download_file_name",
    "is_amazon_download",
    "amazon_key",
)
MAX_PER_PAGE = 500


def record_json(record: DownloadRecord, *, rows: str, zone: tzinfo) -> dict[str, Any]:
    """A row as the configured dialect renders it; date_created in the connection's time zone."""
    created = record.date_created.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if rows == "wpdb":  # $wpdb returns every column as a string, under its column name
        return {
            "download_id": record.download_id,
            "date_created": created,
            "product_id": str(record.product_id),
            "order_id": str(record.order_id),
            "download_count": str(record.download_count),
            "download_file_name": record.download_file_name,
            "is_amazon_download": "1" if record.is_amazon_download else "0",
            "amazon_key": record.amazon_key,
        }
    return {
        "download_id": record.download_id,
        "date_created": created,
        "product_id": record.product_id,
        "order_id": record.order_id,
        "download_count": record.download_count,
        "download_file_name": record.download_file_name,
        "is_amazon": record.is_amazon_download,
        "amazon_key": record.amazon_key,
    }


def _render(records: list[DownloadRecord] | DownloadRecord) -> Any:
    config = state.config()
    rows, zone = str(config["downloads_rows"]), server_zone(str(config["downloads_timezone"]))
    if isinstance(records, DownloadRecord):
        return record_json(records, rows=rows, zone=zone)
    return [record_json(record, rows=rows, zone=zone) for record in records]


def _authorized(request: HttpRequest, *, write: bool) -> bool:
    """Reads take bearer or basic (token:secret); writes need bearer (document 004)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
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
    """The document's 400 "Unauthorized", in WordPress's envelope."""
    return rest_error("rest_forbidden", "Unauthorized", 400)


# --- arguments -----------------------------------------------------------------------------------------
FIELD_RULES = {
    "product_id": lambda value, name: integer(value, name, minimum=1),
    "order_id": lambda value, name: integer(value, name, minimum=1),
    "download_count": lambda value, name: integer(value, name, minimum=0),
    "download_file_name": string,
    "amazon_key": string,
    "is_amazon": boolean,
    "is_amazon_download": boolean,
}


def _record_fields(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Invalid]]:
    """The body's download fields checked (columns → values) and the refused ones (name → why).

    The S3 flag is taken under the document's name (`is_amazon`) or the column's; unknown keys are
    ignored, as WordPress ignores arguments a route does not declare.
    """
    values: dict[str, Any] = {}
    problems: dict[str, Invalid] = {}
    for name, rule in FIELD_RULES.items():
        if name not in body:
            continue
        try:
            value = rule(body[name], name)
        except Invalid as problem:
            problems[name] = problem
            continue
        values["is_amazon_download" if name == "is_amazon" else name] = value
    return values, problems


def _key_missing() -> HttpResponse:
    """The plugin's own rule (the document implies it): a record on S3 needs its key."""
    return invalid_params(
        {"amazon_key": Invalid("rest_missing_amazon_key", "amazon_key is required for a download on S3.")}
    )


def _read_body(request: HttpRequest) -> tuple[dict[str, Any], HttpResponse | None]:
    body, problem = json_body(request)
    if problem is not None:
        return {}, invalid_json()
    return (body if isinstance(body, dict) else {}), None


def _list_arguments(request: HttpRequest) -> tuple[dict[str, Any], dict[str, Invalid]]:
    query = request.GET
    checks = {
        "page": lambda raw: integer(raw, "page", minimum=1),
        "perpage": lambda raw: integer(raw, "perpage", minimum=1),
        "sortby": lambda raw: one_of(raw, "sortby", COLUMNS),
        "sortdir": lambda raw: one_of(str(raw).upper(), "sortdir", ("ASC", "DESC")),
    }
    arguments: dict[str, Any] = {"page": 1, "perpage": 25, "sortby": "date_created", "sortdir": "DESC"}
    problems: dict[str, Invalid] = {}
    for name, check in checks.items():
        if query.get(name, "") == "":
            continue
        try:
            arguments[name] = check(query[name])
        except Invalid as problem:
            problems[name] = problem
    arguments["search"] = (query.get("search") or "").strip()
    return arguments, problems


def _matching(search: str) -> QuerySet[DownloadRecord]:
    queryset = DownloadRecord.objects.all()
    if search:
        matches = Q(download_id__icontains=search) | Q(download_file_name__icontains=search)
        if search.isdecimal() and len(search) < 19:
            matches |= Q(order_id=int(search)) | Q(product_id=int(search))
        queryset = queryset.filter(matches)
    return queryset


def _list(request: HttpRequest) -> HttpResponse:
    arguments, problems = _list_arguments(request)
    if problems:
        return invalid_params(problems)
    if not _authorized(request, write=False):
        return _unauthorized()
    page, per_page = arguments["page"], min(arguments["perpage"], MAX_PER_PAGE)
    prefix = "-" if arguments["sortdir"] == "DESC" else ""
    queryset = _matching(arguments["search"]).order_by(
        f"{prefix}{arguments['sortby']}", f"{prefix}download_id"
    )
    total = queryset.count()
    rows = _render(list(queryset[(page - 1) * per_page : page * per_page]))
    return answer(
        rows, headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(max(1, math.ceil(total / per_page)))}
    )


def _write_values(request: HttpRequest) -> tuple[dict[str, Any], HttpResponse | None]:
    """A write's fields, or the answer that refuses it: an unreadable body, a field out of range (as
    WordPress checks the schema before the permission callback), then a missing bearer token."""
    body, error = _read_body(request)
    if error:
        return {}, error
    values, problems = _record_fields(body)
    if problems:
        return {}, invalid_params(problems)
    if not _authorized(request, write=True):
        return {}, _unauthorized()
    return values, None


def _create(request: HttpRequest) -> HttpResponse:
    values, refused = _write_values(request)
    if refused is not None:
        return refused
    if not values:
        return rest_error("easycart_download_empty", "Submit at least one field of the download.", 400)
    if values.get("is_amazon_download") and not values.get("amazon_key"):
        return _key_missing()
    now = timezone.now().replace(microsecond=0)
    record = DownloadRecord.objects.create(
        download_id=new_download_id(random.Random(), now), date_created=now, **values
    )
    return answer(_render(record))


@csrf_exempt
def downloads(request: HttpRequest) -> HttpResponse:
    """`GET /downloads` (the list) and `POST /downloads` (a new record)."""
    if request.method == "POST":
        return _create(request)
    if request.method == "GET":
        return _list(request)
    return no_route(request)


def _update(request: HttpRequest, download_id: str) -> HttpResponse:
    values, refused = _write_values(request)
    if refused is not None:
        return refused
    with atomic():
        record = DownloadRecord.objects.select_for_update().filter(download_id=download_id).first()
        if record is None:
            return _no_record()
        on_s3 = values.get("is_amazon_download", record.is_amazon_download)
        if on_s3 and not values.get("amazon_key", record.amazon_key):
            return _key_missing()
        for name, value in values.items():
            setattr(record, name, value)
        record.save()
    return answer(_render(record))


def _no_record() -> HttpResponse:
    return rest_error("rest_download_invalid_id", "Invalid download ID.", 404)


@csrf_exempt
def download_detail(request: HttpRequest, download_id: str) -> HttpResponse:
    """`GET|PATCH|DELETE /downloads/{download_id}`; the route's pattern is the document's ^[0-9a-zA-Z]+$."""
    if request.method == "PATCH":
        return _update(request, download_id)
    if request.method not in ("GET", "DELETE"):
        return no_route(request)
    if not _authorized(request, write=request.method == "DELETE"):
        return _unauthorized()
    record = DownloadRecord.objects.filter(download_id=download_id).first()
    if record is None:
        return _no_record()
    data = _render(record)
    if request.method == "DELETE":
        record.delete()
    return answer(data)
