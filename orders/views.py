"""Orders: the search box, the orders list, the order page, the customer's view, resending the e-mail."""

from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from downloads.views import record_permissions
from fileflare_admin.api import validators
from fileflare_admin.api.errors import ApiError, InvalidIdentifier, NotFound, RateLimited
from orders import services
from orders.forms import PER_PAGE_CHOICES, OrderSearchForm, ResendForm
from staff import roles


def _not_found(request: HttpRequest, sentence: str) -> HttpResponse:
    return render(request, "404.html", {"reason": sentence}, status=404)


def _list_url(**params: object) -> str:
    query = {
        key: value
        for key, value in params.items()
        if value not in (None, "", 1, PER_PAGE_CHOICES[0]) or (key == "q" and value)
    }
    return f"?{urlencode(query)}" if query else "?"


@require_http_methods(["GET"])
def order_list(request: HttpRequest) -> HttpResponse:
    """Newest orders, or what the search box found. One match goes straight to its page (not while typing)."""
    form = OrderSearchForm(request.GET)
    q, page, per_page = form.values()
    context: dict[str, object] = {"q": q, "per_page": per_page, "per_page_choices": PER_PAGE_CHOICES}
    try:
        result = services.order_search(q=q, page=page, per_page=per_page)
    except ApiError as error:
        context["error"] = error.user_message
    else:
        if result.redirect_to and not request.htmx:
            return redirect(result.redirect_to)
        orders = result.orders
        context.update(result=result, orders=orders.items if orders else (), page_obj=orders)
        if orders is not None and not q:
            context["prev_url"] = _list_url(page=page - 1, per_page=per_page) if orders.has_previous else None
            context["next_url"] = _list_url(page=page + 1, per_page=per_page) if orders.has_next else None
    template = "orders/_results.html" if request.htmx else "orders/order_list.html"
    return render(request, template, context)


@require_http_methods(["GET"])
def order_detail(request: HttpRequest, order_id: UUID) -> HttpResponse:
    try:
        page = services.order_page(order_id=str(order_id))
    except NotFound:
        return _not_found(request, "No order with that ID in this shop.")
    except ApiError as error:
        return render(
            request, "orders/order_unavailable.html", {"error": error.user_message, "order_id": order_id}
        )
    return render(
        request,
        "orders/order_detail.html",
        {
            "page": page,
            "order": page.order,
            "records": page.records.value or [],
            "show_order": False,
            "record_perms": record_permissions(request.user),
            "timeline_entries": page.timeline,
            "can_resend": roles.role_of(request.user) is not None,
            "row_next": request.get_full_path(),
        },
    )


@require_http_methods(["GET", "POST"])
def order_resend(request: HttpRequest, order_id: UUID) -> HttpResponse:
    """GET: a confirmation that names the order. POST: send, then back to the order page."""
    order_id_text = str(order_id)
    if request.method == "POST":
        form = ResendForm(request.POST)
    else:  # the order page's form without JavaScript arrives here with the reason already typed
        form = ResendForm(initial={"reason": request.GET.get("reason", "")[:500]})
    order = None
    error = ""
    try:
        order = services.order_get(order_id=order_id_text)
    except NotFound:
        return _not_found(request, "No order with that ID in this shop.")
    except ApiError as failure:
        error = failure.user_message
    if request.method == "POST" and form.is_valid():
        try:
            sent = services.order_resend_email(
                actor=request.user, order_id=order_id_text, reason=form.cleaned_data["reason"]
            )
        except roles.NotAllowed:
            raise
        except RateLimited as failure:
            # Either limit may be the one reached (a 429 does not say which): name both, honestly.
            error = (
                "Fileflare is not taking more e-mails from this shop right now (it allows 30 e-mails "
                f"and 60 requests a minute). Try again at {timezone.localtime(failure.retry_at):%H:%M:%S}; "
                "your reason is kept below."
            )
        except ApiError as failure:
            error = failure.user_message
        else:
            when = timezone.localtime(sent.email_sent_at) if sent.email_sent_at else timezone.localtime()
            messages.success(
                request,
                f"Download e-mail sent to the customer of order #{sent.order_number} at {when:%H:%M:%S}.",
            )
            return redirect("orders:detail", order_id=order_id_text)
    return render(
        request,
        "orders/order_resend.html",
        {"form": form, "order": order, "order_id": order_id_text, "error": error},
    )


@require_http_methods(["GET"])
def customer_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        token = validators.customer_token(token)
        page = services.customer_page(token=token)
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
