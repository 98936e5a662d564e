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
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import AuditUnavailable
from downloads.services import EditConflict
from fileflare_admin import clock
from fileflare_admin.api.errors import ApiError, NotFound, RateLimited
from fileflare_admin.htmx import StaffRequest
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
            messages.success(request, f"Saved the customer's link of order #{number}: this is what they see.")
            return redirect(order_url(key, anchor="customer-view"))
    return order_page_response(request, key, extra={"link_form": form})


def _fix_message(result: fixes.CountFixResult) -> str:
    name = f"“{result.filename}”"
    checked = " (checked at the API)" if result.checked else ""
    counts = ", ".join(str(record.download_count) for record in result.written)
    done = f"Set the download count of {name} to {counts}{checked}."
    if result.now is None:
        if result.read_error:
            return f"{done} The customer's page could not be read again: {result.read_error}"
        return f"{done} Paste the customer's order-status link to see what they see now."
    now = f"{result.now.downloaded} of {result.now.limit if result.now.limit is not None else 'unlimited'}"
    if result.moved is False:
        return (
            f"{done} But the customer's page still says {now}: Fileflare keeps this limit itself and does "
            "not count these records. Raise it in Fileflare's app (Override global limitations)."
        )
    return f"{done} The customer now sees {now}: " + (
        "they can download." if result.can_download else "still at the limit."
    )


@require_POST
def count_fix(request: StaffRequest, order_id: UUID) -> HttpResponse:
    """One finding's fix: lower this order's records for a used-up file, then say what the customer sees."""
    form = CountFixForm(request.POST)
    key = str(order_id)
    if not form.is_valid():
        messages.error(request, "That fix could not be read: reload the order and press it again.")
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
            '{} <a href="{}" rel="noopener noreferrer" target="_blank">Open the order in Fileflare</a>.',
            message,
            result.fileflare_app_url,
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
        messages.error(request, "That fix could not be read: reload the order and press it again.")
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
        now = clash.current.download_count
        messages.warning(
            request,
            f"Nothing was given back: the count of record {data['record']} is {now} now, not the "
            f"{data['seen']} the page showed. Check the order again before giving downloads back.",
        )
        return redirect(back)
    except UserFacingError as failed:
        messages.error(request, f"Nothing was given back: {failed.user_message}")
        return redirect(back)
    record, checked = done.written.record, " (checked at the API)" if done.written.checked else ""
    entries = [done.written.entry] if done.written.entry is not None else []
    count = record.download_count if record is not None else data["seen"]
    sentence = (
        f"Gave back {done.suspect.downloads} download{'s' * (done.suspect.downloads != 1)} of "
        f"“{done.suspect.file_name}”: the count is {count}{checked}."
    )
    messages.success(request, format_html("{}{}", sentence, audit_links(entries, viewer=request.user)))
    return redirect(back)


def _resend_failure(failure: ApiError) -> str:
    if isinstance(failure, RateLimited):
        # Either limit may be the one reached (a 429 does not say which): name both, honestly.
        return (
            "Fileflare is not taking more e-mails from this shop right now (it allows 30 e-mails "
            f"and 60 requests a minute). Try again at {clock.clock(failure.retry_at)}; "
            "your reason is kept below."
        )
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
    checked = " (checked at the API)" if sent.checked else ""
    sentence = f"Download e-mail sent to the customer of order #{sent.order.order_number} at {when}"
    links = audit_links([sent.entry], viewer=request.user)
    messages.success(request, format_html("{}{}.{}", sentence, checked, links))
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
