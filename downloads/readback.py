"""Sending one download-record write and, when its answer is unclear, finding out what happened.

An unclear answer is a timeout, a dropped connection, a 5xx or an unreadable body after the request
went out: the upstream may have saved the change. It is never reported as "failed": a PATCH is checked
by reading the record again, a DELETE by a 404 (later, or on a retry after the first one went through),
a create by looking for the record it sent (same order, product, file and values, created since the
attempt, and not already another entry's record). The outcome is then verified — saved, or not saved —
or, when the upstream cannot be read either, unknown (DownloadRecordOutcomeUnknown).

Each write function takes the open audit entry and notes on it that the write was sent and how the
outcome was verified; the caller closes the entry. `patch_check` is the edit's read-back on its own: a
bulk fix (jobs.actions) asks it too when it finds an item its stopped worker had sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import CHECKED_AT_THE_API, OpenEntry, download_ids_recorded
from downloads import records
from downloads.history import note_seen
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import errors, types

# Unclear answers: the request may have reached the upstream and been carried out.
UNCLEAR = (errors.Unavailable, errors.BadResponse)
# How far before the attempt a found record's date_created may be (the two clocks differ a little, and
# the API keeps whole seconds).
CLOCK_SLACK = timedelta(minutes=2)
# How many of the order's newest records the look-up for a lost create reads (one call).
LOOKUP_LIMIT = 100
# How a delete's outcome was read back, kept in English on its entry and translated where the log shows it
# (audit/_outcome.html translates an entry's `verified`).
VERIFIED_ANSWERED_404 = gettext_noop("checked at the API: it answered 404, the record is gone")
VERIFIED_GONE = gettext_noop("checked at the API: the record is gone")


class DownloadRecordOutcomeUnknown(errors.OutcomeUnknown):
    """The write was sent, its answer was unclear and the upstream could not be read back either.

    `download_id` (an edit or delete) or `order_number` (a create) name what to check.
    """

    outcome_unknown = True

    def __init__(
        self, user_message: str, *, download_id: str = "", order_number: int | None = None, api: str = ""
    ) -> None:
        super().__init__(user_message, api=api)
        self.download_id = download_id
        self.order_number = order_number


def _not_done(failure: errors.ApiError, sentence: str) -> errors.ApiError:
    """A verified failure: the change is not at the API, so the same form may simply be sent again."""
    return errors.Unavailable(f"{failure.user_message} {sentence}", status=failure.status, api=failure.api)


class PatchCheck(NamedTuple):
    """A record read again after a PATCH whose answer never came: `saved` (it holds the changes),
    `not_saved` (it still holds the values they replace), or neither (someone else changed it, or it
    cannot be told)."""

    record: types.DownloadRecord
    saved: bool
    not_saved: bool


def patch_check(download_id: str, *, changes: dict[str, Any], before: dict[str, Any]) -> PatchCheck:
    """What a PATCH of `changes` over `before` did, read at the API: the one read-back of a record's
    edit, for a person's write whose answer was unclear and for a bulk fix's item whose worker stopped.
    Raises NotFound (the record is gone) and the API's errors (it cannot be read)."""
    now = downloads_api.record_get(download_id=download_id, fresh=True).value
    saved = records.holds(now, changes)
    return PatchCheck(now, saved=saved, not_saved=not saved and records.holds(now, before))


def patch(
    audit: OpenEntry, download_id: str, *, changes: dict[str, Any], current: types.DownloadRecord
) -> tuple[types.DownloadRecord, bool]:
    """PATCH `changes` onto the record (`current` is how it was just read). Returns (record, checked).
    The count it leaves is noted in the counts' history (a write: a lowered count is no download)."""
    record, checked = _patched(audit, download_id, changes=changes, current=current)
    note_seen([record], seen_at=timezone.now(), source="write")
    return record, checked


