"""Bulk fix pages: thin views over jobs.services. Merchant only (the services refuse everyone else)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fileflare_admin.api.errors import ApiError
from fileflare_admin.htmx import StaffRequest, page_or_partial
from jobs import services
from jobs.forms import BulkFixForm, ItemFilterForm, UndoJobForm, prefilled
from jobs.models import BulkJob, BulkJobItem
from jobs.selection import SelectionError
from staff import roles


def _job(request: StaffRequest, pk: int) -> BulkJob:
    try:
        return services.job_get(actor=request.user, job_id=pk)
    except BulkJob.DoesNotExist:
        raise Http404(_("No bulk fix with that number.")) from None


@require_GET
def job_list(request: StaffRequest) -> HttpResponse:
    jobs = services.job_list(actor=request.user)
    return render(request, "jobs/job_list.html", {"jobs": jobs})


@require_http_methods(["GET", "POST"])
def job_new(request: StaffRequest) -> HttpResponse:
    """The filter and action form; a valid POST makes the dry run and shows it."""
    roles.require(request.user, "run_bulk_fixes")
    # A GET only fills the form in (a link from the Reports page); a POST plans the dry run.
    posted = request.method == "POST"
    form = BulkFixForm(request.POST) if posted else BulkFixForm(initial=prefilled(request.GET))
    problem = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.job_plan(
                actor=request.user,
                selection=form.selection(),
                kind=data["action"],
                amount=data.get("amount"),
                reason=data["reason"],
            )
        except (SelectionError, ApiError) as failure:
            problem = failure.user_message
        else:
            return redirect("jobs:detail", pk=job.pk)
    return render(request, "jobs/job_new.html", {"form": form, "problem": problem})


def _page_context(request: StaffRequest, job: BulkJob) -> dict[str, object]:
    """What the job's page and its polled parts read: one services.job_page, read once."""
    shown = services.job_page(job, **ItemFilterForm(request.GET).wanted())
    return {
        "job": job,
        "plan": shown.plan,
        "progress": shown.progress,
        "stalled_since": shown.stalled_since,
        "undo_refusal": shown.undo_refusal,
        "items": shown.items,
        "item_state": shown.item_state,
        "item_states": BulkJobItem.State.choices,
    }


@require_GET
def job_detail(request: StaffRequest, pk: int) -> HttpResponse:
    """The dry run (with Run), or the job's progress and result; works on reload and in any browser."""
    context = _page_context(request, _job(request, pk))
    return page_or_partial(request, page="jobs/job_detail.html", partial="jobs/_items.html", context=context)


@require_GET
def job_progress(request: StaffRequest, pk: int) -> HttpResponse:
    """What the job's page polls while the job runs: the progress bar, and with it (out of band) the
    state badge and the items shown, all from the same reading. Once the job has finished, the page
    reloads to show every item's outcome."""
    job = _job(request, pk)
    response = render(request, "jobs/_progress_poll.html", _page_context(request, job))
    if job.finished and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def job_run(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        job = services.job_run(actor=request.user, job_id=pk)
    except BulkJob.DoesNotExist:
        raise Http404(_("No bulk fix with that number.")) from None
    except services.JobRefused as refused:
        messages.warning(request, refused.user_message)
    else:
        queued = _("Bulk fix #%(number)s is queued: it runs in the background, within its budget.")
        messages.success(request, queued % {"number": job.pk})
    return redirect("jobs:detail", pk=pk)


@require_POST
def job_cancel(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        job = services.job_cancel(actor=request.user, job_id=pk)
    except BulkJob.DoesNotExist:
        raise Http404(_("No bulk fix with that number.")) from None
    if job.state == BulkJob.State.CANCELLED:
        messages.success(request, _("Bulk fix #%(number)s is cancelled.") % {"number": job.pk})
    else:
        messages.info(request, _("Cancelling: the job stops after the item it is sending now."))
    return redirect("jobs:detail", pk=pk)


@require_http_methods(["GET", "POST"])
def job_undo(request: StaffRequest, pk: int) -> HttpResponse:
    """Asks first (what will be set back, with a reason), then queues the undo as a job of its own."""
    job = _job(request, pk)
    form = UndoJobForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            undo = services.job_undo(actor=request.user, job_id=job.pk, reason=form.cleaned_data["reason"])
        except services.JobRefused as refused:
            messages.warning(request, refused.user_message)
            return redirect("jobs:detail", pk=job.pk)
        queued = _("Undo of bulk fix #%(number)s is queued as bulk fix #%(undo)s.")
        messages.success(request, queued % {"number": job.pk, "undo": undo.pk})
        return redirect("jobs:detail", pk=undo.pk)
    return render(
        request,
        "jobs/job_undo.html",
        {
            "job": job,
            "form": form,
            "refusal": services.undo_refusal(job),
            "progress": services.job_progress(job),
        },
    )


@require_GET
def job_csv(request: StaffRequest, pk: int) -> StreamingHttpResponse:
    job = _job(request, pk)
    response = StreamingHttpResponse(services.job_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulk-fix-{job.pk}.csv"'
    return response
