"""Download records: what a person does with them, each write reading straight down.

Every write is audited ahead (audit.services.audited: the entry exists before anything is sent), checks
the person's role, and — for a record that exists — holds the record's lock in the shared cache while it
reads the record fresh, compares it with what the person saw, and writes. The downloads API has no
versions or ETags, so that lock is what makes "nobody silently overwrites a colleague" true across
workers and machines: of two fixes from the same starting value, the second reads the first's result
and is refused with EditConflict. An unclear answer is resolved by reading back (downloads.readback).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from audit.models import AuditEntry
from audit.services import OpenEntry, audited
from downloads import readback, records
from downloads.audit_actions import Action
from downloads.readback import DownloadRecordOutcomeUnknown
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import errors, types
from fileflare_admin.api.cache import shared_lock
from fileflare_admin.order_numbers import read_order_number
from fileflare_admin.sentences import UserFacingError
from fileflare_admin.submissions import submission_claim, submission_release
from staff import roles

PER_PAGE_CHOICES: tuple[int, ...] = (25, 50, 100)
# How many records of one order are fetched in the single call the order page makes.
ORDER_RECORDS_LIMIT = 100
CREATE_PURPOSE = "download_record_create"
# How long a contender waits for a colleague's write to the same record before being told to retry.
RECORD_LOCK_WAIT = 15.0


class EditConflict(UserFacingError):
    """The record changed at the API since the person loaded it; nothing was written.

    `current` is the record as it is now; `changed` names the fields that differ from what was
    loaded; `merge` (an edit) is what "Save mine anyway" would send beside the values now.
    """

    def __init__(
        self,
        user_message: str,
        *,
        current: types.DownloadRecord,
        changed: tuple[str, ...],
        merge: records.Merge | None = None,
    ) -> None:
        super().__init__(user_message)
        self.current = current
        self.changed = changed
        self.merge = merge


@dataclass(frozen=True)
class RecordWrite:
    """What a write did: the record as the API now holds it (None after a delete) and its entry."""

    record: types.DownloadRecord | None
    entry: AuditEntry | None  # None when nothing needed writing
    checked: bool = False  # the answer was unclear; the outcome was read back from the API


# --- Reads ---------------------------------------------------------------------------------------


def parse_sort(
    sort: str | None, *, allowed: frozenset[str] = records.SORTABLE_FIELDS
) -> tuple[str, str] | None:
    """`field` or `-field` as (sortby, sortdir); None for anything else."""
    if not sort:
        return None
    field, direction = (sort[1:], "DESC") if sort.startswith("-") else (sort, "ASC")
    return (field, direction) if field in allowed else None


def sortable_fields(user: roles.AnyUser) -> frozenset[str]:
    """What this person may sort by: never by a value they may not see."""
    if roles.allows(user, "see_amazon_key"):
        return records.SORTABLE_FIELDS
    return records.SORTABLE_FIELDS - {"amazon_key"}


def download_record_list(
    *, user: roles.AnyUser, q: str | None = None, sort: str | None = None, page: int = 1, per_page: int = 25
) -> types.Fetched[types.Page[types.DownloadRecord]]:
    """One page of records, searched and sorted by the API. An unknown sort is left out, never sent."""
    roles.require(user, "use_dashboard")
    sorting = parse_sort(sort, allowed=sortable_fields(user))
    return downloads_api.record_list(
        page=max(int(page), 1),
        per_page=min(max(int(per_page), 1), max(PER_PAGE_CHOICES)),
        sortby=sorting[0] if sorting else None,
        sortdir=sorting[1] if sorting else "ASC",
        search=(q or "").strip() or None,
    )


def order_number_query(q: str | None) -> int | None:
    """The order number a list search names ("#1050", "order:1050", "Order #1,050"): its records only,
    never ids that contain the digits. A bare number keeps the API's own search."""
    number = read_order_number(q)
    return number.value if number is not None and number.labelled and number.value > 0 else None


@dataclass(frozen=True)
class OrderRecords:
    """One order's records for the list: `complete` is False when the API had more matches for the
    number than one call reads (records of the order may then be missing)."""

    fetched: types.Fetched[types.Page[types.DownloadRecord]]
    order_number: int
    complete: bool


def download_record_list_of_order(
    *, user: roles.AnyUser, order_number: int, sort: str | None = None
) -> OrderRecords:
    """The records of one order only, sorted by the API, on one page.

    The API's search for a number matches the order number, the product ID and every download ID or
    file name holding those digits; only records whose order number equals it are kept.
    """
    roles.require(user, "use_dashboard")
    sorting = parse_sort(sort, allowed=sortable_fields(user))
    fetched = downloads_api.record_list(
        page=1,
        per_page=ORDER_RECORDS_LIMIT,
        sortby=sorting[0] if sorting else None,
        sortdir=sorting[1] if sorting else "ASC",
        search=str(order_number),
    )
    items = tuple(record for record in fetched.value.items if record.order_id == order_number)
    page = types.Page(items=items, page=1, per_page=ORDER_RECORDS_LIMIT, total=len(items), last_page=1)
    return OrderRecords(
        fetched=types.Fetched(value=page, fetched_at=fetched.fetched_at, stale=fetched.stale),
        order_number=order_number,
        complete=not fetched.value.has_next,
    )


