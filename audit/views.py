"""The audit log: who did what, before and after, and undo where an app registered one. Nothing here edits
or deletes an entry: an undo is a new entry."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.changes import entry_changes
from audit.forms import AuditFilterForm, UndoForm
from audit.models import AuditEntry
from audit.selectors import audit_log_page
from audit.services import audit_entry_get, says_outcome_unknown
from audit.undo import (
    CannotUndo,
    Undone,
    audit_undo,
    undo_check,
    undo_description,
    undo_kind,
)
from fileflare_admin.htmx import StaffRequest, page_or_partial, safe_next
from fileflare_admin.sentences import UserFacingError


def undone_message(done: Undone) -> str:
    """The undo's sentence, its link (the restored record, say) on the words it names."""
    if done.link is None:
        return done.message
    url = reverse(done.link.url_name, args=done.link.args)
    start, found, end = done.message.partition(done.link.text)
    if not found:
        return format_html('{} <a href="{}">{}</a>', done.message, url, done.link.text)
    return format_html('{}<a href="{}">{}</a>{}', start, url, found, end)


@require_GET
def audit_list(request: StaffRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    log = audit_log_page(viewer=request.user, filters=form.filters(), **form.place())
    kept = form.kept()  # links to other pages keep the filters that parsed, never the page's place
    context = {
        "form": form,
        "log": log,
        "rows": log.rows,
        "query": kept,
        "filtered": bool(kept),
        "here": request.get_full_path(),
    }
    return page_or_partial(
        request, page="audit/audit_list.html", partial="audit/_entries.html", context=context
    )


def _entry_or_404(pk: int) -> AuditEntry:
    try:
        return audit_entry_get(pk=pk)
    except AuditEntry.DoesNotExist:
        raise Http404(_("No such audit entry.")) from None


def _undo_confirm(request: StaffRequest, entry: AuditEntry) -> HttpResponse:
    back = safe_next(request, request.GET.get("next"), reverse("audit:list"))
    try:
        undo_check(actor=request.user, entry=entry)
    except PermissionDenied:
        raise  # our 403 page with the sentence
    except CannotUndo as refused:
        cannot = refused.user_message
    else:
        cannot = ""
    context = {
        "entry": entry,
        "form": UndoForm(initial={"next": back}),
        "cannot": cannot,
        "description": undo_description(entry),
        "changes": entry_changes(entry),
        "kind": undo_kind(entry),
        "back": back,
    }
    return render(request, "audit/audit_undo.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def audit_undo_view(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: what the undo would do, with a reason field. POST: undo (the list's button posts here)."""
    entry = _entry_or_404(pk)
    if request.method != "POST":
        return _undo_confirm(request, entry)
    form = UndoForm(request.POST)
    form.is_valid()
    next_url = safe_next(request, form.cleaned_data.get("next"), reverse("audit:list"))
    try:
        done = audit_undo(actor=request.user, entry_id=entry.pk, reason=form.cleaned_data.get("reason") or "")
    except PermissionDenied:
        raise  # our 403 page with the sentence; the refused attempt is in the trail
    except CannotUndo as refused:
        messages.warning(request, refused.user_message)
    except UserFacingError as failure:
        unknown = says_outcome_unknown(failure)
        messages.error(
            request,
            failure.user_message if unknown else _("Not undone: %(why)s") % {"why": failure.user_message},
        )
    else:
        messages.success(request, undone_message(done))
    return redirect(next_url)
