"""The support reply: which one fits the diagnosis and what staff just did (reply_situation), the
default wording of each (a shop may edit it: orders.replies), and filling one in (support_reply).

A reply is written in the CUSTOMER's language, not the staff member's: `support_reply(language=…)` fills
it in inside `translation.override(language)`, so its own words, its numbers and its dates are the
customer's. Each default wording exists in every language of settings.LANGUAGES (the catalogues:
`default_reply`); a shop's own wording is kept per language (orders.replies).

Pure functions of what the APIs answered and the order's audit trail: unit-tested without the sandbox.
"""

import re
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from fileflare_admin.api import types
from fileflare_admin.numbers import grouped
from fileflare_admin.weblinks import is_http_url
from orders.diagnosis import Finding

Situation = Literal[
    "ready", "downloads_reset", "files_attached", "email_resent", "blocked", "need_status_link"
]

# What each {name} a reply may use stands for (the reply templates page shows it to staff).
REPLY_PLACEHOLDERS: dict[str, Promise] = {
    "order_number": gettext_lazy("the order number, e.g. 1050"),
    "order_date": gettext_lazy("the day the order was placed, in the reply's language"),
    "files": gettext_lazy("one line per file: its name, its link when it has one, and the downloads left"),
    "status_page_line": gettext_lazy("a sentence with the customer's order-status link when it is known"),
    "fixed_files": gettext_lazy("the files whose downloads were just reset"),
    "attached_files": gettext_lazy("the files just attached to the order"),
}
# Each reply's default wording, the msgid in English; `default_reply` gives it in a language. Its
# {placeholders} stay as they are in every translation (tests/unit/test_reply_languages.py checks).
DEFAULT_REPLIES: dict[Situation, Promise] = {
    "ready": gettext_lazy(
        "Hello,\n\nHere are the files for your order #{order_number}:\n{files}\n\n"
        "{status_page_line}\n\nBest regards"
    ),
    "downloads_reset": gettext_lazy(
        "Hello,\n\nI've reset your downloads for {fixed_files}, so you can download again. Here are the "
        "files for your order #{order_number}:\n{files}\n\n{status_page_line}\n\nBest regards"
    ),
    "files_attached": gettext_lazy(
        "Hello,\n\nI've added {attached_files} to your order #{order_number}. Here are your files:\n"
        "{files}\n\n{status_page_line}\n\nBest regards"
    ),
    "email_resent": gettext_lazy(
        "Hello,\n\nI've sent the download e-mail for your order #{order_number} again: please look in "
        "your inbox and your spam folder. Your files:\n{files}\n\n{status_page_line}\n\nBest regards"
    ),
    "blocked": gettext_lazy(
        "Hello,\n\nThank you for writing about your order #{order_number}. Something on our side is "
        "stopping your download right now; we are fixing it and will write again as soon as you can "
        "download your files.\n\nBest regards"
    ),
    "need_status_link": gettext_lazy(
        "Hello,\n\nThank you for writing about your order #{order_number}. To see how many downloads you "
        "have left, we need the link to your order's page: open your order from your account on our shop "
        "(or from your order confirmation e-mail) and send us the address shown at the top of your "
        "browser. It ends in a long code of letters and numbers. As soon as we have it, we'll get your "
        "downloads working again.\n\nBest regards"
    ),
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class RecentChanges:
    """What staff did on this order lately (from its audit trail), so the reply can say so."""

    fixed_files: tuple[str, ...] = ()
    attached_files: tuple[str, ...] = ()
    resent: bool = False


def reply_languages() -> list[str]:
    """The languages a reply can be written in: the dashboard's (settings.LANGUAGES), in its order."""
    return [code for code, _name in settings.LANGUAGES]


def reply_language(value: str | None, *, default: str | None = None) -> str:
    """A language code a reply can be written in: `value` when it is one ("fr", "fr-CA"), else `default`
    (the staff member's language), else the shop's (settings.LANGUAGE_CODE)."""
    for candidate in (value, default, settings.LANGUAGE_CODE):
        code = (candidate or "").split("-")[0].lower()
        if code in reply_languages():
            return code
    return reply_languages()[0]


def default_reply(situation: Situation, language: str) -> str:
    """The dashboard's own wording of this reply in `language`."""
    with translation.override(language):
        return str(DEFAULT_REPLIES[situation])


def unknown_placeholders(body: str) -> list[str]:
    """The {names} in a reply template that the reply cannot fill."""
    return [name for name in _PLACEHOLDER.findall(str(body)) if name not in REPLY_PLACEHOLDERS]


def reply_situation(*, findings: list[Finding], recent: RecentChanges) -> Situation:
    """Which reply fits: blocked while a problem remains, else what was just done, else ready. A limit
    the ticket complains of that nothing tells asks the customer for their order-status link."""
    if any(finding.severity == "bad" for finding in findings):
        return "blocked"
    if any(finding.topic == "limit" and finding.action == "paste_link" for finding in findings):
        return "need_status_link"
    if recent.fixed_files:
        return "downloads_reset"
    if recent.attached_files:
        return "files_attached"
    if recent.resent:
        return "email_resent"
    if any(finding.topic == "limit" and finding.fix is not None for finding in findings):
        return "blocked"  # the ticket's limit, whose downloads support is about to give back
    return "ready"


def _file_line(asset: types.Asset, limits: types.AssetLimit | None) -> str:
    link = f": {asset.url.strip()}" if asset.url and is_http_url(asset.url) else ""
    left = ""
    if limits is not None:
        if limits.limit is None:
            left = " " + _("(no download limit)")
        elif limits.remaining:
            left = " " + ngettext(
                "(%(count)s download left)", "(%(count)s downloads left)", limits.remaining
            ) % {"count": grouped(limits.remaining)}
        else:
            left = " " + _("(download limit reached: we are looking into it)")
    return f"- {asset.filename}{link}{left}"


def _names(names: tuple[str, ...]) -> str:
    quoted = [pgettext("a file's name quoted in a reply", "“%(name)s”") % {"name": name}
              for name in dict.fromkeys(names)]
    if len(quoted) == 1:
        return quoted[0]
    return _("%(names)s and %(last)s") % {"names": ", ".join(quoted[:-1]), "last": quoted[-1]}


def support_reply(
    *,
    order: types.Order,
    customer: types.CustomerView | None,
    status_link: str = "",
    recent: RecentChanges | None = None,
    template: str | None = None,
    situation: Situation = "ready",
    language: str | None = None,
) -> str:
    """The reply support pastes into the ticket: `template` (the shop's wording of `situation`, in
    `language`) filled in, its sentences, numbers and dates in `language` (the customer's; None: the
    active one). A used-up file is never offered as good news, and the order-status link is in it when
    known."""
    with translation.override(language) if language else nullcontext():
        return _filled(order=order, customer=customer, status_link=status_link, recent=recent,
                       body=template if template is not None else str(DEFAULT_REPLIES[situation]))


def _filled(
    *,
    order: types.Order,
    customer: types.CustomerView | None,
    status_link: str,
    recent: RecentChanges | None,
    body: str,
) -> str:
    recent = recent or RecentChanges()
    items: list[tuple[types.Asset, types.AssetLimit | None]]
    if customer is not None:
        items = [(item.asset, item.limits) for item in customer.all_assets]
    else:
        items = [(asset, None) for asset in order.assets]
    files = "\n".join(_file_line(asset, limits) for asset, limits in items)
    if status_link:
        status_page_line = _("You can download them at any time from your order page: %(link)s") % {
            "link": status_link
        }
    else:
        status_page_line = _("You can also download them at any time from your order page in the shop.")
    ordered = timezone.localtime(order.ordered_at) if order.ordered_at else None
    values = {
        "order_number": str(order.order_number),  # an ID: as the shop writes it, never grouped
        "order_date": date_format(ordered) if ordered else "",
        "files": files or "- " + _("(no files are attached yet: we are looking into it)"),
        "status_page_line": status_page_line,
        "fixed_files": _names(recent.fixed_files) if recent.fixed_files else _("your files"),
        "attached_files": _names(recent.attached_files) if recent.attached_files else _("your files"),
    }
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), body).strip()
