"""The in-place count fix on a record's row (the records list and the order page).

With htmx the answer is the row itself (the saved count, or the current one after a conflict) or, for
a failure, only the row's message slot, so what the person typed stays in its box. Without JavaScript
it is a redirect back with a flash message.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from downloads import edits, services
from downloads.forms import CountForm
from downloads.views import DOWNLOAD_ID, not_found, unknown_notice
from fileflare_admin.api import errors, types
from fileflare_admin.htmx import StaffRequest, safe_next, wants_partial
from fileflare_admin.numbers import grouped
from fileflare_admin.sentences import UserFacingError
from staff import roles


def _row(
    request: StaffRequest,
    record: types.DownloadRecord,
    form: CountForm,
    next_url: str,
    message: str,
    level: str,
) -> HttpResponse:
    context = {
        "record": record,
        "show_order": form.cleaned_data.get("context") != "order",
        "row_next": next_url,
        "row_message": message,
        "row_message_level": level,
    }
    return render(request, "downloads/_record_row.html", context)


def _row_failed(
    request: StaffRequest, download_id: str, next_url: str, message: str, link: str = ""
) -> HttpResponse:
    """A failure that leaves the row as the person left it: only the row's message slot changes."""
    if not wants_partial(request):
        messages.error(request, message)
        return redirect(next_url)
    context = {"row_message": message, "row_message_level": "error", "row_message_link": link}
    response = render(request, "downloads/_row_message.html", context)
    return reswap(retarget(response, f"#record-{download_id}-message"), "innerHTML")


@require_POST
def record_count(request: StaffRequest, download_id: str) -> HttpResponse:
    if not DOWNLOAD_ID.fullmatch(download_id):
        return not_found(request)
    form = CountForm(request.POST)
    next_url = safe_next(request, request.POST.get("next"), reverse("downloads:list"))
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _row_failed(request, download_id, next_url, _("Not saved: %(why)s") % {"why": first})
    count, expected = form.cleaned_data["count"], form.cleaned_data.get("expected")
    try:
        written = edits.download_record_count_set(
            actor=request.user,
            download_id=download_id,
            count=count,
            expected=expected,
            order_number=form.cleaned_data.get("order_number"),
        )
    except services.EditConflict as clash:
        now = clash.current.download_count
        sentence = _(
            "Not saved: someone changed this count from %(expected)s to %(now)s meanwhile. "
            "It shows their value now; enter %(count)s again and save to replace it."
        ) % {"expected": grouped(expected or 0), "now": grouped(now), "count": grouped(count)}
        if not wants_partial(request):
            messages.warning(request, sentence)
            return redirect(next_url)
        return _row(request, clash.current, form, next_url, sentence, "warn")
    except services.DownloadRecordOutcomeUnknown as unknown:
        check_url = unknown_notice(unknown)["check_url"]
        return _row_failed(request, download_id, next_url, unknown.user_message, check_url)
    except errors.NotFound:
        gone = _("This record no longer exists at the downloads API: someone deleted it meanwhile.")
        return _row_failed(request, download_id, next_url, gone)
    except roles.NotAllowed as refused:
        if not wants_partial(request):
            raise  # our 403 page with the sentence
        return _row_failed(request, download_id, next_url, refused.user_message)
    except UserFacingError as failed:
        not_saved = _("Not saved: %(why)s") % {"why": failed.user_message}
        return _row_failed(request, download_id, next_url, not_saved)
    return _count_saved(request, written, form, next_url)


def _count_saved(
    request: StaffRequest, written: services.RecordWrite, form: CountForm, next_url: str
) -> HttpResponse:
    record = written.record
    assert record is not None  # a count fix returns the record
    values = {"id": record.download_id, "count": grouped(record.download_count)}
    if not wants_partial(request):
        done = (
            _("Download count of record %(id)s set to %(count)s — checked at the API.")
            if written.checked
            else _("Download count of record %(id)s set to %(count)s.")
        )
        messages.success(request, done % values)
        return redirect(next_url)
    sentence = (
        _("Saved — checked at the API: download count is %(count)s.")
        if written.checked
        else _("Saved: download count is %(count)s.")
    ) % values
    response = _row(request, record, form, next_url, sentence, "ok")
    return trigger_client_event(response, "downloadRecordChanged", {"download_id": record.download_id})
