"""What the orders views share: URLs for a service's typed answers, the order page with whatever an
action adds to it, and the links a flash message carries to the audit trail."""

import functools
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.template import RequestContext, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from audit.services import Actor
from audit.undo import undo_state
from fileflare_admin import kept_pages, readahead
from fileflare_admin.api.errors import ApiError, NotFound
from fileflare_admin.htmx import StaffRequest, page_or_partial, varied, wants_partial
from fileflare_admin.submissions import new_submission_token
from orders import services
from orders.complaints import LABELS, Complaint
from orders.forms import CustomerLinkForm, ResendForm
from orders.identity import indexed_number_and_link, order_number_and_link
from orders.models import ReplyTemplate
from orders.reply_text import Situation, reply_languages
from orders.search import Target
from orders.templatetags.order_page import LATER
from staff import roles

NO_SUCH_ORDER = gettext_lazy("No order with that ID in this shop.")


def not_found(request: StaffRequest, sentence: str | Promise) -> HttpResponse:
    return render(request, "404.html", {"reason": sentence}, status=404)


def target_url(target: Target, *, complaint: Complaint | None = None) -> str:
    """Where a search leads; an order page carries what the ticket complains about (`?complaint=`)."""
    if target.kind == "customer":
        url = reverse("orders:customer", kwargs={"token": target.key})
        return f"{url}?{urlencode({'link': target.link})}" if target.link else url
    url = reverse("orders:detail", kwargs={"order_id": target.key})
    return f"{url}?{urlencode({'complaint': complaint})}" if complaint else url


def order_url(order_id: str, *, anchor: str = "") -> str:
    url = reverse("orders:detail", kwargs={"order_id": order_id})
    return f"{url}#{anchor}" if anchor else url


def audit_entry_url(entry: AuditEntry) -> str:
    """The entry in the audit log (its row, among the order's entries when it names one)."""
    query = f"?{urlencode({'order_number': entry.order_number})}" if entry.order_number else ""
    return f"{reverse('audit:list')}{query}#entry-{entry.pk}"


def audit_links(entries: list[AuditEntry], *, viewer: Actor) -> SafeString:
    """" Audit entry #12 · Undo" for a flash message: where the change is recorded, and its undo as the
    audit log offers it to `viewer` (the button's word when they may press it, else the log's note)."""
    links = []
    for entry in entries:
        label = _("Audit entry #%(number)s") % {"number": entry.pk}
        link = format_html(' <a href="{}">{}</a>', audit_entry_url(entry), label)
        undo = undo_state(actor=viewer, entry=entry)
        if undo.offered:
            url = reverse("audit:undo", args=[entry.pk])
            link = format_html('{} · <a href="{}">{}</a>', link, url, undo.button)
        elif undo.note:
            link = format_html("{} ({})", link, undo.note)
        links.append(link)
    return SafeString("".join(links))


# The session remembers the reply language support picked for each of the last orders they opened, so a
# fix, a resend or a reload of that order keeps writing to the customer in their language.
REPLY_LANGUAGES = "reply_languages"
REPLY_LANGUAGES_KEPT = 50


def reply_language_for(request: StaffRequest, order_id: str, picked: str | None) -> str | None:
    """The reply language for this order: the one just `picked` (remembered), else the one picked
    earlier in this session, else None (the person's own language)."""
    remembered: dict[str, str] = dict(request.session.get(REPLY_LANGUAGES) or {})
    if picked not in reply_languages():
        return remembered.get(order_id)
    if remembered.get(order_id) != picked:
        remembered.pop(order_id, None)
        remembered[order_id] = picked  # the newest last: the oldest go first
        request.session[REPLY_LANGUAGES] = dict(list(remembered.items())[-REPLY_LANGUAGES_KEPT:])
    return picked


# A cold page is rendered while its records are on their way (services.order_page's `meanwhile`): the
# whole page but the parts that show them (LATER_PARTS, and what the customer sees while that call is out
# too), each written as a marker (orders.templatetags.order_page.LATER). Once the records are in, those
# parts alone are rendered, with the page's whole context, and put in place of their markers: the page is
# what one render would have made, and only that much of it waits for the slower call (issue 28).
LATER_PARTS = ("diagnosis", "support_reply", "records")
_SEPARATOR = f"<!--later-part-{secrets.token_hex(16)}-->"  # never in a page: a random text of this process


@functools.cache
def _later_template(names: tuple[str, ...]) -> Template:
    """The parts `names`, one after another between separators (the project's one template engine)."""
    listed = " ".join(f'"{name}"' for name in names)
    parts = _SEPARATOR.join(f'{{% order_part "{name}" %}}' for name in names)
    return Template(f"{{% load order_page %}}{{% read_ahead_parts {listed} %}}{parts}")


