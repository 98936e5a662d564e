"""The support reply: which one fits the diagnosis and what staff just did (reply_situation), the
default wording of each (a shop may edit it: orders.replies), and filling one in (support_reply).

Pure functions of what the APIs answered and the order's audit trail: unit-tested without the sandbox.
"""

import re
from dataclasses import dataclass
from typing import Literal

from fileflare_admin.api import types
from fileflare_admin.weblinks import is_http_url
from orders.diagnosis import Finding

Situation = Literal[
    "ready", "downloads_reset", "files_attached", "email_resent", "blocked", "need_status_link"
]

REPLY_PLACEHOLDERS: dict[str, str] = {
    "order_number": "the order number, e.g. 1050",
    "files": "one line per file: its name, its link when it has one, and the downloads left",
    "status_page_line": "a sentence with the customer's order-status link when it is known",
    "fixed_files": "the files whose downloads were just reset",
    "attached_files": "the files just attached to the order",
}
DEFAULT_REPLIES: dict[Situation, str] = {
    "ready": (
        "Hello,\n\nHere are the files for your order #{order_number}:\n{files}\n\n"
        "{status_page_line}\n\nBest regards"
    ),
    "downloads_reset": (
        "Hello,\n\nI've reset your downloads for {fixed_files}, so you can download again. Here are the "
        "files for your order #{order_number}:\n{files}\n\n{status_page_line}\n\nBest regards"
    ),
    "files_attached": (
        "Hello,\n\nI've added {attached_files} to your order #{order_number}. Here are your files:\n"
        "{files}\n\n{status_page_line}\n\nBest regards"
    ),
    "email_resent": (
        "Hello,\n\nI've sent the download e-mail for your order #{order_number} again: please look in "
        "your inbox and your spam folder. Your files:\n{files}\n\n{status_page_line}\n\nBest regards"
    ),
    "blocked": (
        "Hello,\n\nThank you for writing about your order #{order_number}. Something on our side is "
        "stopping your download right now; we are fixing it and will write again as soon as you can "
        "download your files.\n\nBest regards"
    ),
    "need_status_link": (
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


def unknown_placeholders(body: str) -> list[str]:
    """The {names} in a reply template that the reply cannot fill."""
    return [name for name in _PLACEHOLDER.findall(body) if name not in REPLY_PLACEHOLDERS]


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
            left = " (no download limit)"
        elif limits.remaining:
            left = f" ({limits.remaining} download{'s' if limits.remaining != 1 else ''} left)"
        else:
            left = " (download limit reached: we are looking into it)"
    return f"- {asset.filename}{link}{left}"


def _names(names: tuple[str, ...]) -> str:
    quoted = [f"“{name}”" for name in dict.fromkeys(names)]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" and {quoted[-1]}"


def support_reply(
    *,
    order: types.Order,
    customer: types.CustomerView | None,
    status_link: str = "",
    recent: RecentChanges | None = None,
    template: str | None = None,
    situation: Situation = "ready",
) -> str:
    """The reply support pastes into the ticket: `template` (the shop's wording of `situation`) filled
    in. A used-up file is never offered as good news, and the order-status link is in it when known."""
    recent = recent or RecentChanges()
    items: list[tuple[types.Asset, types.AssetLimit | None]]
    if customer is not None:
        items = [(item.asset, item.limits) for item in customer.all_assets]
    else:
        items = [(asset, None) for asset in order.assets]
    files = "\n".join(_file_line(asset, limits) for asset, limits in items)
    if status_link:
        status_page_line = f"You can download them at any time from your order page: {status_link}"
    else:
        status_page_line = "You can also download them at any time from your order page in the shop."
    values = {
        "order_number": str(order.order_number),
        "files": files or "- (no files are attached yet: we are looking into it)",
        "status_page_line": status_page_line,
        "fixed_files": _names(recent.fixed_files) if recent.fixed_files else "your files",
        "attached_files": _names(recent.attached_files) if recent.attached_files else "your files",
    }
    body = template if template is not None else DEFAULT_REPLIES[situation]
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), body).strip()
