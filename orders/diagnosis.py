"""Why a customer cannot download, and what to tell them: pure functions of what the APIs answered."""

from dataclasses import dataclass
from typing import Literal

from fileflare_admin.api import types
from fileflare_admin.weblinks import is_http_url


@dataclass(frozen=True)
class Finding:
    """One reason a customer may not be able to download, and what fixes it."""

    severity: Literal["bad", "warn", "ok"]
    text: str
    action: str = ""  # "resend" when the resend button fixes it


def diagnose(
    *, order: types.Order, customer: types.CustomerView | None, customer_known: bool
) -> list[Finding]:
    """Why this customer may not be able to download, from what the APIs tell."""
    findings: list[Finding] = []
    if order.email_sent_at is None:
        findings.append(
            Finding("bad", "The download e-mail was never sent to this customer.", action="resend")
        )
    assets: list[types.Asset] = list(order.assets)
    if customer is not None:
        assets += [item.asset for item in customer.all_assets]
        if not customer.all_assets:
            findings.append(
                Finding(
                    "bad",
                    "No files are attached to this order or its products, so the customer "
                    "has nothing to download. Attach files to the product in Fileflare.",
                )
            )
        for line in customer.lines:
            if not line.assets:
                name = line.product.name + (
                    f" — {line.product.variant_name}" if line.product.variant_name else ""
                )
                findings.append(Finding("warn", f"“{name}” has no files attached."))
        for item in customer.all_assets:
            limits = item.limits
            if limits.over_limit or limits.at_limit:
                findings.append(
                    Finding(
                        "bad",
                        f"“{item.asset.filename}” has used {limits.downloaded} of {limits.limit} downloads. "
                        "Raise the limit in Fileflare (order page → Override global limitations).",
                    )
                )
    elif not order.assets:
        findings.append(
            Finding(
                "warn",
                "No files are attached to the order itself; files may come through its "
                "products. Paste the customer's order-status link into the search box to "
                "see exactly what they see.",
            )
        )
    for asset in assets:
        if asset.is_link and not is_http_url(asset.url):
            findings.append(
                Finding(
                    "bad",
                    f"“{asset.filename}” is a link whose address is not a web address, so "
                    "it cannot be downloaded. Fix the link in Fileflare.",
                )
            )
    if customer is None and not customer_known:
        findings.append(
            Finding(
                "warn",
                "Download counts are unknown: paste the customer's order-status link into "
                "the search box to see them.",
            )
        )
    if not findings:
        findings.append(Finding("ok", "Nothing the APIs tell us stops this customer from downloading."))
    return findings


def support_reply(*, order: types.Order, customer: types.CustomerView | None) -> str:
    """A short reply support can paste into the ticket."""
    lines = [f"Hello, here are the files for your order #{order.order_number}:", ""]
    items: list[tuple[types.Asset, types.AssetLimit | None]] = []
    if customer is not None:
        items = [(item.asset, item.limits) for item in customer.all_assets]
    else:
        items = [(asset, None) for asset in order.assets]
    for asset, limits in items:
        link = f": {asset.url}" if asset.url and is_http_url(asset.url) else ""
        used = ""
        if limits is not None:
            used = (
                f" ({limits.downloaded} of {limits.limit} downloads used)"
                if limits.limit is not None
                else f" ({limits.downloaded} downloads used, no limit)"
            )
        lines.append(f"- {asset.filename}{link}{used}")
    if not items:
        lines.append("- (no files are attached yet; we are looking into it)")
    lines += ["", "You can also download them from your order-status page in the shop at any time."]
    return "\n".join(lines)
