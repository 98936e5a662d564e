"""Attach and detach files on the order page: the asset picker (htmx, or its own page without
JavaScript), the confirmation (a dialog, or a page without JavaScript), the change, and back."""

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from fileflare_admin.api import types
from fileflare_admin.api.errors import ApiError, NotFound
from fileflare_admin.htmx import StaffRequest, page_or_partial
from fileflare_admin.sentences import UserFacingError
from orders import attachments, resend
from orders.forms import AssetsChangeForm, AssetSearchForm
from orders.pages import NO_SUCH_ORDER, audit_links, not_found, order_url
from staff import roles


@require_http_methods(["GET"])
def asset_picker(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """Fileflare's files by name, a page at a time, with a box to tick for each; those the order
    already has are marked. htmx swaps the results into the order page."""
    roles.require(request.user, "attach")
    filename, page = AssetSearchForm(request.GET).values()
    key = str(order_id)
    context: dict[str, object] = {"order_id": key, "filename": filename}
    try:
        order = resend.order_get(order_id=key)
        context["order"] = order
        if filename:
            fetched = attachments.asset_search(filename=filename, page=page)
            attached = {asset.id for asset in order.assets}
            context.update(assets=fetched.value, fetched=fetched, attached=attached)
    except NotFound:
        return not_found(request, NO_SUCH_ORDER)
    except ApiError as failed:
        context["error"] = failed.user_message
    return page_or_partial(
        request, page="orders/order_assets.html", partial="orders/_asset_picker.html", context=context
    )


def _names(found: types.Page[types.Asset] | None, asset_ids: tuple[str, ...]) -> list[str]:
    """The chosen files' names for the confirmation, from the picker's (cached) page when it has them."""
    known = {asset.id: asset.filename for asset in (found.items if found else ())}
    return [known.get(asset_id, asset_id) for asset_id in asset_ids]


def _changed_message(done: attachments.AssetsChanged) -> str:
    names = attachments.quoted_names(asset.filename for asset in done.changed)
    names = names or _("nothing new (already so)")
    values = {"names": names, "number": done.order.order_number}
    if done.change == "attach":
        said = (
            _("Attached %(names)s to order #%(number)s (checked at the API).")
            if done.checked
            else _("Attached %(names)s to order #%(number)s.")
        ) % values
    else:
        said = (
            _("Detached %(names)s from order #%(number)s (checked at the API).")
            if done.checked
            else _("Detached %(names)s from order #%(number)s.")
        ) % values
    return f"{said} {_customer_sees(done)}".rstrip()


def _customer_sees(done: attachments.AssetsChanged) -> str:
    """What the customer's page, read again after the change, shows of it ("" when it was not read)."""
    if done.customer is not None:
        if not done.changed:
            return ""
        shown = {item.asset.id for item in done.customer.all_assets}
        visible = [asset for asset in done.changed if (asset.id in shown) == (done.change == "attach")]
        if len(visible) != len(done.changed):
            return _("The customer's page does not show the change yet: reload in a moment.")
        if done.change == "attach":
            return ngettext(
                "The customer's page shows it now.", "The customer's page shows them now.", len(done.changed)
            )
        return ngettext(
            "The customer's page no longer shows it.",
            "The customer's page no longer shows them.",
            len(done.changed),
        )
    if done.customer_error:
        return _("The customer's page could not be read again: %(error)s") % {"error": done.customer_error}
    return ""


def _confirm(
    request: StaffRequest, key: str, change: attachments.Change, chosen: tuple[str, ...]
) -> HttpResponse:
    """The question a dialog asks with JavaScript, as a page: which files, on which order, and why."""
    form = AssetsChangeForm(request.GET)
    form.is_valid()
    order = resend.order_get(order_id=key)
    if change == "attach":
        found = None
        if form.cleaned_data.get("filename"):
            page = form.cleaned_data.get("page") or 1
            found = attachments.asset_search(filename=form.cleaned_data["filename"], page=page).value
        names = _names(found, chosen)
    else:
        own = {asset.id: asset.filename for asset in order.assets}
        names = [own.get(asset_id, asset_id) for asset_id in chosen]
    listed = list(zip(chosen, names, strict=True))
    context = {"order": order, "change": change, "chosen": listed, "form": form}
    return render(request, "orders/order_assets_confirm.html", context)


def _apply(
    request: StaffRequest, key: str, change: attachments.Change, chosen: tuple[str, ...]
) -> HttpResponse:
    form = AssetsChangeForm(request.POST)
    form.is_valid()
    done = attachments.order_assets_change(
        actor=request.user,
        order_id=key,
        change=change,
        asset_ids=chosen,
        reason=form.cleaned_data.get("reason") or "",
    )
    follow_up = ""
    if change == "attach" and done.changed:
        follow_up = format_html(
            " " + _('<a href="{url}">Resend the download e-mail</a> (it asks first).'),
            url=reverse("orders:resend", kwargs={"order_id": key}),
        )
    links = audit_links([done.entry], viewer=request.user)
    messages.success(request, format_html("{}{}{}", _changed_message(done), follow_up, links))
    return redirect(order_url(key, anchor="order-assets"))


def _change(request: StaffRequest, key: str, change: attachments.Change) -> HttpResponse:
    values = request.POST.getlist("asset") if request.method == "POST" else request.GET.getlist("asset")
    try:
        chosen = attachments.asset_ids(values)
        if request.method != "POST":
            return _confirm(request, key, change, chosen)
        return _apply(request, key, change, chosen)
    except attachments.UnknownAsset as failed:
        messages.error(request, failed.user_message)
    except NotFound:
        return not_found(request, NO_SUCH_ORDER)
    except roles.NotAllowed:
        raise  # our 403 page says why; the refusal is in the audit trail
    except UserFacingError as failed:
        messages.error(request, failed.user_message)
    return redirect(order_url(key, anchor="order-assets"))


@require_http_methods(["GET", "POST"])
def order_attach(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """GET: the confirmation (no JavaScript). POST: attach the chosen files, verified, and back."""
    return _change(request, str(order_id), "attach")


@require_http_methods(["GET", "POST"])
def order_detach(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """GET: the confirmation (no JavaScript). POST: detach the chosen files (Merchant), and back."""
    return _change(request, str(order_id), "detach")