def download_records_for_order(*, order_number: int) -> types.Fetched[list[types.DownloadRecord]]:
    """The records of one shop order, oldest first, in one upstream call.

    The API's search matches order_id exactly for a number, but also product_id, so the answer is
    filtered to the order.
    """
    fetched = downloads_api.record_list(
        page=1, per_page=ORDER_RECORDS_LIMIT, sortby="date_created", sortdir="ASC", search=str(order_number)
    )
    items = [record for record in fetched.value.items if record.order_id == order_number]
    return types.Fetched(value=items, fetched_at=fetched.fetched_at, stale=fetched.stale)


def download_record_get(*, download_id: str, fresh: bool = False) -> types.Fetched[types.DownloadRecord]:
    return downloads_api.record_get(download_id=download_id, fresh=fresh)


# --- Pieces every write shares -------------------------------------------------------------------


def _lock_seconds() -> float:
    """Longer than the slowest read-check-write can take (a fresh read, a write and a read-back, each
    with its retries), so the lock never lapses under a live write; a dead worker's lapses after it."""
    one_call = (settings.UPSTREAM_CONNECT_TIMEOUT + settings.UPSTREAM_READ_TIMEOUT) * (
        1 + max(settings.UPSTREAM_RETRIES, 0)
    )
    return 3 * one_call + 5


@contextmanager
def _record_lock(download_id: str) -> Iterator[None]:
    """Serialize read-check-write of one record across every worker and machine (the shared cache)."""
    with shared_lock(f"download_record:{download_id}", _lock_seconds(), wait=RECORD_LOCK_WAIT):
        yield


@contextmanager
def _refusal_names_its_order(audit: OpenEntry, download_id: str) -> Iterator[None]:
    """A refusal before the record was read still names its order in the trail (a cached read)."""
    try:
        yield
    except roles.NotAllowed:
        # When the upstream cannot say, the refusal stands and the order is simply not known.
        with suppress(errors.ApiError):
            if audit.order_number is None:
                audit.order_number = downloads_api.record_get(download_id=download_id).value.order_id
        raise


def _read_current(audit: OpenEntry, download_id: str) -> types.DownloadRecord:
    current = downloads_api.record_get(download_id=download_id, fresh=True).value
    audit.order_number = current.order_id
    audit.before = records.record_snapshot(current)
    return current



# --- Create --------------------------------------------------------------------------------------


def download_record_create_check(
    *, actor: roles.AnyUser, attempted: dict[str, Any], reason: str = ""
) -> None:
    """Refuse, in the trail with what was attempted, a person who may not create records."""
    if roles.allows(actor, "create"):
        return
    payload = records.writable(attempted)
    with audited(
        actor=actor,
        action=Action.DOWNLOAD_RECORD_CREATE,
        order_number=records.order_number_of(payload.get("order_id")),
        after=payload,
        reason=reason,
    ):
        roles.require(actor, "create")


def download_record_create(
    *,
    actor: roles.AnyUser,
    fields: dict[str, Any],
    reason: str = "",
    submission: str = "",
    action: str = Action.DOWNLOAD_RECORD_CREATE,
    undo_of: AuditEntry | None = None,
) -> RecordWrite:
    """Create a record, sent exactly once.

    `submission` is the form's one-time token: a second POST of the same form raises AlreadySubmitted
    and sends nothing. A restore (action DOWNLOAD_RECORD_RESTORE) passes a deleted record's snapshot;
    only its writable fields are sent. An unclear answer is resolved by looking for the record.
    """
    payload = records.writable(fields)
    claim = submission_claim(submission, purpose=CREATE_PURPOSE)
    try:
        with audited(
            actor=actor,
            action=action,
            order_number=records.order_number_of(payload.get("order_id")),
            after=payload,
            reason=reason,
            undo_of=undo_of,
        ) as audit:
            roles.require(actor, "create")
            created, checked = readback.create(audit, payload=payload)
            audit.download_id = created.download_id
            audit.order_number = created.order_id
            audit.after = records.record_snapshot(created)
    except DownloadRecordOutcomeUnknown:
        raise  # the token stays spent: sending the same form again could make a duplicate
    except BaseException:
        submission_release(claim)
        raise
    return RecordWrite(record=created, entry=audit.entry, checked=checked)


# --- Edit and count ------------------------------------------------------------------------------


