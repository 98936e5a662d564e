"""Download-record pages: the list (with in-place count fixes), create, edit, delete.

Views parse input with a form, call one service and turn its outcome into a page, a partial for htmx,
or a redirect with a flash message. A person never loses what they typed: every failure re-renders
the form as sent (403 for a refusal by role, otherwise 200 so htmx swaps it too).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event
from django_htmx.middleware import HtmxDetails

from downloads import services
from downloads.forms import (
    CountForm,
    RecordCreateForm,
    RecordDeleteForm,
    RecordEditForm,
    RecordListForm,
    sign_loaded,
    unsign_loaded,
)
from fileflare_admin.api import errors, types
from staff import roles

# The downloads API's own rule for ids; anything else never reaches it and is a 404 here.
DOWNLOAD_ID = re.compile(r"[0-9A-Za-z]{1,64}")
CREATE_TOKEN_SECONDS = 24 * 60 * 60


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def record_permissions(user: roles.AnyUser) -> dict[str, Any]:
    """What the record templates may offer this person (the services check again)."""
    return {
        "can_create": roles.can_create(user),
        "can_edit": roles.can_edit(user),
        "can_delete": roles.can_delete(user),
        "can_see_amazon_key": roles.can_see_amazon_key(user),
        "max_count_step": roles.max_count_step(user),
    }


# --- helpers -------------------------------------------------------------------------------------


def _show_failure(form: Any, failed: Exception) -> int:
    """Put a refused or failed write on the form (a 422 on its fields) and give the page's status."""
    if isinstance(failed, errors.ValidationFailed):
        form.add_api_errors(failed.field_errors, str(failed))
    elif isinstance(failed, roles.NotAllowed) and _only_count_editable(form):
        # Support may change the count only, so a refusal is about the count: say it at that field.
        form.add_error("download_count", str(failed))
    else:
        form.add_error(None, str(failed))
    return 403 if isinstance(failed, roles.NotAllowed) else 200


def _only_count_editable(form: Any) -> bool:
    fields = getattr(form, "fields", {})
    writable = services.WRITABLE_FIELDS
    editable = [name for name, field in fields.items() if name in writable and not field.disabled]
    return editable == ["download_count"]


def list_url(**params: Any) -> str:
    """/downloads/ with the given parameters, leaving out empty ones and defaults."""
    query = {
        key: value
        for key, value in params.items()
        if value not in (None, "")
        and not (key == "page" and value == 1)
        and not (key == "per_page" and value == services.PER_PAGE_CHOICES[0])
    }
    base = reverse("downloads:list")
    return f"{base}?{urlencode(query)}" if query else base


def order_records_url(order_id: Any) -> str:
    """The list filtered to one order, newest first: where a just-created record shows up."""
    return list_url(q=str(order_id), sort="-date_created")


def _not_found(request: HttpRequest, download_id: str) -> HttpResponse:
    return render(
        request,
        "404.html",
        {
            "reason": "There is no download record with that ID at the downloads API. "
            "Someone may have deleted it."
        },
        status=404,
    )


def _valid_id(download_id: str) -> bool:
    return bool(DOWNLOAD_ID.fullmatch(download_id))


