"""The audit log: who did what, before and after, and undo where it applies. Nothing here edits or
deletes an entry: an undo is a new entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails

from audit.forms import AuditFilterForm, UndoForm
from audit.models import AuditEntry
from audit.services import (
    CannotUndo,
    audit_undo,
    undo_check,
    undo_description,
    undo_kind,
    undo_refusal,
    undone_by,
)
from fileflare_admin.api.errors import ApiError, OutcomeUnknown
from staff import roles

PER_PAGE = 50
MASKED = "•••••• (hidden)"
# Entries that hold one side only: the record as created, or as it was when deleted.
ONE_SIDED = (
    AuditEntry.Action.RECORD_CREATE,
    AuditEntry.Action.RECORD_RESTORE,
    AuditEntry.Action.RECORD_DELETE,
)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@dataclass(frozen=True)
class Change:
    """One field of an entry's before/after, as shown."""

    name: str
    before: str
    after: str


@dataclass(frozen=True)
class Changes:
    """What an entry's row shows: the changed fields, then the rest folded away under `rest_label`."""

    changed: list[Change]
    rest: list[Change]
    rest_label: str


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value == "":
        return "(empty)"
    return str(value)


def entry_changes(entry: AuditEntry, *, show_key: bool) -> Changes:
    """The entry's changed fields (before → after), and the others for context.

    A create, restore or delete holds one side only (the record made, or the record removed): all of
    its fields are context. The S3 key is masked for whoever may not see it, but a change to it still
    shows as a change.
    """
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}

    def shown(name: str, value: Any) -> str:
        if name == "amazon_key" and value and not show_key:
            return MASKED
        return _shown(value)

    changed: list[Change] = []
    rest: list[Change] = []
    one_sided = entry.action in ONE_SIDED or not before or not after
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if not one_sided and name in before and name in after and old != new:
            changed.append(Change(name, shown(name, old), shown(name, new)))
        else:
            # Unchanged, or on one side only: a refused edit, say, records what was asked for next
            # to the whole record as it was.
            value = new if name in after and (one_sided or name not in before) else old
            rest.append(Change(name, shown(name, value), shown(name, value)))
    if entry.action == AuditEntry.Action.RECORD_DELETE and before:
        label = "the deleted record"
    elif one_sided and after and entry.succeeded:
        label = "the record as created" if entry.action in ONE_SIDED else "after"
    elif one_sided and after:
        label = "what was sent"
    elif one_sided:
        label = "before"
    else:
        label = "unchanged fields"
    return Changes(changed=changed, rest=rest, rest_label=f"{label} ({len(rest)})")


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    fallback = reverse("audit:list")
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return fallback


def _undo_state(entry: AuditEntry, user: Any) -> dict[str, Any]:
    kind = undo_kind(entry)
    done = undone_by(entry) if kind else None
    return {
        "kind": kind,
        "done": done,
        "refusal": undo_refusal(actor=user, entry=entry) if kind and not done else None,
        "description": undo_description(entry) if kind and not done else "",
    }


@require_GET
def audit_list(request: HtmxHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    entries = form.filtered()
    page = Paginator(entries, PER_PAGE).get_page(form.cleaned_data.get("page") or 1)
    show_key = roles.can_see_amazon_key(request.user)  # type: ignore[arg-type]
    # Links to other pages keep the filters that parsed (in the form's order), never `page`.
    kept = [
        (name, request.GET[name])
        for name in form.fields
        if name != "page" and request.GET.get(name) and form.cleaned_data.get(name) not in (None, "")
    ]
    rows = [
        {
            "entry": entry,
            "changes": entry_changes(entry, show_key=show_key),
            "undo": _undo_state(entry, request.user),
        }
        for entry in page
    ]
    context = {
        "form": form,
        "page_obj": page,
        "rows": rows,
        "query_prefix": urlencode(kept) + "&" if kept else "",
        "filtered": bool(kept),
        "here": request.get_full_path(),
    }
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    response = render(request, "audit/_entries.html" if partial else "audit/audit_list.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _entry_or_404(pk: int) -> AuditEntry:
    try:
        return AuditEntry.objects.select_related("actor").prefetch_related("undone_by").get(pk=pk)
    except AuditEntry.DoesNotExist:
        raise Http404("No such audit entry.") from None


@require_http_methods(["GET", "HEAD", "POST"])
def audit_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what the undo would do, with a reason field. POST: undo (the list's button posts here)."""
    entry = _entry_or_404(pk)
    if request.method != "POST":
        back = _safe_next(request, request.GET.get("next"))
        form = UndoForm(initial={"next": back})
        try:
            undo_check(actor=request.user, entry=entry)
        except CannotUndo as refused:
            cannot = str(refused)
        else:
            cannot = ""
        show_key = roles.can_see_amazon_key(request.user)  # type: ignore[arg-type]
        return render(
            request,
            "audit/audit_undo.html",
            {
                "entry": entry,
                "form": form,
                "cannot": cannot,
                "description": undo_description(entry),
                "changes": entry_changes(entry, show_key=show_key),
                "kind": undo_kind(entry),
                "back": back,
            },
        )

    form = UndoForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason") or ""
    next_url = _safe_next(request, form.cleaned_data.get("next"))
    try:
        done = audit_undo(actor=request.user, entry_id=entry.pk, reason=reason)
    except roles.NotAllowed:
        raise  # our 403 page with the sentence; the refused attempt is in the trail
    except CannotUndo as refused:
        messages.warning(request, str(refused))
    except OutcomeUnknown as unknown:
        order = (entry.before or {}).get("order_id") if isinstance(entry.before, dict) else None
        messages.error(
            request,
            f"{unknown.user_message} Look for the record in the download records"
            f"{f' of order {order}' if order else ''} before trying again.",
        )
    except ApiError as failure:
        messages.error(request, f"Not undone: {failure.user_message}")
    else:
        if done.action == AuditEntry.Action.RECORD_RESTORE:
            messages.success(request, f"Restored the deleted record as {done.download_id}.")
        else:
            count = (done.after or {}).get("download_count")
            messages.success(request, f"Set the download count of record {done.download_id} back to {count}.")
    return redirect(next_url)
