"""Why a customer cannot download and what fixes each reason (what to tell them: orders.reply_text).

Pure functions of what the APIs answered (no request, no database): unit-tested without the sandbox.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from downloads.limits import KnownLimit
from fileflare_admin.api import types
from fileflare_admin.counts import count_lowered
from fileflare_admin.filenames import file_key, same_file
from fileflare_admin.weblinks import is_http_url
from orders.complaints import Complaint  # what a ticket complains of (`?complaint=`): its findings lead

FindingAction = Literal["", "resend", "attach", "paste_link", "count_fix", "fileflare"]

# Where a finding's numbers come from, as its evidence names them.
ORDER_API = "Fileflare's order API (v1)"
CUSTOMER_PAGE = "the customer's page (Fileflare v2)"
RECORDS_API = "the downloads API"


@dataclass(frozen=True)
class Evidence:
    """The numbers behind a finding and where they came from: `source` (which API, which page), when it
    was read (`at`, None when not known) and what it said (`facts`)."""

    source: str
    facts: str
    at: datetime | None = None
    verb: str = "read"  # "read" an answer; a learned limit was "seen"


@dataclass(frozen=True)
class ReadAt:
    """When each answer the diagnosis reads was fetched (None: not read, or not known)."""

    order: datetime | None = None
    customer: datetime | None = None
    records: datetime | None = None


@dataclass(frozen=True)
class CountFix:
    """Give a used-up file its downloads back by lowering the counts of this order's download records
    for it, each by no more than the person may move a count (`counts`: id, count now, count after)."""

    filename: str
    downloaded: int
    limit: int
    counts: tuple[tuple[str, int, int], ...]

    @property
    def gives(self) -> int:
        return sum(now - after for _id, now, after in self.counts)

    @property
    def resets(self) -> bool:
        return all(after == 0 for _id, _now, after in self.counts)

    @property
    def label(self) -> str:
        if self.resets:
            return "Reset to 0"
        return f"Give {self.gives} more download{'s' if self.gives != 1 else ''}"

    @property
    def customer_after(self) -> int:
        """What the customer's page should say once the records are lowered (when it counts them)."""
        return count_lowered(self.downloaded, by=self.gives)


@dataclass(frozen=True)
class Finding:
    """One reason a customer may not be able to download, and what fixes it.

    `action`: "resend" (the e-mail), "attach" (the file picker), "paste_link" (the customer's link),
    "count_fix" (`fix`), "fileflare" (only Fileflare's own app can fix it)."""

    severity: Literal["bad", "warn", "ok"]
    text: str
    action: FindingAction = ""
    fix: CountFix | None = None
    topic: Complaint | None = None  # the complaint it answers (it leads when the ticket says so)
    evidence: tuple[Evidence, ...] = field(default=())


def count_fix(
    *, item: types.CustomerAsset, records: list[types.DownloadRecord], max_count_step: int | None
) -> CountFix | None:
    """The one-click fix for a used-up file, within the person's step; None when lowering this order's
    records for the file gives nothing back (no record names it, they are at 0, or no role may)."""
    limits = item.limits
    return _records_fix(item.asset.filename, limits.downloaded, limits.limit, records, max_count_step)


def _records_fix(
    filename: str,
    downloaded: int,
    limit: int | None,
    records: list[types.DownloadRecord],
    max_count_step: int | None,
) -> CountFix | None:
    if limit is None or max_count_step == 0:
        return None
    counts = []
    for record in records:
        if not same_file(record.download_file_name, filename) or record.download_count == 0:
            continue
        after = count_lowered(record.download_count, by=max_count_step)
        counts.append((record.download_id, record.download_count, after))
    if not counts:
        return None
    return CountFix(filename, downloaded, limit, tuple(counts))


def _records_evidence(
    filename: str, records: list[types.DownloadRecord] | None, read_at: ReadAt
) -> tuple[Evidence, ...]:
    if records is None:
        return ()
    counts = [record.download_count for record in records if same_file(record.download_file_name, filename)]
    if not counts:
        facts = f"no record of this order names “{filename}”"
    else:
        listed = " + ".join(str(count) for count in counts)
        plural = "s" if len(counts) != 1 else ""
        facts = f"{len(counts)} record{plural} of this order for “{filename}”, count {listed}"
        facts += f" = {sum(counts)}" if len(counts) > 1 else ""
    return (Evidence(RECORDS_API, facts, read_at.records),)


