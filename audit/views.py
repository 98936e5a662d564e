"""The audit log: who did what, before and after, and undo where it applies."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from audit.forms import AuditFilterForm
from audit.models import AuditEntry
from audit.services import CannotUndo, audit_undo, undo_kind
from downloads.services import EditConflict
from fileflare_admin.api.errors import ApiError
from staff import roles

PER_PAGE = 50
MASKED = "hidden"


def _changes(entry: AuditEntry, *, show_key: bool) -> list[tuple[str, object, object]]:
    """(field, before, after) for the fields that differ; the S3 key masked for who may not see it."""
    before, after = entry.before or {}, entry.after or {}
    rows = []
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if old == new and entry.action not in (
            AuditEntry.Action.RECORD_DELETE,
            AuditEntry.Action.RECORD_CREATE,
            AuditEntry.Action.RECORD_RESTORE,
        ):
            continue
        if name == "amazon_key" and not show_key:
            old, new = (MASKED if old else old), (MASKED if new else new)
        rows.append((name, old, new))
    return rows


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    entries = form.filtered()
    page = Paginator(entries, PER_PAGE).get_page(form.cleaned_data.get("page") or 1)
    show_key = roles.can_see_amazon_key(request.user)
    kept = {key: value for key, value in request.GET.items() if key != "page" and value}
    rows = [
        {
            "entry": entry,
            "changes": _changes(entry, show_key=show_key),
            "undo": undo_kind(entry),
            "undone": next((e for e in entry.undone_by.all() if e.succeeded), None),
        }
        for entry in page
    ]
    return render(
        request,
        "audit/audit_list.html",
        {
            "form": form,
            "page_obj": page,
            "rows": rows,
            "query_prefix": urlencode(kept) + "&" if kept else "",
        },
    )


@require_POST
def audit_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not AuditEntry.objects.filter(pk=pk).exists():
        raise Http404("No such audit entry.")
    try:
        entry = audit_undo(actor=request.user, entry_id=pk, reason=request.POST.get("reason", "")[:500])
    except roles.NotAllowed:
        raise
    except CannotUndo as refused:
        messages.warning(request, str(refused))
    except EditConflict as conflict:
        messages.warning(request, f"{conflict} Undoing would overwrite that, so nothing was changed.")
    except ApiError as failure:
        messages.error(request, failure.user_message)
    else:
        what = (
            "Restored the deleted record as " + entry.download_id
            if entry.action == AuditEntry.Action.RECORD_RESTORE
            else f"Set the download count back to {(entry.after or {}).get('download_count')}"
        )
        messages.success(request, f"{what}.")
    return redirect("audit:list")