def _patched(
    audit: OpenEntry, download_id: str, *, changes: dict[str, Any], current: types.DownloadRecord
) -> tuple[types.DownloadRecord, bool]:
    audit.sent = True
    try:
        return downloads_api.record_update(download_id=download_id, fields=changes), False
    except UNCLEAR as unclear:
        failure: errors.ApiError = unclear
    try:
        check = patch_check(
            download_id, changes=changes, before={name: getattr(current, name) for name in changes}
        )
    except errors.NotFound:
        raise errors.NotFound(
            _("This record no longer exists at the downloads API: someone deleted it meanwhile."),
            status=404,
            api=failure.api,
        ) from failure
    except errors.ApiError as unreadable:
        raise DownloadRecordOutcomeUnknown(
            _(
                "The downloads API's answer was lost and the record could not be read back, so we cannot "
                "tell whether your change was saved. Open the record to check before trying again."
            ),
            download_id=download_id,
            api=failure.api,
        ) from unreadable
    if check.saved:
        audit.verified = CHECKED_AT_THE_API
        return check.record, True
    if check.not_saved:
        audit.verified = CHECKED_AT_THE_API
        raise _not_done(failure, _("Nothing was saved (checked at the API); you can try again.")) from failure
    raise DownloadRecordOutcomeUnknown(
        _(
            "The downloads API's answer was lost, and the record now holds other values than yours or the "
            "ones you started from, so we cannot tell what happened. Open the record to check."
        ),
        download_id=download_id,
        api=failure.api,
    ) from failure


def delete(audit: OpenEntry, download_id: str) -> bool:
    """DELETE the record, which was just read under the record's lock. Returns whether it was checked."""
    audit.sent = True
    try:
        downloads_api.record_delete(download_id=download_id)
        return False
    except errors.NotFound:
        # It existed a moment ago under our lock: this 404 answers a retry of our own DELETE (the first
        # went through and its answer was lost), so the record is gone, as asked.
        audit.verified = VERIFIED_ANSWERED_404
        return True
    except UNCLEAR as unclear:
        failure: errors.ApiError = unclear
    try:
        downloads_api.record_get(download_id=download_id, fresh=True)
    except errors.NotFound:
        audit.verified = VERIFIED_GONE
        return True
    except errors.ApiError as unreadable:
        raise DownloadRecordOutcomeUnknown(
            _(
                "The downloads API's answer was lost and the record could not be read back, so we cannot "
                "tell whether it was deleted. Open the record to check before trying again."
            ),
            download_id=download_id,
            api=failure.api,
        ) from unreadable
    audit.verified = CHECKED_AT_THE_API
    still_there = _("The record is still there (checked at the API); you can try again.")
    raise _not_done(failure, still_there) from failure


def _recent(record: types.DownloadRecord, since: datetime) -> bool:
    created = record.date_created
    return created is None or created >= since - CLOCK_SLACK


def create(
    audit: OpenEntry, *, payload: dict[str, Any], created_by: tuple[str, ...]
) -> tuple[types.DownloadRecord, bool]:
    """POST the record once (never repeated). Returns (record, checked). `created_by`: the audit
    actions whose entries name the records this dashboard created (a record one of them names is not
    the one this attempt may have made)."""
    started = datetime.now().astimezone()
    order_number = records.order_number_of(payload.get("order_id"))
    audit.sent = True
    try:
        return downloads_api.record_create(fields=payload), False
    except UNCLEAR as unclear:
        failure: errors.ApiError = unclear
    sentence = (
        _(
            "The downloads API did not answer clearly and the order's records could not be read back, so "
            "we cannot tell whether the record was created. Look at order %(number)s's download records "
            "before creating it again."
        )
        % {"number": order_number}
        if order_number
        else _(
            "The downloads API did not answer clearly and the order's records could not be read back, so "
            "we cannot tell whether the record was created."
        )
    )
    unknown = DownloadRecordOutcomeUnknown(
        sentence,
        order_number=order_number,
        api=failure.api,
    )
    if order_number is None:
        raise unknown from failure
    try:
        newest = downloads_api.record_list(
            page=1, per_page=LOOKUP_LIMIT, sortby="date_created", sortdir="DESC", search=str(order_number)
        ).value.items
    except errors.ApiError as unreadable:
        raise unknown from unreadable
    candidates = [record for record in newest if records.holds(record, payload)]
    ours = download_ids_recorded(
        download_ids=[record.download_id for record in candidates], actions=created_by
    )
    others = [record for record in candidates if record.download_id not in ours]
    found = [record for record in others if _recent(record, started)]
    if not found and others:
        # An identical record no entry of ours made, dated before this attempt: an earlier one made
        # elsewhere, or ours under a clock that differs. Saying "not created" could make a duplicate.
        raise unknown from failure
    audit.verified = CHECKED_AT_THE_API
    if not found:
        raise _not_done(failure, _("No record was created (checked at the API); you can send it again."))
    earliest = min(found, key=lambda record: (record.date_created is None, record.date_created or started))
    return earliest, True
