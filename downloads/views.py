"""Download-record pages: the list, create, edit, delete (the in-place count fix: row_views.py).

Each view parses input with a form, calls one service and turns what it returns (or raises) into a
page, a partial for htmx, or a redirect with a flash message. A person never loses what they typed:
every failure re-renders the form as sent (403 for a refusal by role, otherwise 200 so htmx swaps it).
After an unclear upstream answer the services have already read the outcome back; the page says
what is verified, or that the outcome is unknown with a link to check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from downloads import edits, limits, reads, records, services
from downloads.forms import (
    RecordCreateForm,
    RecordDeleteForm,
    RecordEditForm,
    RecordForm,
    RecordListForm,
    as_posted,
    sign_loaded,
    unsign_loaded,
)
from fileflare_admin import readahead
from fileflare_admin.api import deadline, errors, types
from fileflare_admin.htmx import StaffRequest, page_or_partial, safe_next
from fileflare_admin.numbers import grouped
from fileflare_admin.order_numbers import parse_order_number
from fileflare_admin.sentences import UserFacingError
from fileflare_admin.submissions import AlreadySubmitted
from staff import roles
from staff.roles import permissions_for

T = TypeVar("T")
# The downloads API's own rule for ids; anything else never reaches it and is a 404 here.
DOWNLOAD_ID = re.compile(r"[0-9A-Za-z]{1,64}")


# --- helpers -------------------------------------------------------------------------------------


def order_records_url(order_number: Any) -> str:
    """The list of one order's records only, newest first: where a just-created record shows up."""
    query = QueryDict(mutable=True)
    query.update({"q": f"order:{order_number}", "sort": "-date_created"})
    return f"{reverse('downloads:list')}?{query.urlencode()}"


def came_from(request: HttpRequest) -> str:
    """The page the person started from (`next`: the order page, say), when it is on this site; else ""."""
    candidate = request.POST.get("next") if request.method == "POST" else request.GET.get("next")
    return safe_next(request, candidate, "").split("#")[0]


def back_to(request: HttpRequest, fallback: str, download_id: str = "") -> str:
    """Where a finished write returns: `next` or `fallback`, at the changed record's row (highlighted)."""
    target = came_from(request) or fallback
    return f"{target}#record-{download_id}" if download_id else target


def _create_initial(query: QueryDict) -> dict[str, Any]:
    """What a link may fill in on the create form: order number, product ID, file name."""
    initial: dict[str, Any] = {}
    order_number = parse_order_number(query.get("order_id") or query.get("order_number"))
    if order_number is not None:
        initial["order_id"] = order_number
    product_id = (query.get("product_id") or "").strip()
    if product_id.isascii() and product_id.isdigit() and len(product_id) < 12 and int(product_id) > 0:
        initial["product_id"] = int(product_id)
    file_name = (query.get("download_file_name") or "").strip()[:255]
    if file_name:
        initial["download_file_name"] = file_name
    return initial


def not_found(request: HttpRequest) -> HttpResponse:
    reason = _("There is no download record with that ID at the downloads API. Someone may have deleted it.")
    return render(request, "404.html", {"reason": reason}, status=404)


def _show_failure(form: RecordForm, failed: UserFacingError) -> int:
    """Put a refused or failed write on the form (an API's field messages on their fields); the status."""
    if isinstance(failed, errors.ValidationFailed):
        form.add_api_errors(failed.field_errors, failed.user_message)
    elif isinstance(failed, roles.NotAllowed) and form.editable_fields() == ["download_count"]:
        form.add_error("download_count", failed.user_message)  # Support's refusal is about the count
    else:
        form.add_error(None, failed.user_message)
    return 403 if isinstance(failed, roles.NotAllowed) else 200


def unknown_notice(failed: services.DownloadRecordOutcomeUnknown) -> dict[str, str]:
    """The sentence and where to check, for a write whose outcome could not be read back."""
    if failed.download_id:
        check_url = reverse("downloads:edit", args=[failed.download_id])
    else:
        check_url = order_records_url(failed.order_number or "")
    return {"sentence": failed.user_message, "check_url": check_url}


# --- list ----------------------------------------------------------------------------------------