def download_record_update(
    *,
    actor: roles.AnyUser,
    download_id: str,
    fields: dict[str, Any],
    loaded: dict[str, Any],
    reason: str = "",
) -> RecordWrite:
    """Save the fields that differ from `loaded` (the record as the person saw it), and only those.

    Raises EditConflict, writing nothing, when the record at the API no longer matches `loaded`.
    `loaded` is a `loaded_snapshot()` or a `record_snapshot()`.
    """
    changes = records.fields_changed(loaded, fields)
    if not changes:
        return RecordWrite(record=download_record_get(download_id=download_id, fresh=True).value, entry=None)
    with audited(
        actor=actor,
        action=Action.DOWNLOAD_RECORD_UPDATE,
        download_id=download_id,
        order_number=records.order_number_of(loaded.get("order_id")),
        before=records.without_secrets(loaded),
        after=changes,
        reason=reason,
    ) as audit:
        with _refusal_names_its_order(audit, download_id):
            if set(changes) - {"download_count"}:
                roles.require(actor, "edit")
            if "download_count" in changes:
                old = loaded.get("download_count")
                start = old if isinstance(old, int) else 0
                roles.require_count_change_allowed(actor, old=start, new=changes["download_count"])
        with _record_lock(download_id):
            current = _read_current(audit, download_id)
            changed = records.changed_since_loaded(loaded, current)
            if changed:
                hidden = set() if roles.allows(actor, "see_amazon_key") else {"amazon_key"}
                shown = frozenset(records.WRITABLE_FIELDS) - hidden
                raise EditConflict(
                    f"Someone changed this record since you opened it ({records.field_list(changed)}). "
                    "Nothing was saved.",
                    current=current,
                    changed=changed,
                    merge=records.merge_after_conflict(
                        loaded=loaded, mine=fields, current=current, changed=changed, shown=shown
                    ),
                )
            updated, checked = readback.patch(audit, download_id, changes=changes, current=current)
        audit.order_number = updated.order_id
        audit.after = records.record_snapshot(updated)
    return RecordWrite(record=updated, entry=audit.entry, checked=checked)


def download_record_count_set(
    *,
    actor: roles.AnyUser,
    download_id: str,
    count: int,
    expected: int | None,
    reason: str = "",
    order_number: int | None = None,
    action: str = Action.DOWNLOAD_RECORD_COUNT,
    undo_of: AuditEntry | None = None,
) -> RecordWrite:
    """Set a record's download count to `count`.

    `expected` is the count the person saw; if the API holds another, EditConflict is raised and
    nothing is written. None skips that check (the role limit is then measured from the current
    count). `order_number` is the record's order as the page showed it, for the trail until the
    record is read.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError("A download count is a whole number, 0 or more.")
    with audited(
        actor=actor,
        action=action,
        download_id=download_id,
        order_number=order_number,
        before=None if expected is None else {"download_count": expected},
        after={"download_count": count},
        reason=reason,
        undo_of=undo_of,
    ) as audit:
        with _refusal_names_its_order(audit, download_id):
            if expected is not None:
                roles.require_count_change_allowed(actor, old=expected, new=count)
        with _record_lock(download_id):
            current = _read_current(audit, download_id)
            if expected is None:
                roles.require_count_change_allowed(actor, old=current.download_count, new=count)
            elif current.download_count != expected:
                raise EditConflict(
                    f"Someone changed this count from {expected} to {current.download_count} meanwhile, "
                    f"so your {count} was not saved.",
                    current=current,
                    changed=("download_count",),
                )
            if current.download_count == count and undo_of is None:
                audit.after = audit.before
                return RecordWrite(record=current, entry=audit.entry)
            changes = {"download_count": count}
            updated, checked = readback.patch(audit, download_id, changes=changes, current=current)
        audit.after = records.record_snapshot(updated)
    return RecordWrite(record=updated, entry=audit.entry, checked=checked)


# --- Delete --------------------------------------------------------------------------------------


def download_record_delete(
    *,
    actor: roles.AnyUser,
    download_id: str,
    reason: str = "",
    loaded: dict[str, Any] | None = None,
    order_number: int | None = None,
) -> RecordWrite:
    """Delete a record. The audit entry keeps the whole record in `before`, so it can be restored.

    `loaded` (optional) is the record as shown on the confirmation page: if it changed since,
    EditConflict is raised and nothing is deleted.
    """
    with audited(
        actor=actor,
        action=Action.DOWNLOAD_RECORD_DELETE,
        download_id=download_id,
        order_number=order_number or records.order_number_of((loaded or {}).get("order_id")),
        reason=reason,
    ) as audit:
        with _refusal_names_its_order(audit, download_id):
            roles.require(actor, "delete")
        with _record_lock(download_id):
            current = _read_current(audit, download_id)
            changed = records.changed_since_loaded(loaded, current) if loaded is not None else ()
            if changed:
                raise EditConflict(
                    "Someone changed this record since you opened this page "
                    f"({records.field_list(changed)}). It was not deleted.",
                    current=current,
                    changed=changed,
                )
            checked = readback.delete(audit, download_id)
    return RecordWrite(record=None, entry=audit.entry, checked=checked)
