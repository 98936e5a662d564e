"""The shop's support replies: every situation's wording on one page, each saved on its own."""

from typing import cast

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from audit.services import AuditUnavailable
from fileflare_admin.htmx import StaffRequest
from orders import replies
from orders.forms import ReplyTemplateForm
from orders.pages import audit_links
from orders.reply_text import REPLY_PLACEHOLDERS, Situation


@require_http_methods(["GET", "POST"])
def reply_templates(request: StaffRequest) -> HttpResponse:
    """GET: each reply with its form (Merchants may change them). POST: save one, audited."""
    failed: ReplyTemplateForm | None = None
    if request.method == "POST":
        form = ReplyTemplateForm(request.POST)
        if form.is_valid():
            situation = cast(Situation, form.cleaned_data["situation"])
            body = None if form.cleaned_data["default"] else form.cleaned_data["body"]
            try:
                saved = replies.reply_template_save(
                    actor=request.user, situation=situation, body=body, reason=form.cleaned_data["reason"]
                )
            except (replies.BadTemplate, AuditUnavailable) as refused:
                form.add_error("body", refused.user_message)
            else:
                links = audit_links([saved.entry], viewer=request.user)
                messages.success(request, format_html("Saved the reply “{}”.{}", saved.template.label, links))
                return redirect(f"{reverse('orders:replies')}#reply-{situation}")
        failed = form
    forms = [
        failed
        if failed is not None and failed.data.get("situation") == template.situation
        else ReplyTemplateForm(initial={"situation": template.situation, "body": template.body})
        for template in replies.reply_templates()
    ]
    context = {
        "templates": list(zip(replies.reply_templates(), forms, strict=True)),
        "placeholders": REPLY_PLACEHOLDERS,
    }
    return render(request, "orders/reply_templates.html", context, status=200)