def _more_than_read(order_number: int) -> str:
    return _(
        "The downloads API matched more than %(limit)s records for %(number)s (download IDs and file names "
        "holding those digits count too), so some records of this order may be missing below. Open the "
        "order to see all of its records."
    ) % {"limit": grouped(reads.ORDER_RECORDS_LIMIT), "number": order_number}



def _bare_number_split(
    bare: int | None, fetched: types.Fetched[types.Page[types.DownloadRecord]] | None
) -> dict[str, object]:
    """A bare number ("1050"): this page's records of the order with that number first, the other
    matches (a product ID, or the digits in a download ID or file name) apart. No call more."""
    listed = fetched.value.items if fetched and bare is not None else ()
    return {
        "bare_number": bare,
        "own_records": [record for record in listed if record.order_id == bare],
        "other_records": [record for record in listed if record.order_id != bare],
    }


def _first_read(read: Callable[[], T]) -> T:
    """`read` as the page's first shared-cache read: the keys it asks for (its saved upstream answer)
    learned without asking (readahead.gathering) and read ahead, so that the page's later reads, named by
    that answer (its counts' note, product names, rows), can come in the same round trip
    (fileflare_admin.readahead); then `read` itself."""
    with readahead.gathering() as keys:
        deadline.from_cache_only(read)  # stops at its cache read; an error is the real read's to raise
    readahead.read_ahead(keys)
    return read()


@require_http_methods(["GET", "HEAD"])
@readahead.scope()
def record_list(request: StaffRequest) -> HttpResponse:
    sortable = reads.sortable_fields(request.user)
    form = RecordListForm(request.GET, sortable=sortable)
    params = form.params()
    order_number = reads.order_number_query(params["q"])  # "#1050": that order's records only
    fetched: types.Fetched[types.Page[types.DownloadRecord]] | None = None
    error, notes = "", form.notes()
    try:
        if order_number is None:
            fetched = _first_read(partial(reads.download_record_list, user=request.user, **params))
        else:
            listing = _first_read(
                partial(
                    reads.download_record_list_of_order,
                    user=request.user,
                    order_number=order_number,
                    sort=params["sort"],
                )
            )
            fetched = listing.fetched
            notes += [] if listing.complete else [_more_than_read(order_number)]
    except errors.ApiError as failed:
        error = failed.user_message
    context = {
        "form": form,
        "params": params,
        "order_number": order_number,
        "query": form.kept_query(),
        "notes": notes,
        "error": error,
        "fetched": fetched,
        "page": fetched.value if fetched else None,
        "records": fetched.value.items if fetched else [],
        "record_limits": limits.limits_for_records(fetched.value.items if fetched else []),
        **_bare_number_split(reads.bare_number_query(params["q"]), fetched),
        "sortable": sortable,
        "show_order": True,
        "per_page_choices": reads.PER_PAGE_CHOICES,
    }
    return page_or_partial(
        request, page="downloads/record_list.html", partial="downloads/_record_results.html", context=context
    )


# --- create --------------------------------------------------------------------------------------


def _create_sent(request: StaffRequest, form: RecordCreateForm) -> HttpResponse:
    """A valid create form: send it once; a redirect when created, else the form with what happened."""
    notice: dict[str, str] | None = None
    status = 200
    try:
        written = services.download_record_create(
            actor=request.user,
            fields=form.record_fields(),
            reason=form.cleaned_data.get("reason") or "",
            submission=form.cleaned_data.get("submission") or "",
        )
    except AlreadySubmitted as again:
        check_url = order_records_url(form.cleaned_data["order_id"])
        notice = {"sentence": again.user_message, "check_url": check_url}
        form = form.with_new_submission()
    except services.DownloadRecordOutcomeUnknown as unknown:
        notice, form = unknown_notice(unknown), form.with_new_submission()
    except UserFacingError as failed:
        status = _show_failure(form, failed)
    else:
        record = written.record
        assert record is not None  # a create returns the record it made
        sentence = (
            _("Created download record %(id)s for order %(number)s — checked at the API.")
            if written.checked
            else _("Created download record %(id)s for order %(number)s.")
        )
        messages.success(request, sentence % {"id": record.download_id, "number": record.order_id})
        return redirect(back_to(request, order_records_url(record.order_id), record.download_id))
    return _create_page(request, form, status=status, outcome_unknown=notice)


