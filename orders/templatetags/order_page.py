"""The order page's parts, each cached by the version of what it shows (fileflare_admin.fragments, issue 28).

The order's facts, its actions, the diagnosis, the support reply, what the customer sees and the order's
files: each is a template of its own (templates/orders/_*.html), rendered as `{% include %}` would and
kept in the shared cache under a key made from everything it reads from the page's context (below), the
viewer (permissions, time zone, language) and the code. A part rendered with what an action adds (a form's
errors, a failed fix's sentence) is never kept. The CSRF token and the resend form's one-time token are
each rendering's own: a fragment keeps placeholders for them. The download records' part is rendered
afresh each time (its rows are kept one by one: downloads.templatetags.download_records).

A rendering whose context names parts LATER (name → marker) writes each of those as its marker: a cold
page is rendered while its records are on their way, and the parts that show them go in after
(orders.pages).
"""

from collections.abc import Callable
from typing import Any

from django import template
from django.template import Context
from django.utils.safestring import SafeString, mark_safe

from fileflare_admin import fragments

register = template.Library()


def _reply(context: Context) -> tuple[Any, ...]:
    page = context["page"]
    return (
        context["order"].id,
        page.complaint,
        page.situation,
        page.fitting,
        page.reply_language,
        page.support_reply,
        context.get("reply_choices"),
        context.get("reply_languages"),
    )


def _facts(context: Context) -> tuple[Any, ...]:
    order = context["order"]
    return (order.id, order.order_number, order.ordered_at, order.email_sent_at)


def _actions(context: Context) -> tuple[Any, ...]:
    order = context["order"]
    return (order.id, order.order_number, context["page"].fileflare_app_url)


def _files(context: Context) -> tuple[Any, ...]:
    order = context["order"]
    return (order.id, order.order_number, order.assets)


def _customer(context: Context) -> tuple[Any, ...] | None:
    link_form = context.get("link_form")
    if link_form is None or link_form.is_bound:  # a pasted link with its errors: this rendering only
        return None
    page = context["page"]
    return (context["order"].id, page.status_link, page.token, page.customer)


def _diagnosis(context: Context) -> tuple[Any, ...] | None:
    if any(context.get(name) for name in ("fix_error", "fix_file", "fix_form")):  # a failed fix's sentence
        return None
    order, page = context["order"], context["page"]
    return (order.id, order.order_number, page.fileflare_app_url, page.findings)


def _own_resend_submission(context: Context) -> dict[str, str]:
    form = context.get("resend_form")
    return {"resend_submission": str(form["submission"].value() or "") if form is not None else ""}


PARTS: dict[str, tuple[str, Callable[[Context], tuple[Any, ...] | None] | None]] = {
    "support_reply": ("orders/_support_reply.html", _reply),
    "actions": ("orders/_order_actions.html", _actions),
    "facts": ("orders/_order_facts.html", _facts),
    "files": ("orders/_order_files.html", _files),
    "customer": ("orders/_customer_section.html", _customer),
    "diagnosis": ("orders/_diagnosis.html", _diagnosis),
    "records": ("orders/_order_records.html", None),  # rendered afresh: its rows are kept one by one
}
LATER = "later_parts"  # the context's parts left for later: name → the marker written in their place


@register.simple_tag(takes_context=True)
def order_part(context: Context, name: str) -> SafeString:
    """The part `name` of PARTS, cached by what it shows (None from its version: rendered afresh); its
    marker when the context leaves it for LATER."""
    later = context.get(LATER)
    if later and name in later:
        return mark_safe(later[name])  # noqa: S308  # a comment the page writes itself (orders.pages)
    template_name, version_of = PARTS[name]
    if version_of is None:
        if context.template is None:
            raise ValueError("order_part needs a context being rendered by a template")
        return context.template.engine.get_template(template_name).render(context)  # as {% include %}
    own = _own_resend_submission(context) if name == "actions" else None
    return fragments.render_many(context, template_name, [(_named(context, name), {})], own=own)


def _named(context: Context, name: str) -> Any:
    """The part's version as fragments name it (None: rendered afresh)."""
    version_of = PARTS[name][1]
    try:
        version = version_of(context) if version_of is not None else None
        return fragments.versioned(version) if version is not None else None
    except fragments.Unversioned:
        return None


@register.simple_tag(takes_context=True)
def read_ahead_parts(context: Context, *names: str) -> str:
    """The kept renderings of these parts read in one round trip, before any is rendered (each alone asks
    for its own: a cold page asked five times, one after the other; issue 28). Those the context leaves
    for LATER and those rendered afresh are not read."""
    later = context.get(LATER) or {}
    wanted = [(name, _named(context, name)) for name in names if name not in later]
    fragments.read_ahead(context, [(PARTS[name][0], named) for name, named in wanted if named is not None])
    return ""
