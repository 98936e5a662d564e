"""Fileflare's v2 customer download page (`/v2/customer-account-orders?id=<token>`): no authentication,
no documented rate limit. What the customer sees of their order: lines, files, download limits."""

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.common import answer
from sandbox.laravel import not_found
from sandbox.models import LineAsset, Order, OrderAsset
from sandbox.seed import SHOP_STATUS_URL

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def customer_status_url(order: Order) -> str:
    """The shop's order-status page, whose last path segment is the v2 token."""
    return SHOP_STATUS_URL.format(token=order.customer_token)


def _limited(link: LineAsset | OrderAsset) -> dict[str, Any]:
    return {"limits": {"downloaded": link.downloaded, "limit": link.limit}, "data": link.asset.as_json()}


def customer_view_json(order: Order) -> dict[str, Any]:
    lines = order.lines.select_related("product").prefetch_related("line_assets__asset")
    return {
        "order": {
            "order_number": order.order_number,
            "lines": [
                {
                    "product": line.product.as_json(),
                    "assets": [_limited(link) for link in line.line_assets.all()],
                }
                for line in lines
            ],
            "assets": [_limited(link) for link in order.order_assets.select_related("asset")],
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
