"""Fixing a used-up file from the order page, and saying what the customer sees afterwards.

The fix lowers this order's download records for the file through the downloads services (each change
audited ahead, locked per record, checked against the count the person saw, and undoable from the
audit log), within the person's role step. Then the customer's page is read again, past the cache: the
dashboard says what the customer now sees, or that their count did not move — their limit is then kept
by Fileflare itself (a real Fileflare does not count these records), which only its app can raise.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from downloads.edits import download_record_count_set
from downloads.limits import limits_learn
from downloads.reads import download_records_for_order
from fileflare_admin.api import fileflare, types
from fileflare_admin.api.errors import ApiError
from fileflare_admin.counts import count_lowered
from fileflare_admin.filenames import same_file
from fileflare_admin.sentences import UserFacingError
from orders.links import customer_view_fresh
from orders.models import KnownCustomerToken
from orders.services import fileflare_app_order_url
from staff import roles


class NothingToFix(UserFacingError):
    default_message = gettext_lazy(
        "None of this order's download records for that file shows downloads any more, so there is "
        "nothing to lower. Reload the order to see it as it is now."
    )


@dataclass
class CountFixResult:
    """What the fix did (the records as written, one audit entry each) and what the customer now sees."""

    order: types.Order
    filename: str
    written: list[types.DownloadRecord] = field(default_factory=list)
    entries: list[AuditEntry] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one sentence per record that was not changed
    checked: bool = False  # an answer was unclear and the outcome was read back from the API
    before: types.AssetLimit | None = None
    now: types.AssetLimit | None = None  # None: the customer's page is not known or could not be read
    read_error: str = ""
    fileflare_app_url: str = ""

    @property
    def moved(self) -> bool | None:
        if self.before is None or self.now is None:
            return None
        return self.now.downloaded != self.before.downloaded

    @property
    def can_download(self) -> bool | None:
        if self.now is None:
            return None
        return self.now.limit is None or self.now.downloaded < self.now.limit


def _limits_of(view: types.CustomerView, filename: str) -> types.AssetLimit | None:
    found = [item.limits for item in view.all_assets if same_file(item.asset.filename, filename)]
    if not found:
        return None
    unlimited = any(limits.limit is None for limits in found)
    return types.AssetLimit(
        downloaded=sum(limits.downloaded for limits in found),
        limit=None if unlimited else sum(limits.limit or 0 for limits in found),
    )


def order_count_fix(
    *, actor: roles.AnyUser, order_id: str, filename: str, seen: dict[str, int], reason: str
) -> CountFixResult:
    """Lower this order's records for `filename` from the counts the person saw (`seen`: download ID →
    count), each by at most their role's step (to 0 for a Merchant), then read the customer's page
    again. Records that are not this order's, or not this file's, are left alone."""
    order = fileflare.order_get(order_id=order_id).value
    number = order.order_number
    result = CountFixResult(order=order, filename=filename, fileflare_app_url=fileflare_app_order_url(order))
    token = KnownCustomerToken.token_for(number)
    if token:
        try:
            shown = fileflare.customer_view_get(token=token)
            limits_learn(view=shown.value, seen_at=shown.fetched_at)
            result.before = _limits_of(shown.value, filename)
        except ApiError:
            result.before = None
    mine = {
        record.download_id
        for record in download_records_for_order(order_number=number).value
        if same_file(record.download_file_name, filename)
    }
    step = roles.permissions_for(actor).max_count_step
    targets = {
        download_id: (count, count_lowered(count, by=step))
        for download_id, count in seen.items()
        if download_id in mine and count > 0
    }
    if not targets:
        raise NothingToFix()
    for download_id, (count, target) in targets.items():
        try:
            write = download_record_count_set(
                actor=actor,
                download_id=download_id,
                count=target,
                expected=count,
                reason=reason,
                order_number=number,
            )
        except UserFacingError as failed:  # a refusal, a conflict, an upstream failure: the others go on
            result.failures.append(
                _("Record %(record)s…: %(why)s") % {"record": download_id[:14], "why": failed.user_message}
            )
            continue
        if write.record is not None:
            result.written.append(write.record)
        if write.entry is not None:
            result.entries.append(write.entry)
        result.checked = result.checked or write.checked
    if token and result.written:
        try:
            result.now = _limits_of(customer_view_fresh(token).value, filename)
        except ApiError as failed:
            result.read_error = failed.user_message
    return result
