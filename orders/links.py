"""The customer's order-status link: learning it from what staff paste, and showing it back; and the
customer's page read fresh after a change (what they see now).

A link is kept cut after its token (`https://my-store.com/account/orders/<token>`): whatever follows
(`/authenticate?key=…`, a query, a fragment) is the customer's own sign-in and is never kept or shown.
A shop's links all share one form, so an order whose token alone was pasted gets its link from the
form of any other pasted link (the token put in place of the other's).
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from downloads.limits import limits_learn
from fileflare_admin.api import fileflare, types
from fileflare_admin.api.errors import NotFound
from orders.classify import classify_query
from orders.models import KnownCustomerToken

_STATUS_URL = re.compile(
    r"(?:https?://)?[^\s/?#]*\.[^\s/?#]+(?:/[^\s?#]*)?/orders/([0-9a-f]{32})(?![0-9a-z])", re.I
)
_TOKEN_IN_URL = re.compile(r"/orders/[0-9a-f]{32}$", re.I)


class NotAStatusLink(NotFound):
    """What was pasted is no customer's order-status link, or belongs to another order."""


@dataclass(frozen=True)
class StatusLink:
    token: str
    url: str  # "" when only the token was pasted


def parse_status_link(text: str) -> StatusLink | None:
    """The token (and the link cut after it) in pasted text; None when there is none."""
    query = classify_query(text)
    if query.kind not in ("token", "order_id_or_token"):
        return None
    match = _STATUS_URL.search(text.strip())
    if not match or match.group(1).lower() != query.value:
        return StatusLink(token=query.value, url="")
    url = match.group(0)
    if not url.lower().startswith(("http://", "https://")):
        url = f"https://{url}"
    parts = urlsplit(url)
    return StatusLink(token=query.value, url=f"{parts.scheme}://{parts.netloc}{parts.path[:-32]}{query.value}")


def status_link_for(order_number: int) -> str:
    """The order's status link as the customer has it, or "" when its token is not known."""
    return status_link_of(KnownCustomerToken.link_for(order_number))


def status_link_of(known: tuple[str, str] | None) -> str:
    """status_link_for with the order's (token, status_url) already read (KnownCustomerToken.link_for)."""
    if known is None:
        return ""
    token, url = known
    if url:
        return url
    other = KnownCustomerToken.any_status_url()
    return _TOKEN_IN_URL.sub(f"/orders/{token}", other) if _TOKEN_IN_URL.search(other) else ""


def customer_link_remember(*, order_number: int, text: str) -> StatusLink:
    """Learn this order's status link from what was pasted, after checking with Fileflare that it is
    this order's (one call, cached). Raises NotAStatusLink with a sentence, or the API's errors."""
    link = parse_status_link(text)
    if link is None:
        raise NotAStatusLink(
            _(
                "That is not a customer's order-status link: paste the whole link from the ticket or the "
                "Shopify order (it ends in 32 characters of 0-9 and a-f)."
            )
        )
    try:
        fetched = fileflare.customer_view_get(token=link.token)
    except NotFound as unknown:
        raise NotAStatusLink(
            _("Fileflare knows no order with that order-status link. Check that the whole link was pasted.")
        ) from unknown
    view = fetched.value
    limits_learn(view=view, seen_at=fetched.fetched_at)  # any order's page teaches its files' limits
    if view.order_number != order_number:
        raise NotAStatusLink(
            _("That link is the customer's link of order #%(theirs)s, not of #%(this)s: nothing was saved.")
            % {"theirs": view.order_number, "this": order_number}
        )
    KnownCustomerToken.remember(order_number=order_number, token=link.token, status_url=link.url)
    return link


def customer_view_fresh(token: str) -> types.Fetched[types.CustomerView]:
    """The customer's page read past the cache, to say what they see right after a change (the answer
    is stored, so the next page view shows it)."""
    fetched = fileflare.customer_view_get(token=token, fresh=True)
    limits_learn(view=fetched.value, seen_at=fetched.fetched_at)
    return fetched
