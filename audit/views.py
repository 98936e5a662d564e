"""The audit log: who did what, before and after, and undo where an app registered one. Nothing here edits
or deletes an entry: an undo is a new entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods

from audit.forms import AuditFilterForm, UndoForm
from audit.models import AuditEntry
from audit.services import audit_entry_get, says_outcome_unknown
from audit.undo import (
    CannotUndo,
    Undone,
    audit_undo,
    undo_check,
    undo_description,
    undo_kind,
    undo_state,
)
from fileflare_admin.htmx import StaffRequest, page_or_partial, safe_next
from fileflare_admin.sentences import UserFacingError

PER_PAGE = 50
SECRET_FIELDS = frozenset({"amazon_key"})
# Entries that hold one side only: the record as created, or as it was when deleted.
ONE_SIDED = (
    AuditEntry.Action.DOWNLOAD_RECORD_CREATE,
    AuditEntry.Action.DOWNLOAD_RECORD_RESTORE,
    AuditEntry.Action.DOWNLOAD_RECORD_DELETE,
)


@dataclass(frozen=True)
class Change:
    """One field of an entry's before/after, as shown. A secret's values are masked in the template
    (audit_log's `masked` filter) for whoever may not see them."""

    name: str
    before: str
    after: str
    secret: bool = False


@dataclass(frozen=True)
class Changes:
    """What an entry's row shows: the changed fields, then the rest folded away under `rest_label`."""

    changed: list[Change]
    rest: list[Change]
    rest_label: str


def _named(item: Any) -> str:
    """One item of a listed value: a file by its name ({id, filename}), anything else as text."""
    if isinstance(item, dict):
        return str(item.get("filename") or item.get("id") or "")
    return str(item)


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        # Files attached or detached ({id, filename} each) by name, never as a Python list.
        return ", ".join(_named(item) for item in value) if value else "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value == "":
        return "(empty)"
    return str(value)


def _rest_label(entry: AuditEntry, *, one_sided: bool, before: Any, after: Any, count: int) -> str:
    if entry.action == AuditEntry.Action.DOWNLOAD_RECORD_DELETE and before:
        label = "the deleted record"
    elif one_sided and after and entry.succeeded:
        label = "the record as created" if entry.action in ONE_SIDED else "after"
    elif one_sided and after:
        label = "what was sent"
    elif one_sided:
        label = "before"
    else:
        label = "unchanged fields"
    return f"{label} ({count})"


def entry_changes(entry: AuditEntry) -> Changes:
    """The entry's changed fields (before → after), and the others for context.

    A create, restore or delete holds one side only (the record made, or the record removed): all of
    its fields are context. A secret (the S3 key) is marked, to be masked for whoever may not see it;
    a change to it still shows as a change.
    """
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}

    changed: list[Change] = []
    rest: list[Change] = []
    one_sided = entry.action in ONE_SIDED or not before or not after
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if not one_sided and name in before and name in after and old != new:
            changed.append(Change(name, _shown(old), _shown(new), secret=name in SECRET_FIELDS))
        else:
            # Unchanged, or on one side only: a refused edit, say, records what was asked for next
            # to the whole record as it was.
            value = new if name in after and (one_sided or name not in before) else old
            rest.append(Change(name, _shown(value), _shown(value), secret=name in SECRET_FIELDS))
    label = _rest_label(entry, one_sided=one_sided, before=before, after=after, count=len(rest))
    return Changes(changed=changed, rest=rest, rest_label=label)


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
    entries = form.filtered()
    page = Paginator(entries, PER_PAGE).get_page(form.cleaned_data.get("page") or 1)
    # Links to other pages keep the filters that parsed (in the form's order), never `page`.
    kept = QueryDict(mutable=True)
    for name in form.fields:
        if name != "page" and request.GET.get(name) and form.cleaned_data.get(name) not in (None, ""):
            kept[name] = request.GET[name]
    rows = [
        {
            "entry": entry,
            "changes": entry_changes(entry),
            "undo": undo_state(actor=request.user, entry=entry),
        }
        for entry in page
    ]
    context = {
        "form": form,
        "page_obj": page,
        "rows": rows,
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
        raise Http404("No such audit entry.") from None


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
        messages.error(request, failure.user_message if unknown else f"Not undone: {failure.user_message}")
    else:
        messages.success(request, undone_message(done))
    return redirect(next_url)
