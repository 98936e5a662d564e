"""Fileflare's own app (its admin), as far as the dashboard links to it: the order page behind
"Open in Fileflare" (`/orders/<order id or number>`, the default of the dashboard's FILEFLARE_APP_ORDER_URL).

A stand-in, read-only: what the merchant sees of an order there (number, date, the download e-mail, the
files with their limits). The real page is where limits Fileflare keeps are raised ("Override global
limitations"); the sandbox has no such setting, and its page says so.
"""

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from sandbox.common import html_page
from sandbox.customer import customer_page_path, downloaded, recorded_counts
from sandbox.fileflare import find_order
from sandbox.models import Order


def _order(reference: str) -> Order | None:
    """An order by Fileflare's ID ({order_id}) or by its number ({order_number})."""
    if reference.isdigit():
        return Order.objects.filter(order_number=int(reference)).first()
    return find_order(reference)


def order_page(request: HttpRequest, reference: str) -> HttpResponse:
    order = _order(reference)
    if order is None:
        return html_page(
            "No such order",
            "<p>The sandbox has no order with that ID or number. Its root page lists some orders.</p>"
            '<p><a href="/">Sandbox home</a></p>',
            status=404,
        )
    counts = recorded_counts(order)
    files = [
        {"name": link.asset.filename, "through": line.product.name, "used": downloaded(link, counts),
         "limit": link.limit}
        for line in order.lines.select_related("product").prefetch_related("line_assets__asset")
        for link in line.line_assets.all()
    ]
    files += [
        {"name": link.asset.filename, "through": "", "used": downloaded(link, counts), "limit": link.limit}
        for link in order.order_assets.select_related("asset")
    ]
    body = render_to_string(
        "sandbox/order_app_page.html",
        {"order": order, "files": files, "customer_page": customer_page_path(order)},
    )
    return html_page(f"Order #{order.order_number} · Fileflare (sandbox)", body)
