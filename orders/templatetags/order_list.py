"""A list of orders' rows (the landing page, a search's results), each kept by what it shows
(fileflare_admin.fragments, issue 28): the landing page showed its 25 to 100 rows afresh on every load."""

from typing import Any

from django import template
from django.template import Context
from django.utils.safestring import SafeString

from fileflare_admin import fragments

register = template.Library()
ROW = "orders/_order_row.html"


def _shown(order: Any) -> tuple[Any, ...]:
    """Everything ROW shows of an order: its ID and number, when it was ordered and its e-mail sent, and
    how many files it has itself (when the answer named them)."""
    files = len(order.assets)
    return (order.id, order.order_number, order.ordered_at, order.email_sent_at, order.assets_loaded, files)


@register.simple_tag(takes_context=True)
def order_rows(context: Context, orders: Any, result: Any) -> SafeString:
    """ROW for each order, as `{% include %}` would, each kept by _shown and by what ROW reads of the search
    `result` (whether the orders come from the order index, and as of when); the rows together too."""
    orders = list(orders or ())
    from_index = bool(getattr(result, "from_index", False))
    listing = (from_index, getattr(result, "fetched_at", None) if from_index else None)
    versions = [(_shown(order), listing) for order in orders]
    items = [(version, {"order": order}) for version, order in zip(versions, orders, strict=True)]
    return fragments.render_many(context, ROW, items, whole=tuple(versions) if len(orders) > 1 else None)
