"""Orders: the search box, the orders list, the order page and the customer's view.

Each view parses its input, calls one service and picks the page; URLs are built here (and in
orders/pages.py), never in a service. The order page's actions live in orders/actions.py and
orders/attach_views.py, the reply templates in orders/reply_views.py.
"""

from typing import cast
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fileflare_admin.api import validators
from fileflare_admin.api.errors import ApiError, InvalidIdentifier, NotFound
from fileflare_admin.htmx import StaffRequest, page_or_partial, safe_next, wants_partial
from orders import services
from orders.complaints import parse_complaint
from orders.forms import PER_PAGE_CHOICES, OrderSearchForm
from orders.links import parse_status_link
from orders.models import ReplyTemplate
from orders.pages import not_found, order_page_response, target_url
from orders.reply_text import Situation
from orders.search import SearchResult, order_search, recheck_sentence
from orders_index.services import order_index_recheck


@require_http_methods(["GET"])
def order_list(request: StaffRequest) -> HttpResponse:
    """Newest orders (narrowed by the filters), or what the search box found. One match goes straight to
    its page (not while typing). A date that did not parse is said beside the boxes, with no list."""
    form = OrderSearchForm(request.GET)
    q, page, per_page = form.values()
    listing = form.list_filter()
    context: dict[str, object] = {
        "q": q,
        "per_page": per_page,
        "per_page_choices": PER_PAGE_CHOICES,
        "never_sent_only": listing.never_sent_only,
        "listing": listing,
        "filters": form,
    }
    refused = bool(listing.error) and not q  # a bad date: its sentence beside the boxes, and no list
    try:
        result = None if refused else order_search(
            q=q,
            page=page,
            per_page=per_page,
            never_sent_only=listing.never_sent_only,
            ordered_from=listing.ordered_from,
            ordered_to=listing.ordered_to,
        )
    except ApiError as error:
        context["error"] = error.user_message
    else:
        # What the ticket complains of: read from its text, or carried by a link from a file's orders.
        complaint = (result.complaint if result else None) or parse_complaint(request.GET.get("complaint"))
        url = target_url(result.target, complaint=complaint) if result and result.target else None
        if url and not wants_partial(request):
            return redirect(url)
        if result is not None:
            context.update(_results(result, url, listed=not q))
    return page_or_partial(
        request, page="orders/order_list.html", partial="orders/_results.html", context=context
    )


def _results(result: SearchResult, url: str | None, *, listed: bool) -> dict[str, object]:
    orders = result.orders
    return {
        "result": result,
        "target_url": url,
        "orders": orders.items if orders else (),
        "page_obj": orders,
        "paged": orders is not None and listed,
    }


RECHECK_MOST = max(PER_PAGE_CHOICES)  # the largest page of the Orders list


@require_POST
def order_recheck(request: StaffRequest) -> HttpResponse:
    """"Re-check these N orders now": the rows an index-answered list showed, read from Fileflare (one
    list read per 1,000, within staff's budget); back to the list with what was found."""
    order_ids: list[str] = []
    for value in request.POST.getlist("order")[:RECHECK_MOST]:
        try:
            order_ids.append(validators.order_id(value))
        except InvalidIdentifier:
            continue
    back = safe_next(request, request.POST.get("next"), reverse("orders:list"))
    if not order_ids:
        messages.warning(request, _("No order to re-check: press the button under a list of orders."))
        return redirect(back)
    found = order_index_recheck(order_ids=order_ids)
    (messages.warning if found.error else messages.success)(request, recheck_sentence(found))
    return redirect(back)


@require_http_methods(["GET"])
def order_detail(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """The order page; `?reply=<situation>` shows another of the shop's replies and `?reply_language=`
    writes it in another language (the customer's; default: the person's own) (htmx: only that box);
    `?complaint=` (limit, expired, no_email, wrong_file, missing_file: what the ticket says, as the search
    box passes it on) shows as a chip and leads the findings with it; an unknown value is ignored."""
    chosen = request.GET.get("reply", "")
    situation = cast(Situation, chosen) if chosen in ReplyTemplate.Situation.values else None
    complaint = parse_complaint(request.GET.get("complaint"))
    return order_page_response(
        request,
        str(order_id),
        situation=situation,
        complaint=complaint,
        reply_language=request.GET.get("reply_language"),  # an unknown one: the person's language
        partial="orders/_support_reply.html",
    )


@require_http_methods(["GET"])
def customer_view(request: StaffRequest, token: str) -> HttpResponse:
    """What the customer sees. `?link=` is the whole status link the search box was given: kept (cut
    after its token) so the order page can show and copy it."""
    try:
        token = validators.customer_token(token)
        pasted = parse_status_link(request.GET.get("link", "")[:2000])
        status_url = pasted.url if pasted is not None and pasted.token == token else ""
        page = services.customer_page(token=token, status_url=status_url)
    except InvalidIdentifier:
        return not_found(
            request,
            _(
                "That is not a customer's order-status link: the last part should be 32 "
                "characters of 0-9 and a-f."
            ),
        )
    except NotFound:
        return not_found(
            request,
            _("Fileflare knows no order with that order-status link. Check that the whole link was pasted."),
        )
    except ApiError as error:
        return render(request, "orders/order_unavailable.html", {"error": error.user_message})
    return render(request, "orders/customer_view.html", {"page": page, "view": page.view})
