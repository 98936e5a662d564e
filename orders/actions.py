"""What the order page does: learn the customer's link, give a used-up file its downloads back, give a
link scanner's downloads back, resend the download e-mail.
Each POST calls one service and goes back to the order page (Post/Redirect/Get)
with a flash message that links to its audit entry; a failure re-renders the page with what was typed."""

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import AuditUnavailable
from downloads.services import EditConflict
from fileflare_admin import clock
from fileflare_admin.api.errors import ApiError, NotFound, RateLimited
from fileflare_admin.htmx import StaffRequest
from fileflare_admin.numbers import grouped
from fileflare_admin.sentences import UserFacingError
from fileflare_admin.submissions import AlreadySubmitted
from orders import fixes, links, resend, suspects
from orders.forms import CountFixForm, CustomerLinkForm, ResendForm, SuspectGiveBackForm
from orders.pages import NO_SUCH_ORDER, audit_links, not_found, order_page_response, order_url


@require_POST
def customer_link(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """The customer's order-status link pasted on the order page: checked against the order, kept."""
    form = CustomerLinkForm(request.POST)
    key = str(order_id)
    if form.is_valid():
        try:
            number = resend.order_get(order_id=key).order_number
            links.customer_link_remember(order_number=number, text=form.cleaned_data["link"])
        except UserFacingError as failed:  # not a link, another order's, or Fileflare not answering
            form.add_error("link", failed.user_message)
        else:
            saved = _("Saved the customer's link of order #%(number)s: this is what they see.")
            messages.success(request, saved % {"number": number})
            return redirect(order_url(key, anchor="customer-view"))
    return order_page_response(request, key, extra={"link_form": form})


def _fix_message(result: fixes.CountFixResult) -> str:
    counts = ", ".join(grouped(record.download_count) for record in result.written)
    done = (
        _("Set the download count of “%(file)s” to %(counts)s (checked at the API).")
        if result.checked
        else _("Set the download count of “%(file)s” to %(counts)s.")
    ) % {"file": result.filename, "counts": counts}
    if result.now is None:
        if result.read_error:
            return _("%(done)s The customer's page could not be read again: %(error)s") % {
                "done": done,
                "error": result.read_error,
            }
        return _("%(done)s Paste the customer's order-status link to see what they see now.") % {"done": done}
    downloaded = grouped(result.now.downloaded)
    now = (
        _("%(downloaded)s of unlimited") % {"downloaded": downloaded}
        if result.now.limit is None
        else _("%(downloaded)s of %(limit)s") % {"downloaded": downloaded, "limit": grouped(result.now.limit)}
    )
    if result.moved is False:
        return _(
            "%(done)s But the customer's page still says %(now)s: Fileflare keeps this limit itself and does "
            "not count these records. Raise it in Fileflare's app (Override global limitations)."
        ) % {"done": done, "now": now}
    if result.can_download:
        return _("%(done)s The customer now sees %(now)s: they can download.") % {"done": done, "now": now}
    return _("%(done)s The customer now sees %(now)s: still at the limit.") % {"done": done, "now": now}


@require_POST
def count_fix(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """One finding's fix: lower this order's records for a used-up file, then say what the customer sees."""
    form = CountFixForm(request.POST)
    key = str(order_id)
    if not form.is_valid():
        messages.error(request, _("That fix could not be read: reload the order and press it again."))
        return redirect(order_url(key, anchor="diagnosis"))
    try:
        result = fixes.order_count_fix(
            actor=request.user,
            order_id=key,
            filename=form.cleaned_data["file"],
            seen=form.seen(request.POST.getlist("record")),
            reason=form.cleaned_data["reason"],
        )
    except NotFound:
        return not_found(request, NO_SUCH_ORDER)
    except UserFacingError as failed:
        extra = {"fix_error": failed.user_message, "fix_file": form.cleaned_data["file"], "fix_form": form}
        return order_page_response(request, key, extra=extra)
    level = messages.success if result.can_download or result.now is None else messages.warning
    message = _fix_message(result)
    if result.moved is False:
        message = format_html(
            '{} <a href="{}" rel="noopener noreferrer" target="_blank">{}</a>.',
            message,
            result.fileflare_app_url,
            _("Open the order in Fileflare"),
        )
    level(request, format_html("{}{}", message, audit_links(result.entries, viewer=request.user)))
    for failure in result.failures:
        messages.error(request, failure)
    return redirect(order_url(key, anchor="diagnosis"))


@require_POST
def suspect_give_back(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """A link-scanner suspect's fix: its downloads given back, audited with its reason; back to its line."""
    form = SuspectGiveBackForm(request.POST)
    key = str(order_id)
    back = order_url(key, anchor="suspects")
    if not form.is_valid():
        messages.error(request, _("That fix could not be read: reload the order and press it again."))
        return redirect(back)
    data = form.cleaned_data
    try:
        done = suspects.order_suspect_give_back(
            actor=request.user,
            order_id=key,
            download_id=data["record"],
            since=data["since"],
            seen=data["seen"],
        )
    except NotFound:
        return not_found(request, NO_SUCH_ORDER)
    except EditConflict as clash:
        messages.warning(
            request,
            _(
                "Nothing was given back: the count of record %(record)s is %(now)s now, not the %(seen)s "
                "the page showed. Check the order again before giving downloads back."
            )
            % {
                "record": data["record"],
                "now": grouped(clash.current.download_count),
                "seen": grouped(data["seen"]),
            },
        )
        return redirect(back)
    except UserFacingError as failed:
        messages.error(request, _("Nothing was given back: %(why)s") % {"why": failed.user_message})
        return redirect(back)
    record = done.written.record
    entries = [done.written.entry] if done.written.entry is not None else []
    count = record.download_count if record is not None else data["seen"]
    given = done.suspect.downloads
    values = {"given": grouped(given), "file": done.suspect.file_name, "count": grouped(count)}
    if done.written.checked:
        sentence = ngettext(
            "Gave back %(given)s download of “%(file)s”: the count is %(count)s (checked at the API).",
            "Gave back %(given)s downloads of “%(file)s”: the count is %(count)s (checked at the API).",
            given,
        ) % values
    else:
        sentence = ngettext(
            "Gave back %(given)s download of “%(file)s”: the count is %(count)s.",
            "Gave back %(given)s downloads of “%(file)s”: the count is %(count)s.",
            given,
        ) % values
    messages.success(request, format_html("{}{}", sentence, audit_links(entries, viewer=request.user)))
    return redirect(back)


def _resend_failure(failure: ApiError) -> str:
    if isinstance(failure, RateLimited):
        # Either limit may be the one reached (a 429 does not say which): name both, honestly.
        return _(
            "Fileflare is not taking more e-mails from this shop right now (it allows 30 e-mails "
            "and 60 requests a minute). Try again at %(time)s; your reason is kept below."
        ) % {"time": clock.clock(failure.retry_at)}
    return failure.user_message


def _resend_post(request: StaffRequest, key: str, form: ResendForm) -> tuple[HttpResponse | None, str]:
    """Send; the redirect when it went, else the sentence for the confirmation page."""
    try:
        sent = resend.order_resend_email(
            actor=request.user,
            order_id=key,
            reason=form.cleaned_data["reason"],
            submission=form.cleaned_data["submission"],
        )
    except (AlreadySubmitted, AuditUnavailable) as refused:
        return None, refused.user_message
    except ApiError as failure:
        return None, _resend_failure(failure)
    when = clock.clock(sent.order.email_sent_at or timezone.now())
    sentence = (
        _("Download e-mail sent to the customer of order #%(number)s at %(time)s (checked at the API).")
        if sent.checked
        else _("Download e-mail sent to the customer of order #%(number)s at %(time)s.")
    ) % {"number": sent.order.order_number, "time": when}
    links = audit_links([sent.entry], viewer=request.user)
    messages.success(request, format_html("{}{}", sentence, links))
    return redirect(order_url(key)), ""


@require_http_methods(["GET", "POST"])
def order_resend(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """GET: a confirmation that names the order. POST: send once, then back to the order page."""
    key = str(order_id)
    if request.method == "POST":
        form = ResendForm(request.POST)
    else:  # the order page's form without JavaScript arrives here with the reason (and token) typed
        form = ResendForm(initial={"reason": request.GET.get("reason", "")[:500]})
        if request.GET.get("submission"):
            form.initial["submission"] = request.GET["submission"][:100]
    order, error = None, ""
    try:
        order = resend.order_get(order_id=key)
    except NotFound:
        return not_found(request, NO_SUCH_ORDER)
    except ApiError as failure:
        error = failure.user_message
    if request.method == "POST" and form.is_valid():
        done, error = _resend_post(request, key, form)
        if done is not None:
            return done
        # A new token: sending again from this page is a new, deliberate decision.
        form = ResendForm(
            data={"reason": form.cleaned_data["reason"], "submission": resend.new_submission_token()}
        )
    context = {"form": form, "order": order, "order_id": key, "error": error}
    return render(request, "orders/order_resend.html", context)