def _later_parts(page: services.OrderPage) -> dict[str, str]:
    """The parts a render while the records are on their way leaves for later, each with its marker."""
    names = (*LATER_PARTS, "customer") if page.token else LATER_PARTS
    return {name: f"<!--later-{name}-{secrets.token_hex(8)}-->" for name in names}


def _filled(request: StaffRequest, frame: str, later: dict[str, str], context: dict[str, Any]) -> str:
    """The page rendered meanwhile (`frame`) with its later parts rendered now, in place of their markers."""
    names = tuple(later)
    rendered = _later_template(names).render(RequestContext(request, context)).split(_SEPARATOR)
    for name, html in zip(names, rendered, strict=True):
        frame = frame.replace(later[name], html, 1)
    return frame


# The order page's table shows an order's newest RECORDS_SHOWN download records (oldest first among them: a
# record just added is there) and says so when it has more, with the way to the records list (issue 28: a
# page's work grows with its data only up to its page size; 100 editable rows were 200 KB a load).
RECORDS_SHOWN = 50
PAGE = "orders/order_detail.html"


@readahead.scope()  # the cache reads the page's answers name, read ahead once (orders.services.order_page)
def order_page_response(
    request: StaffRequest,
    order_id: str,
    *,
    situation: Situation | None = None,
    complaint: Complaint | None = None,
    reply_language: str | None = None,
    partial: str | None = None,
    extra: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The order page (or `partial` of it for htmx), with what an action adds (its form, its error). The
    whole page is kept while it is what a render would make (fileflare_admin.kept_pages)."""
    # The whole page (not an htmx swap of one box), without what an action adds (its form, its error).
    whole = extra is None and request.method == "GET" and not wants_partial(request)
    language = reply_language_for(request, order_id, reply_language)

    def render_page(own: Mapping[str, str]) -> HttpResponse:
        indexed = indexed_number_and_link(order_id)  # kept (orders.identity): among the page's cache reads
        if indexed is None:
            # An order the index does not hold: its number and link come from the cache and the database
            # in ways no kept page could see change.
            kept_pages.unkept()
        known = indexed if indexed is not None else order_number_and_link(order_id)
        # Each load's own one-time token (the same form sends once): kept pages put it in on the way out.
        resend_form = ResendForm(initial={"submission": own["submission"]} if own else None)

        def context_of(page: services.OrderPage) -> dict[str, Any]:
            return {
                "page": page,
                "order": page.order,
                "records": (page.records.value or [])[-RECORDS_SHOWN:],
                "records_read": len(page.records.value or []),
                "record_limits": page.record_limits,
                "show_order": False,
                "timeline_entries": page.timeline,
                "row_next": order_url(order_id),
                "reply_choices": ReplyTemplate.Situation.choices,
                "reply_languages": settings.LANGUAGES,
                "resend_form": resend_form,
                "complaint_label": LABELS[complaint] if complaint else "",  # the chip: "Ticket says: …"
                "link_form": CustomerLinkForm(),
                **(extra or {}),
                **{name: own[name] for name in ("csrf_token", "csp_nonce") if name in own},
            }

        frame: dict[str, Any] = {}

        def meanwhile(ahead: services.OrderPage) -> None:
            """The whole page but its later parts, rendered while the records are on their way."""
            later = _later_parts(ahead)
            context = {**context_of(ahead), LATER: later}
            frame.update(later=later, html=render_to_string(PAGE, context, request))

        try:
            page = services.order_page(
                order_id=order_id,
                user=request.user,
                situation=situation,
                complaint=complaint,
                reply_language=language,
                known=known,
                meanwhile=meanwhile if whole else None,
            )
        except NotFound:
            return not_found(request, NO_SUCH_ORDER)
        except ApiError as error:
            return render(
                request, "orders/order_unavailable.html", {"error": error.user_message, "order_id": order_id}
            )
        context = context_of(page)
        if frame:
            html = _filled(request, frame["html"], frame["later"], context)
            return varied(HttpResponse(html, status=status))
        return page_or_partial(
            request, page=PAGE, partial=partial or PAGE, context=context, status=status
        )

    if not whole:
        return render_page({})
    # Everything the page is made from besides its shared-cache reads (its order's number and link too:
    # orders.identity keeps them), the viewer and the code.
    name = ("order page", order_id, situation, complaint, language)
    return kept_pages.serve(
        request,
        name,
        render_page,
        may=roles.permissions_for(request.user),
        own={"submission": new_submission_token},
    )
