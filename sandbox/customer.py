"""Fileflare's v2 customer download page (`/v2/customer-account-orders?id=<token>`): no authentication,
no documented rate limit. What the customer sees of their order: lines, files, download limits.

One world (a sandbox decision, see README): a file's `limits.downloaded` is the sum of the
`download_count` of the order's download records for that file (same order number, same file name);
a file with no record keeps its own counter. A download on the sandbox's customer page
(`/_sandbox/customer/<token>/`) counts on the record, so both APIs show it.
"""

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sandbox.common import answer, html_page
from sandbox.laravel import not_found
from sandbox.models import DownloadEvent, DownloadRecord, LineAsset, Order, OrderAsset, atomic
from sandbox.seed import SHOP_STATUS_URL

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
Link = LineAsset | OrderAsset


def customer_status_url(order: Order) -> str:
    """The shop's order-status page, whose last path segment is the v2 token."""
    return SHOP_STATUS_URL.format(token=order.customer_token)


def customer_page_path(order: Order) -> str:
    """The sandbox's stand-in for that page, where a trainee plays the customer and downloads."""
    return f"/_sandbox/customer/{order.customer_token}/"


def recorded_counts(order: Order) -> dict[str, int]:
    """File name → the sum of its download records' counts, for this order's records."""
    rows = (
        DownloadRecord.objects.filter(order_id=order.order_number)
        .values("download_file_name")
        .annotate(total=Sum("download_count"))
    )
    return {row["download_file_name"]: int(row["total"] or 0) for row in rows}


def downloaded(link: Link, counts: dict[str, int]) -> int:
    """The customer's count of a file: its records' sum when the order has records for it."""
    return counts.get(link.asset.filename, link.downloaded)


def _limited(link: Link, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "limits": {"downloaded": downloaded(link, counts), "limit": link.limit},
        "data": link.asset.as_json(),
    }


def _lines(order: Order) -> list[Any]:
    return list(order.lines.select_related("product").prefetch_related("line_assets__asset"))


def customer_view_json(order: Order) -> dict[str, Any]:
    counts = recorded_counts(order)
    return {
        "order": {
            "order_number": order.order_number,
            "lines": [
                {
                    "product": line.product.as_json(),
                    "assets": [_limited(link, counts) for link in line.line_assets.all()],
                }
                for line in _lines(order)
            ],
            "assets": [_limited(link, counts) for link in order.order_assets.select_related("asset")],
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


# --- the customer's page (sandbox only) -----------------------------------------------------------------
def _order_for(token: str) -> Order | None:
    return Order.objects.filter(customer_token=token).first() if TOKEN_RE.fullmatch(token) else None


def _file_row(order: Order, kind: str, link: Link, counts: dict[str, int]) -> str:
    count, limit = downloaded(link, counts), link.limit
    used = f"{count} of {limit}" if limit is not None else f"{count} (no limit)"
    blocked = limit is not None and count >= limit
    action = (
        "<em>Download limit reached</em>"
        if blocked
        else f'<form method="post" action="{customer_page_path(order)}download/{kind}/{link.pk}/">'
        f'<button type="submit">Download</button></form>'
    )
    return f"<tr><td>{escape(link.asset.filename)}</td><td>{used}</td><td>{action}</td></tr>"


def customer_page(request: HttpRequest, token: str) -> HttpResponse:
    """The order as its customer sees it, with a Download button per file (each download counts)."""
    order = _order_for(token)
    if order is None:
        return html_page("No such order", "<p>No order has that token.</p>", status=404)
    counts = recorded_counts(order)
    rows = [
        _file_row(order, "line", link, counts) for line in _lines(order) for link in line.line_assets.all()
    ]
    rows += [_file_row(order, "order", link, counts) for link in order.order_assets.select_related("asset")]
    message = ""
    if request.GET.get("downloaded"):
        message = f"<p role=status>Downloaded: {escape(request.GET['downloaded'])}</p>"
    elif request.GET.get("refused"):
        message = f"<p role=status>Not downloaded, the limit is reached: {escape(request.GET['refused'])}</p>"
    body = (
        f"<p>Order #{order.order_number} · {escape(order.customer_email)} · the shop's page: "
        f"<code>{escape(customer_status_url(order))}</code></p>{message}"
        "<table><tr><th>File</th><th>Downloads used</th><th></th></tr>"
        f"{''.join(rows) or '<tr><td colspan=3>No files on this order.</td></tr>'}</table>"
        f'<p><a href="/api/v2/customer-account-orders?id={order.customer_token}">The same as JSON (v2)</a> · '
        '<a href="/">Sandbox home</a></p>'
    )
    return html_page(order.text_title, body)


def count_download(
    order: Order, link: Link, *, kind: str = DownloadEvent.Kind.CUSTOMER, at: datetime | None = None
) -> bool:
    """One download of `link` (by the customer, or a link scanner: `kind`): False when its limit is
    reached. It counts on the oldest of the order's records for that file, or on the file's own counter
    when it has none, and goes into the ground truth (DownloadEvent), refused or not."""
    with atomic():
        counts = recorded_counts(order)
        record = (
            DownloadRecord.objects.select_for_update()
            .filter(order_id=order.order_number, download_file_name=link.asset.filename)
            .order_by("date_created", "download_id")
            .first()
        )
        refused = link.limit is not None and downloaded(link, counts) >= link.limit
        if not refused and record is not None:
            DownloadRecord.objects.filter(pk=record.pk).update(download_count=F("download_count") + 1)
        elif not refused:
            type(link).objects.filter(pk=link.pk).update(downloaded=F("downloaded") + 1)
        DownloadEvent.objects.create(
            at=at or timezone.now(),
            kind=kind,
            order_number=order.order_number,
            download_id=record.download_id if record is not None else None,
            product_id=record.product_id if record is not None else None,
            file_name=link.asset.filename,
            asset_id=link.asset.id,
            refused=refused,
        )
    return not refused


@csrf_exempt
@require_POST
def customer_download(request: HttpRequest, token: str, kind: str, link_id: int) -> HttpResponse:
    order = _order_for(token)
    link: Link | None = None
    if order is not None and kind == "line":
        link = LineAsset.objects.select_related("asset").filter(pk=link_id, line__order=order).first()
    elif order is not None and kind == "order":
        link = OrderAsset.objects.select_related("asset").filter(pk=link_id, order=order).first()
    if order is None or link is None:
        return html_page("No such file", "<p>That file is not on this order.</p>", status=404)
    outcome = "downloaded" if count_download(order, link) else "refused"
    return HttpResponseRedirect(f"{customer_page_path(order)}?{urlencode({outcome: link.asset.filename})}")
