"""Why a customer cannot download and what fixes each reason (what to tell them: orders.reply_text).

Pure functions of what the APIs answered (no request, no database): unit-tested without the sandbox.
The findings are written in the active language (the staff member's: they read them), made when the
page is built, never stored.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from downloads import derived
from downloads.limits import KnownLimit
from fileflare_admin.api import types
from fileflare_admin.counts import count_lowered
from fileflare_admin.filenames import file_key, same_file
from fileflare_admin.numbers import grouped
from fileflare_admin.weblinks import is_http_url
from orders.complaints import Complaint  # what a ticket complains of (`?complaint=`): its findings lead

FindingAction = Literal["", "resend", "attach", "paste_link", "count_fix", "fileflare"]

# Where a finding's numbers come from, as its evidence names them ("From …, read …: …").
ORDER_API = gettext_lazy("Fileflare's order API (v1)")
CUSTOMER_PAGE = gettext_lazy("the customer's page (Fileflare v2)")
RECORDS_API = gettext_lazy("the downloads API")


@dataclass(frozen=True)
class Evidence:
    """The numbers behind a finding and where they came from: `source` (which API, which page), when it
    was read (`at`, None when not known) and what it said (`facts`)."""

    source: str
    facts: str
    at: datetime | None = None
    verb: Literal["read", "seen"] = "read"  # "read" an answer; a learned limit was "seen" (the page says it)


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
            return _("Reset to 0")
        return ngettext(
            "Give %(count)s more download", "Give %(count)s more downloads", self.gives
        ) % {"count": grouped(self.gives)}

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
    records: Sequence[types.DownloadRecord],
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
        facts = _("no record of this order names “%(file)s”") % {"file": filename}
    else:
        listed = " + ".join(grouped(count) for count in counts)
        listed += f" = {grouped(sum(counts))}" if len(counts) > 1 else ""
        facts = ngettext(
            "%(count)s record of this order for “%(file)s”, count %(counts)s",
            "%(count)s records of this order for “%(file)s”, count %(counts)s",
            len(counts),
        ) % {"count": grouped(len(counts)), "file": filename, "counts": listed}
    return (Evidence(str(RECORDS_API), facts, read_at.records),)


def _cannot_lower(filename: str, records: Sequence[types.DownloadRecord], max_count_step: int | None) -> str:
    if max_count_step == 0:
        return _("your account has no role that may change download counts")
    if any(same_file(record.download_file_name, filename) for record in records):
        return _("this order's download records for it already show 0, so the limit is kept by Fileflare")
    return _("no download record of this order names the file")


def _used_up(
    item: types.CustomerAsset,
    records: list[types.DownloadRecord] | None,
    max_count_step: int | None,
    read_at: ReadAt,
) -> Finding:
    limits = item.limits
    numbers = {
        "file": item.asset.filename,
        "used": grouped(limits.downloaded),
        "limit": grouped(limits.limit) if limits.limit is not None else "",
    }
    evidence = (
        Evidence(
            str(CUSTOMER_PAGE),
            _("“%(file)s”: downloaded %(used)s, limit %(limit)s") % numbers,
            read_at.customer,
        ),
        *_records_evidence(item.asset.filename, records, read_at),
    )
    if records is None:
        return Finding(
            "bad",
            _(
                "“%(file)s” has used %(used)s of %(limit)s downloads. This order's download records could "
                "not be read, so the count cannot be lowered here right now: raise the limit in Fileflare, "
                "or reload in a moment."
            ) % numbers,
            action="fileflare",
            topic="limit",
            evidence=evidence,
        )
    fix = count_fix(item=item, records=records, max_count_step=max_count_step)
    if fix is not None:
        text = _(
            "“%(file)s” has used %(used)s of %(limit)s downloads: the customer cannot download it again."
        )
        return Finding("bad", text % numbers, action="count_fix", fix=fix, topic="limit", evidence=evidence)
    reason = _cannot_lower(item.asset.filename, records, max_count_step)
    text = _(
        "“%(file)s” has used %(used)s of %(limit)s downloads, and %(reason)s: raise the limit in Fileflare."
    )
    return Finding("bad", text % {**numbers, "reason": reason}, action="fileflare", topic="limit",
                   evidence=evidence)


def _limit_evidence(known: KnownLimit) -> Evidence:
    if known.limit is None:
        limit = _("no limit")
    elif known.learned and known.source != "shop_default":
        limit = _("limit %(limit)s (learned from another order: this order may override it)") % {
            "limit": grouped(known.limit)
        }
    else:
        limit = _("limit %(limit)s") % {"limit": grouped(known.limit)}
    if known.source == "shop_default":
        return Evidence(known.page(), limit)
    return Evidence(known.page(), limit, known.seen_at, verb="seen")


def _files_of(
    records: tuple[types.DownloadRecord, ...],
) -> tuple[tuple[str, str, tuple[types.DownloadRecord, ...], int], ...]:
    """The records grouped by file (filenames.file_key), in the order each file first appears: its key, its
    first record's name, its records and their counts' sum. Once per records answer (downloads.derived)."""
    files: dict[str, str] = {}
    of_file: dict[str, list[types.DownloadRecord]] = {}
    for record in records:
        key = file_key(record.download_file_name)
        files.setdefault(key, record.download_file_name)
        of_file.setdefault(key, []).append(record)
    return tuple(
        (key, name, tuple(of_file[key]), sum(record.download_count for record in of_file[key]))
        for key, name in files.items()
    )


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
    for key, filename, mine, total in derived.of_records("files", records, _files_of):
        known = known_limits.get(key)
        if known is None or not (known.reached(total) or complaint == "limit"):
            continue
        used = _(
            "“%(file)s”: this order's download records show %(used)s downloads used (%(source)s)"
        ) % {"file": filename, "used": known.used(total), "source": known.source_text(now)}
        learned = (
            " " + _("The limit is learned, not this customer's own: their order-status link shows theirs.")
            if known.learned else ""
        )
        evidence = (*_records_evidence(filename, records, read_at), _limit_evidence(known))
        fix = _records_fix(filename, total, known.limit, mine, max_count_step)
        if not known.reached(total):
            text = _(
                "%(used)s: by these records the limit is not reached. Fileflare may count on its own, or "
                "this order may have its own limit: the customer's order-status link shows what they see. "
                "Giving downloads back needs no link."
            ) % {"used": used}
            findings.append(Finding(
                "warn",
                text + learned,
                action="count_fix" if fix is not None else "",
                fix=fix,
                topic="limit",
                evidence=evidence,
            ))
        elif fix is not None:
            text = _("%(used)s, so the customer cannot download it again.") % {"used": used}
            findings.append(Finding("bad", text + learned, action="count_fix", fix=fix, topic="limit",
                                    evidence=evidence))
        else:
            reason = _cannot_lower(filename, mine, max_count_step)
            text = _("%(used)s, and %(reason)s: raise the limit in Fileflare.") % {
                "used": used, "reason": reason
            }
            findings.append(Finding("bad", text + learned, action="fileflare", topic="limit",
                                    evidence=evidence))
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
        never = _("The download e-mail was never sent to this customer.")
        empty = _("%(field)s is empty") % {"field": "email_sent_at"}  # the API's own field name
        findings.append(Finding("bad", never, action="resend", topic="no_email",
                                evidence=(Evidence(str(ORDER_API), empty, read_at.order),)))
    assets: list[types.Asset] = list(order.assets)
    if customer is not None:
        assets += [item.asset for item in customer.all_assets]
        if not customer.all_assets:
            findings.append(
                Finding(
                    "bad",
                    _(
                        "No files are attached to this order or its products, so the customer has nothing "
                        "to download. Attach a file to this order, or to the product in Fileflare."
                    ),
                    action="attach",
                    topic="missing_file",
                    evidence=(Evidence(str(CUSTOMER_PAGE), _lines_without_files(len(customer.lines)),
                                       read_at.customer),),
                )
            )
        for line in customer.lines:
            if not line.assets:
                bare = _("“%(product)s” has no files attached.") % {"product": _product_name(line.product)}
                none = Evidence(str(CUSTOMER_PAGE), _("0 files on this product line"), read_at.customer)
                findings.append(Finding("warn", bare, topic="missing_file", evidence=(none,)))
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
                    _(
                        "The ticket says the download limit is reached, but no limit is known for this "
                        "order's files: no customer's page showing them has been read and the shop sets no "
                        "default. Ask the customer for their order-status link (the reply below does), then "
                        "paste it under “%(section)s”."
                    ) % {"section": _("What the customer sees")},
                    action="paste_link",
                    topic="limit",
                    evidence=(*_records_evidence_all(records, read_at),),
                )
            )
        elif not customer_known:
            findings.append(
                Finding(
                    "warn",
                    _(
                        "Download counts, and the files that come through the order's products, are unknown "
                        "until the customer's order-status link is pasted under “%(section)s”."
                    ) % {"section": _("What the customer sees")},
                    action="paste_link",
                )
            )
    for asset in {asset.id: asset for asset in assets}.values():
        if asset.is_link and not is_http_url(asset.url):
            findings.append(
                Finding(
                    "bad",
                    _(
                        "“%(file)s” is a link whose address is not a web address, so it cannot be "
                        "downloaded. Fix the link in Fileflare."
                    ) % {"file": asset.filename},
                    action="fileflare",
                    topic="wrong_file",
                    evidence=(
                        Evidence(
                            str(ORDER_API), f"{_quoted(asset.filename)}: url {asset.url!r}", read_at.order
                        ),
                    ),
                )
            )
    if not findings:
        findings.append(Finding("ok", _("Nothing the APIs tell us stops this customer from downloading.")))
    if complaint:
        findings.sort(key=lambda finding: finding.topic != complaint)  # stable: the rest keep their order
    return findings


def _records_evidence_all(records: list[types.DownloadRecord] | None, read_at: ReadAt) -> list[Evidence]:
    if records is None:
        return []
    counts = ", ".join(
        f"{_quoted(record.download_file_name)} {grouped(record.download_count)}" for record in records
    )
    facts = _("this order's records: %(counts)s; no limit is known") % {"counts": counts or _("none")}
    return [Evidence(str(RECORDS_API), facts, read_at.records)]


def _quoted(name: str) -> str:
    """A file's name quoted as the staff member's language quotes it (“Book”, « Book »)."""
    return pgettext("a name quoted in a sentence", "“%(name)s”") % {"name": name}


def _lines_without_files(lines: int) -> str:
    return ngettext(
        "%(count)s product line, 0 files", "%(count)s product lines, 0 files", lines
    ) % {"count": grouped(lines)}