def _create_page(
    request: StaffRequest, form: RecordCreateForm, status: int = 200, **context: Any
) -> HttpResponse:
    context = {"form": form, "next_url": came_from(request), **context}
    return render(request, "downloads/record_create.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def record_create(request: StaffRequest) -> HttpResponse:
    show_key = roles.allows(request.user, "see_amazon_key")
    if request.method != "POST":
        roles.require(request.user, "create")  # Support never gets the form: a clear 403 now
        form = RecordCreateForm(initial=_create_initial(request.GET), show_amazon_key=show_key)
        return _create_page(request, form)
    # A POST from someone who may not create is refused and audited with what they sent.
    services.download_record_create_check(
        actor=request.user, attempted=request.POST.dict(), reason=request.POST.get("reason", "")[:500]
    )
    form = RecordCreateForm(request.POST, show_amazon_key=show_key)
    if not form.is_valid():
        return _create_page(request, form)
    return _create_sent(request, form)


# --- edit ----------------------------------------------------------------------------------------


def _edit_form(request: StaffRequest, data: Any, loaded: dict[str, Any]) -> RecordEditForm:
    may = permissions_for(request.user)
    count = loaded.get("download_count")
    return RecordEditForm(
        data,
        initial={**records.writable(loaded), **({} if data is not None else {"loaded": sign_loaded(loaded)})},
        editable=may.editable_fields,
        show_amazon_key=may["see_amazon_key"],
        count_range=may.count_range(count if isinstance(count, int) else 0),
    )


def _edit_page(request: StaffRequest, download_id: str, status: int = 200, **context: Any) -> HttpResponse:
    may = permissions_for(request.user)
    context.setdefault("record", None)
    return render(
        request,
        "downloads/record_edit.html",
        {
            "download_id": download_id,
            "count_only": may.editable_fields is not None,
            "next_url": came_from(request),
            **context,
        },
        status=status,
    )


def _edit_open(request: StaffRequest, download_id: str) -> HttpResponse:
    try:
        fetched = reads.download_record_get(download_id=download_id, fresh=True)
    except errors.NotFound:
        return not_found(request)
    except errors.ApiError as failed:
        return _edit_page(request, download_id, error=failed.user_message)
    record = fetched.value
    loaded = records.loaded_snapshot(record)
    key = {"amazon_key": record.amazon_key} if roles.allows(request.user, "see_amazon_key") else {}
    form = _edit_form(request, None, loaded)
    form.initial.update(key)
    return _edit_page(request, download_id, form=form, record=record, fetched_at=fetched.fetched_at)


def _edit_conflict(request: StaffRequest, download_id: str, conflict: services.EditConflict) -> HttpResponse:
    """The conflict page: both versions side by side, the form holding the merge for "Save mine anyway"."""
    assert conflict.merge is not None  # an edit's conflict carries its merge
    loaded = records.loaded_snapshot(conflict.current)
    form = _edit_form(request, as_posted(request.POST, conflict.merge, loaded=loaded), loaded)
    form.is_valid()
    comparison = form.labelled(conflict.merge.rows)
    return _edit_page(
        request, download_id, form=form, record=conflict.current, conflict=conflict, comparison=comparison
    )


def _edit_saved(request: StaffRequest, download_id: str, form: RecordEditForm) -> HttpResponse:
    try:
        written = edits.download_record_update(
            actor=request.user,
            download_id=download_id,
            fields=form.record_fields(),
            loaded=form.cleaned_data["loaded"],
            reason=form.cleaned_data.get("reason") or "",
        )
    except services.EditConflict as conflict:
        return _edit_conflict(request, download_id, conflict)
    except services.DownloadRecordOutcomeUnknown as unknown:
        return _edit_page(request, download_id, form=form, outcome_unknown=unknown_notice(unknown))
    except UserFacingError as failed:
        status = _show_failure(form, failed)
        return _edit_page(request, download_id, status=status, form=form, record=form.cleaned_data["loaded"])
    assert written.record is not None  # an edit returns the record as saved
    if written.entry is None:
        messages.success(request, _("Nothing was changed, so nothing was saved."))
    elif written.checked:
        saved = _("Saved download record %(id)s — checked at the API.")
        messages.success(request, saved % {"id": download_id})
    else:
        messages.success(request, _("Saved download record %(id)s.") % {"id": download_id})
    return redirect(back_to(request, order_records_url(written.record.order_id), download_id))


@require_http_methods(["GET", "HEAD", "POST"])
def record_edit(request: StaffRequest, download_id: str) -> HttpResponse:
    if not DOWNLOAD_ID.fullmatch(download_id):
        return not_found(request)
    if request.method != "POST":
        return _edit_open(request, download_id)
    loaded = unsign_loaded(request.POST.get("loaded", "")) or {}
    data = request.POST.copy()
    if loaded and loaded.get("download_id") != download_id:
        loaded, data["loaded"] = {}, "not-this-record"  # another record's snapshot: refused as tampered
    form = _edit_form(request, data, loaded)
    if not form.is_valid():
        return _edit_page(request, download_id, form=form, record=loaded)
    return _edit_saved(request, download_id, form)


# --- delete --------------------------------------------------------------------------------------


def _delete_page(request: StaffRequest, download_id: str, **context: Any) -> HttpResponse:
    context.setdefault("record", None)
    context = {"download_id": download_id, "next_url": came_from(request), **context}
    return render(request, "downloads/record_delete.html", context)


def _delete_ask(request: StaffRequest, download_id: str) -> HttpResponse:
    roles.require(request.user, "delete")
    try:
        record = reads.download_record_get(download_id=download_id, fresh=True).value
    except errors.NotFound:
        return not_found(request)
    except errors.ApiError as failed:
        return _delete_page(request, download_id, error=failed.user_message)
    form = RecordDeleteForm(initial={"loaded": sign_loaded(records.loaded_snapshot(record))})
    return _delete_page(request, download_id, form=form, record=record)


@require_http_methods(["GET", "HEAD", "POST"])
def record_delete(request: StaffRequest, download_id: str) -> HttpResponse:
    if not DOWNLOAD_ID.fullmatch(download_id):
        return not_found(request)
    if request.method != "POST":
        return _delete_ask(request, download_id)
    form = RecordDeleteForm(request.POST)
    if not form.is_valid():
        return _delete_page(request, download_id, form=form)
    loaded = form.cleaned_data["loaded"]
    same_record = bool(loaded) and loaded.get("download_id") == download_id
    return _delete_sent(request, download_id, form, loaded if same_record else None)


def _delete_sent(
    request: StaffRequest, download_id: str, form: RecordDeleteForm, loaded: dict[str, Any] | None
) -> HttpResponse:
    reason = form.cleaned_data.get("reason") or ""
    try:
        written = services.download_record_delete(
            actor=request.user, download_id=download_id, reason=reason, loaded=loaded
        )
    except services.EditConflict as clash:
        data = request.POST.copy()
        data["loaded"] = sign_loaded(records.loaded_snapshot(clash.current))
        form = RecordDeleteForm(data)
        return _delete_page(request, download_id, form=form, record=clash.current, conflict=clash)
    except errors.NotFound:
        return not_found(request)
    except services.DownloadRecordOutcomeUnknown as unknown:
        notice = unknown_notice(unknown)
        return _delete_page(request, download_id, form=form, record=loaded, outcome_unknown=notice)
    except roles.NotAllowed:
        raise  # the 403 page says why; the attempt is in the audit trail
    except UserFacingError as failed:
        form.add_error(None, failed.user_message)
        return _delete_page(request, download_id, form=form, record=loaded)
    order_number = written.entry.order_number if written.entry else None
    sentence = (
        _("Deleted download record %(id)s — checked at the API. Its entry in the audit log can restore it.")
        if written.checked
        else _("Deleted download record %(id)s. Its entry in the audit log can restore it.")
    )
    messages.success(request, sentence % {"id": download_id})
    # The row is gone, so no row to highlight: back to where the person started.
    fallback = order_records_url(order_number) if order_number else reverse("downloads:list")
    return redirect(back_to(request, fallback))