def _safe_next(request: HttpRequest, candidate: str | None, fallback: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def _count_range(user: roles.AnyUser, count: int) -> tuple[int, int] | None:
    step = roles.max_count_step(user)
    if step is None:
        return None
    return max(count - step, 0), count + step


def _editable(user: roles.AnyUser) -> frozenset[str] | None:
    return None if roles.can_edit(user) else frozenset({"download_count"})


def _initial_from(snapshot: dict[str, Any] | types.DownloadRecord, *, with_key: bool) -> dict[str, Any]:
    get = snapshot.get if isinstance(snapshot, dict) else lambda name: getattr(snapshot, name, None)
    names = [name for name in services.WRITABLE_FIELDS if with_key or name != "amazon_key"]
    return {name: get(name) for name in names if get(name) is not None}


# --- list ----------------------------------------------------------------------------------------


def _sort_links(params: dict[str, Any], sortable: frozenset[str]) -> dict[str, dict[str, str | None]]:
    current = services.parse_sort(params["sort"], allowed=sortable)
    links: dict[str, dict[str, str | None]] = {}
    for field in services.RECORD_FIELDS:
        if field not in sortable:
            continue
        state = None
        target = field
        if current and current[0] == field:
            state = "ascending" if current[1] == "ASC" else "descending"
            target = f"-{field}" if current[1] == "ASC" else field
        links[field] = {
            "url": list_url(q=params["q"], sort=target, per_page=params["per_page"]),
            "state": state,
        }
    return links


def _pagination(params: dict[str, Any], page: types.Page[types.DownloadRecord]) -> dict[str, Any]:
    def at(number: int) -> str:
        return list_url(q=params["q"], sort=params["sort"], per_page=params["per_page"], page=number)

    return {
        "number": page.page,
        "last": page.last_page,
        "total": page.total,
        "first_url": at(1) if page.page > 1 else None,
        "previous_url": at(page.page - 1) if page.has_previous else None,
        "next_url": at(page.page + 1) if page.has_next else None,
        "last_url": at(page.last_page) if page.last_page and page.page < page.last_page else None,
        "per_page_links": [
            {
                "n": n,
                "url": list_url(q=params["q"], sort=params["sort"], per_page=n),
                "current": n == page.per_page,
            }
            for n in services.PER_PAGE_CHOICES
        ],
    }


@require_http_methods(["GET", "HEAD"])
def record_list(request: HtmxHttpRequest) -> HttpResponse:
    perms = record_permissions(request.user)
    sortable = (
        services.SORTABLE_FIELDS if perms["can_see_amazon_key"] else services.SORTABLE_FIELDS - {"amazon_key"}
    )
    form = RecordListForm(request.GET, sortable=sortable)
    params = form.params()
    notes = form.notes()
    fetched: types.Fetched[types.Page[types.DownloadRecord]] | None = None
    error = None
    try:
        fetched = services.download_list(user=request.user, **params)
    except errors.ApiError as failed:
        error = str(failed)
    context = {
        "form": form,
        "params": params,
        "notes": notes,
        "error": error,
        "fetched": fetched,
        "records": fetched.value.items if fetched else [],
        "pagination": _pagination(params, fetched.value) if fetched else None,
        "sort_links": _sort_links(params, sortable),
        "show_order": True,
        "record_perms": perms,
        "per_page_choices": services.PER_PAGE_CHOICES,
        "list_reset_url": reverse("downloads:list"),
    }
    partial = bool(request.htmx) and not request.htmx.history_restore_request and not request.htmx.boosted
    template = "downloads/_record_results.html" if partial else "downloads/record_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- create --------------------------------------------------------------------------------------


def _fresh_submission(form: RecordCreateForm) -> RecordCreateForm:
    """The same typed values with a new one-time submission token."""
    data = form.data.copy()
    data["submission"] = RecordCreateForm().initial["submission"]
    fresh = RecordCreateForm(data, show_amazon_key=form.show_amazon_key)
    fresh.is_valid()
    return fresh


@require_http_methods(["GET", "HEAD", "POST"])
def record_create(request: HtmxHttpRequest) -> HttpResponse:
    if not roles.can_create(request.user):
        # Support never gets the form: a clear 403 now beats a refused save later. A POST all the
        # same goes through the service, which writes the refused attempt to the audit trail.
        if request.method == "POST":
            attempted = {
                name: request.POST[name] for name in services.WRITABLE_FIELDS if name in request.POST
            }
            services.download_create(
                actor=request.user, fields=attempted, reason=request.POST.get("reason", "")[:500]
            )
        roles.require_can_create(request.user)  # type: ignore[arg-type]
    show_key = roles.can_see_amazon_key(request.user)
    status = 200
    outcome_unknown: dict[str, str] | None = None
    if request.method != "POST":
        initial = {}
        order_id = request.GET.get("order_id", "")
        if order_id.isdigit():
            initial["order_id"] = int(order_id)
        form = RecordCreateForm(initial=initial, show_amazon_key=show_key)
    else:
        form = RecordCreateForm(request.POST, show_amazon_key=show_key)
        if form.is_valid():
            token = form.cleaned_data.get("submission") or ""
            cache_key = f"downloads:create-submission:{token}"
            if token and not cache.add(cache_key, True, timeout=CREATE_TOKEN_SECONDS):
                outcome_unknown = {
                    "sentence": "This form was already sent once, so it was not sent again. "
                    "Check whether the record exists before creating it again.",
                    "search_url": order_records_url(form.cleaned_data["order_id"]),
                }
                form = _fresh_submission(form)
            else:
                try:
                    record = services.download_create(
                        actor=request.user,
                        fields=form.record_fields(),
                        reason=form.cleaned_data.get("reason") or "",
                    )
                except errors.OutcomeUnknown:
                    # The token stays spent: sending this same form again could create a duplicate.
                    outcome_unknown = {
                        "sentence": "The downloads API did not answer in time, so we cannot tell "
                        "whether the record was created.",
                        "search_url": order_records_url(form.cleaned_data["order_id"]),
                    }
                    form = _fresh_submission(form)
                except (roles.NotAllowed, errors.ApiError) as failed:
                    cache.delete(cache_key)  # nothing was created: the same form may be sent again
                    status = _show_failure(form, failed)
                else:
                    messages.success(
                        request,
                        f"Created download record {record.download_id} for order {record.order_id}.",
                    )
                    return redirect(order_records_url(record.order_id))
    return render(
        request,
        "downloads/record_create.html",
        {"form": form, "outcome_unknown": outcome_unknown, "record_perms": record_permissions(request.user)},
        status=status,
    )


# --- edit ----------------------------------------------------------------------------------------


def _merge_after_conflict(
    form: RecordEditForm, conflict: services.EditConflict
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Three-way merge for the conflict page.

    The fields the person changed keep their values; the fields they did not touch take the values
    now at the API, so "Save mine anyway" overrides only what both people changed, never a colleague's
    change to another field. Returns the merged API fields and the rows of "Yours" beside "Now".
    """
    current = conflict.current
    mine = services.fields_changed(form.cleaned_data["loaded"], form.record_fields())
    merged: dict[str, Any] = {}
    rows = []
    for name in services.WRITABLE_FIELDS:
        if name not in form.fields:
            continue  # the S3 key, for someone who may not see it: neither sent nor shown
        now = getattr(current, name)
        yours = mine.get(name, now)
        merged[name] = yours
        rows.append(
            {
                "name": name,
                "label": form.fields[name].label,  # as the form below names it
                "yours": yours,
                "now": now,
                "differs": yours != now,
                "changed_by_you": name in mine,
                "changed_by_someone": name in conflict.changed,
            }
        )
    return merged, rows


def _as_form_data(data: Any, fields: dict[str, Any]) -> Any:
    """`fields` written into a copy of POST data the way a browser would send them."""
    data = data.copy()
    for name, value in fields.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            else:
                data.pop(name, None)
        else:
            data[name] = "" if value is None else str(value)
    return data


@require_http_methods(["GET", "HEAD", "POST"])
def record_edit(request: HtmxHttpRequest, download_id: str) -> HttpResponse:
    if not _valid_id(download_id):
        return _not_found(request, download_id)
    user = request.user
    show_key = roles.can_see_amazon_key(user)
    editable = _editable(user)
    status = 200
    conflict: services.EditConflict | None = None
    comparison: list[dict[str, Any]] = []
    record: types.DownloadRecord | dict[str, Any] | None = None
    fetched_at = None

    if request.method != "POST":
        try:
            fetched = services.download_get(download_id=download_id, fresh=True)
        except errors.NotFound:
            return _not_found(request, download_id)
        except errors.ApiError as failed:
            return render(
                request,
                "downloads/record_edit.html",
                {"error": str(failed), "download_id": download_id, "record_perms": record_permissions(user)},
            )
        record = fetched.value
        fetched_at = fetched.fetched_at
        initial = {
            **_initial_from(record, with_key=show_key),
            "loaded": sign_loaded(services.loaded_snapshot(record)),
        }
        form = RecordEditForm(
            initial=initial,
            editable=editable,
            show_amazon_key=show_key,
            count_range=_count_range(user, record.download_count),
        )
    else:
        loaded = unsign_loaded(request.POST.get("loaded", "")) or {}
        data = request.POST.copy()
        if loaded and loaded.get("download_id") != download_id:
            # Another record's snapshot: refused like a tampered one.
            loaded = {}
            data["loaded"] = "not-this-record"
        record = loaded
        form = RecordEditForm(
            data,
            initial=_initial_from(loaded, with_key=False),
            editable=editable,
            show_amazon_key=show_key,
            count_range=_count_range(user, int(loaded.get("download_count") or 0)),
        )
        if form.is_valid():
            fields = form.record_fields()
            try:
                updated = services.download_update(
                    actor=user,
                    download_id=download_id,
                    fields=fields,
                    loaded=form.cleaned_data["loaded"],
                    reason=form.cleaned_data.get("reason") or "",
                )
            except services.EditConflict as clash:
                conflict = clash
                merged, comparison = _merge_after_conflict(form, clash)
                # "Save mine anyway" sends the merged values against the record as it is now.
                data = _as_form_data(request.POST, merged)
                data["loaded"] = sign_loaded(services.loaded_snapshot(clash.current))
                form = RecordEditForm(
                    data,
                    initial=_initial_from(clash.current, with_key=False),
                    editable=editable,
                    show_amazon_key=show_key,
                    count_range=_count_range(user, clash.current.download_count),
                )
                form.is_valid()
                record = clash.current
            except errors.NotFound:
                form.add_error(
                    None,
                    "This record no longer exists at the downloads API: someone deleted it meanwhile. "
                    "Nothing was saved.",
                )
            except (roles.NotAllowed, errors.ApiError) as failed:
                status = _show_failure(form, failed)
            else:
                if services.fields_changed(form.cleaned_data["loaded"], fields):
                    messages.success(request, f"Saved download record {download_id}.")
                else:
                    messages.success(request, "Nothing was changed, so nothing was saved.")
                return redirect(order_records_url(updated.order_id))

    return render(
        request,
        "downloads/record_edit.html",
        {
            "form": form,
            "record": record,
            "download_id": download_id,
            "fetched_at": fetched_at,
            "conflict": conflict,
            "comparison": comparison,
            "record_perms": record_permissions(user),
            "count_only": editable is not None,
        },
        status=status,
    )


# --- delete --------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def record_delete(request: HtmxHttpRequest, download_id: str) -> HttpResponse:
    if not _valid_id(download_id):
        return _not_found(request, download_id)
    if request.method != "POST":
        roles.require_can_delete(request.user)  # type: ignore[arg-type]
        try:
            record = services.download_get(download_id=download_id, fresh=True).value
        except errors.NotFound:
            return _not_found(request, download_id)
        except errors.ApiError as failed:
            return render(
                request,
                "downloads/record_delete.html",
                {"error": str(failed), "download_id": download_id, "record": None},
            )
        form = RecordDeleteForm(initial={"loaded": sign_loaded(services.loaded_snapshot(record))})
        return render(
            request,
            "downloads/record_delete.html",
            {"form": form, "record": record, "download_id": download_id},
        )

    form = RecordDeleteForm(request.POST)
    loaded: dict[str, Any] | None = None
    if form.is_valid():
        loaded = form.cleaned_data["loaded"]
        if loaded is not None and loaded.get("download_id") != download_id:
            loaded = None
    else:
        return render(
            request,
            "downloads/record_delete.html",
            {"form": form, "record": None, "download_id": download_id},
        )
    try:
        services.download_delete(
            actor=request.user,
            download_id=download_id,
            reason=form.cleaned_data.get("reason") or "",
            loaded=loaded,
        )
    except roles.NotAllowed:
        raise  # the 403 page says why; the attempt is in the audit trail
    except services.EditConflict as clash:
        data = request.POST.copy()
        data["loaded"] = sign_loaded(services.loaded_snapshot(clash.current))
        return render(
            request,
            "downloads/record_delete.html",
            {
                "form": RecordDeleteForm(data),
                "record": clash.current,
                "download_id": download_id,
                "conflict": clash,
            },
        )
    except errors.NotFound:
        return _not_found(request, download_id)
    except errors.ApiError as failed:
        form.add_error(None, str(failed))
        return render(
            request,
            "downloads/record_delete.html",
            {"form": form, "record": loaded, "download_id": download_id},
        )
    order_id = (loaded or {}).get("order_id")
    messages.success(
        request,
        f"Deleted download record {download_id}. Its entry in the audit log can restore it.",
    )
    return redirect(order_records_url(order_id) if order_id else reverse("downloads:list"))


# --- in-place count ------------------------------------------------------------------------------


def _row(
    request: HttpRequest,
    record: types.DownloadRecord,
    *,
    context_name: str,
    next_url: str,
    message: str,
    level: str,
) -> HttpResponse:
    response = render(
        request,
        "downloads/_record_row.html",
        {
            "record": record,
            "show_order": context_name != "order",
            "row_context": context_name,
            "row_next": next_url,
            "row_message": message,
            "row_message_level": level,
            "record_perms": record_permissions(request.user),
        },
    )
    return response


def _row_message(request: HttpRequest, download_id: str, message: str) -> HttpResponse:
    """A failure that leaves the row as the person left it: only the row's message slot changes."""
    response = render(
        request, "downloads/_row_message.html", {"row_message": message, "row_message_level": "error"}
    )
    response = retarget(response, f"#record-{download_id}-message")
    return reswap(response, "innerHTML")  # type: ignore[arg-type]


@require_POST
def record_count(request: HtmxHttpRequest, download_id: str) -> HttpResponse | HttpResponseRedirect:
    if not _valid_id(download_id):
        return _not_found(request, download_id)
    form = CountForm(request.POST)
    context_name = request.POST.get("context") if request.POST.get("context") in ("list", "order") else "list"
    next_url = _safe_next(request, request.POST.get("next"), reverse("downloads:list"))
    htmx = bool(request.htmx)

    def failed(sentence: str) -> HttpResponse:
        if htmx:
            return _row_message(request, download_id, sentence)
        messages.error(request, sentence)
        return redirect(next_url)

    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return failed(f"Not saved: {first}")
    count: int = form.cleaned_data["count"]
    expected: int | None = form.cleaned_data.get("expected")
    try:
        record = services.download_count_set(
            actor=request.user, download_id=download_id, count=count, expected=expected
        )
    except services.EditConflict as clash:
        sentence = (
            f"Not saved: someone changed this count from {expected} to {clash.current.download_count} "
            f"meanwhile. It shows their value now; enter {count} again and save to replace it."
        )
        if htmx:
            return _row(
                request,
                clash.current,
                context_name=context_name,
                next_url=next_url,
                message=sentence,
                level="warn",
            )
        messages.warning(request, sentence)
        return redirect(next_url)
    except roles.NotAllowed as refused:
        if htmx:
            return _row_message(request, download_id, str(refused))
        raise  # 403 page with the sentence
    except errors.NotFound:
        return failed("This record no longer exists at the downloads API: someone deleted it meanwhile.")
    except errors.ApiError as problem:
        return failed(f"Not saved: {problem}")

    sentence = f"Saved: download count is {record.download_count}."
    if htmx:
        response = _row(
            request, record, context_name=context_name, next_url=next_url, message=sentence, level="ok"
        )
        return trigger_client_event(response, "downloadRecordChanged", {"download_id": record.download_id})
    messages.success(
        request, f"Download count of record {record.download_id} set to {record.download_count}."
    )
    return redirect(next_url)