def _cannot_lower(filename: str, records: list[types.DownloadRecord], max_count_step: int | None) -> str:
    if max_count_step == 0:
        return "your account has no role that may change download counts"
    if any(same_file(record.download_file_name, filename) for record in records):
        return "this order's download records for it already show 0, so the limit is kept by Fileflare"
    return "no download record of this order names the file"


def _used_up(
    item: types.CustomerAsset,
    records: list[types.DownloadRecord] | None,
    max_count_step: int | None,
    read_at: ReadAt,
) -> Finding:
    limits = item.limits
    used = f"“{item.asset.filename}” has used {limits.downloaded} of {limits.limit} downloads"
    evidence = (
        Evidence(
            CUSTOMER_PAGE,
            f"“{item.asset.filename}”: downloaded {limits.downloaded}, limit {limits.limit}",
            read_at.customer,
        ),
        *_records_evidence(item.asset.filename, records, read_at),
    )
    if records is None:
        return Finding(
            "bad",
            f"{used}. This order's download records could not be read, so the count cannot be lowered "
            "here right now: raise the limit in Fileflare, or reload in a moment.",
            action="fileflare",
            topic="limit",
            evidence=evidence,
        )
    fix = count_fix(item=item, records=records, max_count_step=max_count_step)
    if fix is not None:
        return Finding("bad", f"{used}: the customer cannot download it again.", action="count_fix", fix=fix,
                       topic="limit", evidence=evidence)
    reason = _cannot_lower(item.asset.filename, records, max_count_step)
    return Finding("bad", f"{used}, and {reason}: raise the limit in Fileflare.", action="fileflare",
                   topic="limit", evidence=evidence)


def _limit_evidence(known: KnownLimit) -> Evidence:
    limit = "no limit" if known.limit is None else f"limit {known.limit}"
    if known.source == "shop_default":
        return Evidence(known.page(), limit)
    if known.learned:
        limit += " (learned from another order: this order may override it)"
    return Evidence(known.page(), limit, known.seen_at, verb="seen")


def _records_at_limit(
    records: list[types.DownloadRecord],
    known_limits: Mapping[str, KnownLimit],
    max_count_step: int | None,
    read_at: ReadAt,
    now: datetime,
    complaint: Complaint | None = None,
) -> list[Finding]:
    """Without the customer's page: a file whose records' counts reach the limit known for it; when the
    ticket complains of the limit, every file with a known limit (what the records say, and the fix
    that gives downloads back, within the person's step)."""
    findings = []
    files: dict[str, str] = {}
    of_file: dict[str, list[types.DownloadRecord]] = {}  # grouped once (was a scan of all records a file)
    for record in records:
        key = file_key(record.download_file_name)
        files.setdefault(key, record.download_file_name)
        of_file.setdefault(key, []).append(record)
    for key, filename in files.items():
        known = known_limits.get(key)
        mine = of_file[key]
        total = sum(record.download_count for record in mine)
        if known is None or not (known.reached(total) or complaint == "limit"):
            continue
        used = (
            f"“{filename}”: this order's download records show {known.used(total)} downloads used "
            f"({known.source_text(now)})"
        )
        learned = (
            " The limit is learned, not this customer's own: their order-status link shows theirs."
            if known.learned else ""
        )
        evidence = (*_records_evidence(filename, records, read_at), _limit_evidence(known))
        fix = _records_fix(filename, total, known.limit, mine, max_count_step)
        if not known.reached(total):
            findings.append(Finding(
                "warn",
                f"{used}: by these records the limit is not reached. Fileflare may count on its own, or "
                "this order may have its own limit: the customer's order-status link shows what they see. "
                f"Giving downloads back needs no link.{learned}",
                action="count_fix" if fix is not None else "",
                fix=fix,
                topic="limit",
                evidence=evidence,
            ))
        elif fix is not None:
            findings.append(Finding("bad", f"{used}, so the customer cannot download it again.{learned}",
                                    action="count_fix", fix=fix, topic="limit", evidence=evidence))
        else:
            reason = _cannot_lower(filename, mine, max_count_step)
            findings.append(Finding("bad", f"{used}, and {reason}: raise the limit in Fileflare.{learned}",
                                    action="fileflare", topic="limit", evidence=evidence))
    return findings


