"""Orders: the search box, the orders list, the order page, the customer's view, resending the e-mail.

Each view parses its input, calls one service and picks the page; URLs are built here, never in a
service.
"""

from dataclasses import asdict
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from fileflare_admin.api import validators
from fileflare_admin.api.errors import ApiError, InvalidIdentifier, NotFound, RateLimited
from fileflare_admin.htmx import StaffRequest, page_or_partial, wants_partial
from orders import resend, services
from orders.forms import PER_PAGE_CHOICES, OrderSearchForm, ResendForm
from orders.search import Target, order_search
from staff.roles import permissions_for

NO_SUCH_ORDER = "No order with that ID in this shop."


def _not_found(request: StaffRequest, sentence: str) -> HttpResponse:
    return render(request, "404.html", {"reason": sentence}, status=404)


def target_url(target: Target) -> str:
    if target.kind == "customer":
        return reverse("orders:customer", kwargs={"token": target.key})
    return reverse("orders:detail", kwargs={"order_id": target.key})


@require_http_methods(["GET"])
def order_list(request: StaffRequest) -> HttpResponse:
    """Newest orders, or what the search box found. One match goes straight to its page (not while typing)."""
    q, page, per_page = OrderSearchForm(request.GET).values()
    context: dict[str, object] = {"q": q, "per_page": per_page, "per_page_choices": PER_PAGE_CHOICES}
    try:
        result = order_search(q=q, page=page, per_page=per_page)
    except ApiError as error:
        context["error"] = error.user_message
    else:
        url = target_url(result.target) if result.target else None
        if url and not wants_partial(request):
            return redirect(url)
        orders = result.orders
        context.update(
            result=result,
            target_url=url,
            orders=orders.items if orders else (),
            page_obj=orders,
            paged=orders is not None and not q,
        )
    return page_or_partial(
        request, page="orders/order_list.html", partial="orders/_results.html", context=context
    )


@require_http_methods(["GET"])
def order_detail(request: StaffRequest, order_id: UUID) -> HttpResponse:
    try:
        page = services.order_page(order_id=str(order_id))
    except NotFound:
        return _not_found(request, NO_SUCH_ORDER)
    except ApiError as error:
        return render(
            request, "orders/order_unavailable.html", {"error": error.user_message, "order_id": order_id}
        )
    context = {
        "page": page,
        "order": page.order,
        "records": page.records.value or [],
        "show_order": False,
        # The record rows still read a dict (downloads/_record_row.html): the same Permissions, as one.
        "record_perms": asdict(permissions_for(request.user)),
        "timeline_entries": page.timeline,
        "row_next": request.get_full_path(),
    }
    return render(request, "orders/order_detail.html", context)


def _resend_failure(failure: ApiError) -> str:
    if isinstance(failure, RateLimited):
        # Either limit may be the one reached (a 429 does not say which): name both, honestly.
        return (
            "Fileflare is not taking more e-mails from this shop right now (it allows 30 e-mails "
            f"and 60 requests a minute). Try again at {timezone.localtime(failure.retry_at):%H:%M:%S}; "
            "your reason is kept below."
        )
    return failure.user_message


@require_http_methods(["GET", "POST"])
def order_resend(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """GET: a confirmation that names the order. POST: send, then back to the order page."""
    key = str(order_id)
    if request.method == "POST":
        form = ResendForm(request.POST)
    else:  # the order page's form without JavaScript arrives here with the reason already typed
        form = ResendForm(initial={"reason": request.GET.get("reason", "")[:500]})
    order, error = None, ""
    try:
        order = resend.order_get(order_id=key)
    except NotFound:
        return _not_found(request, NO_SUCH_ORDER)
    except ApiError as failure:
        error = failure.user_message
    if request.method == "POST" and form.is_valid():
        try:
            sent = resend.order_resend_email(
                actor=request.user, order_id=key, reason=form.cleaned_data["reason"]
            )
        except ApiError as failure:
            error = _resend_failure(failure)
        else:
            when = timezone.localtime(sent.email_sent_at or timezone.now())
            number = sent.order_number
            messages.success(
                request, f"Download e-mail sent to the customer of order #{number} at {when:%H:%M:%S}."
            )
            return redirect("orders:detail", order_id=key)
    context = {"form": form, "order": order, "order_id": key, "error": error}
    return render(request, "orders/order_resend.html", context)


@require_http_methods(["GET"])
def customer_view(request: StaffRequest, token: str) -> HttpResponse:
    try:
        page = services.customer_page(token=validators.customer_token(token))
    except InvalidIdentifier:
        return _not_found(
            request,
            "That is not a customer's order-status link: the last part should be 32 "
            "characters of 0-9 and a-f.",
        )
    except NotFound:
        return _not_found(
            request,
            "Fileflare knows no order with that order-status link. Check that the whole link was pasted.",
        )
    except ApiError as error:
        return render(request, "orders/order_unavailable.html", {"error": error.user_message})
    return render(request, "orders/customer_view.html", {"page": page, "view": page.view})
