"""The shop's support replies: every situation's wording in one language on one page (a link per
language: a reply is written in the customer's), each saved on its own."""

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.services import AuditUnavailable
from fileflare_admin.htmx import StaffRequest
from orders import replies
from orders.forms import ReplyTemplateForm
from orders.pages import audit_links
from orders.reply_text import REPLY_PLACEHOLDERS, Situation, reply_language


@require_http_methods(["GET", "POST"])
def reply_templates(request: StaffRequest) -> HttpResponse:
    """GET: each reply in `?language=` (default: the person's own) with its form (Merchants may change
    them). POST: save one, in the language the form names, audited."""
    asked = request.POST.get("language") or request.GET.get("language")
    language = reply_language(asked, default=get_language())
    failed: ReplyTemplateForm | None = None
    if request.method == "POST":
        form = ReplyTemplateForm(request.POST)
        if form.is_valid():
            situation = cast(Situation, form.cleaned_data["situation"])
            language = form.cleaned_data["language"] or language
            body = None if form.cleaned_data["default"] else form.cleaned_data["body"]
            try:
                saved = replies.reply_template_save(
                    actor=request.user,
                    situation=situation,
                    language=language,
                    body=body,
                    reason=form.cleaned_data["reason"],
                )
            except (replies.BadTemplate, AuditUnavailable) as refused:
                form.add_error("body", refused.user_message)
            else:
                links = audit_links([saved.entry], viewer=request.user)
                said = _("Saved the reply “{label}” ({language}).")
                named = get_language_info(language)["name_translated"]
                messages.success(request, format_html(said + "{links}", label=saved.template.label,
                                                      language=named, links=links))
                return redirect(f"{reverse('orders:replies')}?language={language}#reply-{situation}")
        failed = form
    templates = replies.reply_templates(language)
    forms = [
        failed
        if failed is not None and failed.data.get("situation") == template.situation
        else ReplyTemplateForm(
            initial={"situation": template.situation, "language": language, "body": template.body}
        )
        for template in templates
    ]
    context = {
        "templates": list(zip(templates, forms, strict=True)),
        "placeholders": REPLY_PLACEHOLDERS,
        "replies_language": language,  # not `language`: base.html names the page's so
        "languages": settings.LANGUAGES,
    }
    return render(request, "orders/reply_templates.html", context, status=200)