def _product_name(product: types.Product) -> str:
    return product.name + (f" — {product.variant_name}" if product.variant_name else "")


def diagnose(
    *,
    order: types.Order,
    customer: types.CustomerView | None,
    customer_known: bool,
    records: list[types.DownloadRecord] | None = None,
    max_count_step: int | None = None,
    known_limits: Mapping[str, KnownLimit] | None = None,
    complaint: Complaint | None = None,
    read_at: ReadAt | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """Why this customer may not be able to download, from what the APIs tell, each with its fix and
    the numbers behind it (`read_at`: when each answer was read).

    `records`: the order's download records (None when they could not be read); `max_count_step`: how
    far the person may move a count (None: any amount, 0: not at all); `known_limits`: file key →
    the limit known without this customer's page (downloads.limits); `complaint`: what the ticket says,
    whose findings come first."""
    read_at = read_at or ReadAt()
    now = now or datetime.now(UTC)
    findings: list[Finding] = []
    if order.email_sent_at is None:
        never = "The download e-mail was never sent to this customer."
        findings.append(Finding("bad", never, action="resend", topic="no_email",
                                evidence=(Evidence(ORDER_API, "email_sent_at is empty", read_at.order),)))
    assets: list[types.Asset] = list(order.assets)
    if customer is not None:
        assets += [item.asset for item in customer.all_assets]
        if not customer.all_assets:
            findings.append(
                Finding(
                    "bad",
                    "No files are attached to this order or its products, so the customer has nothing "
                    "to download. Attach a file to this order, or to the product in Fileflare.",
                    action="attach",
                    topic="missing_file",
                    evidence=(Evidence(CUSTOMER_PAGE, f"{len(customer.lines)} product line(s), 0 files",
                                       read_at.customer),),
                )
            )
        for line in customer.lines:
            if not line.assets:
                findings.append(Finding("warn", f"“{_product_name(line.product)}” has no files attached.",
                                        topic="missing_file",
                                        evidence=(Evidence(CUSTOMER_PAGE, "0 files on this product line",
                                                           read_at.customer),)))
        for item in customer.all_assets:
            if item.limits.over_limit or item.limits.at_limit:
                findings.append(_used_up(item, records, max_count_step, read_at))
    else:
        at_limit = _records_at_limit(
            records or [], known_limits or {}, max_count_step, read_at, now, complaint
        )
        findings += at_limit
        limits_known = bool(records) and all(
            file_key(record.download_file_name) in (known_limits or {}) for record in records or []
        )
        if complaint == "limit" and not at_limit and not limits_known and not customer_known:
            findings.append(
                Finding(
                    "warn",
                    "The ticket says the download limit is reached, but no limit is known for this "
                    "order's files: no customer's page showing them has been read and the shop sets no "
                    "default. Ask the customer for their order-status link (the reply below does), then "
                    "paste it under “What the customer sees”.",
                    action="paste_link",
                    topic="limit",
                    evidence=(*_records_evidence_all(records, read_at),),
                )
            )
        elif not customer_known:
            findings.append(
                Finding(
                    "warn",
                    "Download counts, and the files that come through the order's products, are unknown "
                    "until the customer's order-status link is pasted under “What the customer sees”.",
                    action="paste_link",
                )
            )
    for asset in {asset.id: asset for asset in assets}.values():
        if asset.is_link and not is_http_url(asset.url):
            findings.append(
                Finding(
                    "bad",
                    f"“{asset.filename}” is a link whose address is not a web address, so it cannot be "
                    "downloaded. Fix the link in Fileflare.",
                    action="fileflare",
                    topic="wrong_file",
                    evidence=(Evidence(ORDER_API, f"“{asset.filename}”: url {asset.url!r}", read_at.order),),
                )
            )
    if not findings:
        findings.append(Finding("ok", "Nothing the APIs tell us stops this customer from downloading."))
    if complaint:
        findings.sort(key=lambda finding: finding.topic != complaint)  # stable: the rest keep their order
    return findings


def _records_evidence_all(records: list[types.DownloadRecord] | None, read_at: ReadAt) -> list[Evidence]:
    if records is None:
        return []
    counts = ", ".join(f"“{record.download_file_name}” {record.download_count}" for record in records)
    facts = f"this order's records: {counts or 'none'}; no limit is known"
    return [Evidence(RECORDS_API, facts, read_at.records)]
