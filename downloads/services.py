"""Download records: the writes that make or remove a record — create, restore (the undo of a delete)
and delete. Editing a record and setting its count are in downloads/edits.py, over the pieces every
write shares, which are here; reading records is in downloads/reads.py.

Every write is audited ahead (audit.services.audited: the entry exists before anything is sent), checks
the person's role, and — for a record that exists — holds the record's lock in the shared cache while it
reads the record fresh, compares it with what the person saw, and writes. The downloads API has no
versions or ETags, so that lock is what makes "nobody silently overwrites a colleague" true across
workers and machines: of two fixes from the same starting value, the second reads the first's result
and is refused with EditConflict. An unclear answer is resolved by reading back (downloads.readback).

Each write is declared once, below, with how the log shows it and how it is undone
(audit.registry.declare_write): a deletion is undone by creating the record again from the copy its
entry kept (RestoreDeleted); a create or a restore is not undone from the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.models import AuditEntry
from audit.registry import declare_write, register_secret_field
from audit.services import Actor, OpenEntry, audited
from audit.undo import UndoLink, Undone
from downloads import readback, records
from downloads.history import forget_records, note_seen
from downloads.readback import DownloadRecordOutcomeUnknown
from fileflare_admin import clock
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import errors, types
from fileflare_admin.api.cache import shared_lock, write_lock_seconds
from fileflare_admin.numbers import grouped
from fileflare_admin.sentences import UserFacingError
from fileflare_admin.submissions import submission_claim, submission_release
from staff import roles

CREATE_PURPOSE = "download_record_create"
# How long a contender waits for a colleague's write to the same record before being told to retry.
RECORD_LOCK_WAIT = 15.0

register_secret_field("amazon_key", shown_to="see_amazon_key")


def count_headline(entry: AuditEntry) -> tuple[int, int] | None:
    """The count a record's entry moved (or tried to move), as the order page's timeline states it:
    the `headline` of every download-record write."""
    return records.count_change(entry.before, entry.after)


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


# --- Pieces every write shares -------------------------------------------------------------------


@contextmanager
def record_lock(download_id: str) -> Iterator[None]:
    """Serialize read-check-write of one record across every worker and machine (the shared cache)."""
    with shared_lock(f"download_record:{download_id}", write_lock_seconds(), wait=RECORD_LOCK_WAIT):
        yield


@contextmanager
def refusal_names_its_order(audit: OpenEntry, download_id: str) -> Iterator[None]:
    """A refusal before the record was read still names its order in the trail (a cached read)."""
    try:
        yield
    except roles.NotAllowed:
        # When the upstream cannot say, the refusal stands and the order is simply not known.
        with suppress(errors.ApiError):
            if audit.order_number is None:
                audit.order_number = downloads_api.record_get(download_id=download_id).value.order_id
        raise


def read_current(audit: OpenEntry, download_id: str) -> types.DownloadRecord:
    fetched = downloads_api.record_get(download_id=download_id, fresh=True)
    current = fetched.value
    note_seen([current], seen_at=fetched.fetched_at, source="read")
    audit.order_number = current.order_id
    audit.before = records.record_snapshot(current)
    return current


# --- Undo of a deletion: the record created again -----------------------------------------------


def _kept(entry: AuditEntry) -> dict[str, Any]:
    """The record as it was when deleted, as its entry keeps it."""
    return entry.before if isinstance(entry.before, dict) else {}


def restore_fields(entry: AuditEntry) -> dict[str, Any]:
    """What a restore creates: the deleted record's writable fields, as kept in the trail."""
    return records.writable(_kept(entry))


class RestoreDeleted:
    """audit.undo.UndoHandler of a deletion: a create with the kept values (it gets a new download ID).
    A restore is a create, so it needs the Merchant role."""

    def kind(self, entry: AuditEntry) -> str | None:
        return "restore" if _kept(entry) else None

    def description(self, entry: AuditEntry) -> str:
        kept = _kept(entry)
        count = kept.get("download_count")
        return ngettext(
            "Create record %(id)s again from the copy kept when it was deleted (order %(number)s, file "
            "%(file)s, %(count)s download). It comes back as a new record: the downloads API gives it a "
            "new download ID and today's date as its created date.",
            "Create record %(id)s again from the copy kept when it was deleted (order %(number)s, file "
            "%(file)s, %(count)s downloads). It comes back as a new record: the downloads API gives it a "
            "new download ID and today's date as its created date.",
            count if isinstance(count, int) else 0,
        ) % {
            "id": entry.download_id,
            "number": kept.get("order_id"),
            "file": kept.get("download_file_name") or "—",
            "count": grouped(count) if isinstance(count, int) else count,
        }

    def refusal(self, actor: Actor, entry: AuditEntry) -> str | None:
        return roles.refusal(roles.as_person(actor), "create")

    def perform(self, actor: Actor, entry: AuditEntry, reason: str) -> Undone:
        written = download_record_create(
            actor=roles.as_person(actor),
            fields=restore_fields(entry),
            reason=reason,
            action=RESTORE,
            undo_of=entry,
        )
        assert written.entry is not None and written.record is not None  # a create always has both
        new_id = written.record.download_id
        created = written.record.date_created
        values = {"new_id": new_id, "old_id": entry.download_id}
        if created is not None:
            values["created"] = clock.date_time(created)
            sentence = (
                _(
                    "Restored the deleted record as a new record, %(new_id)s, created %(created)s (checked "
                    "at the API): the downloads API gives a restored record a new download ID and date "
                    "(%(old_id)s is gone)."
                )
                if written.checked
                else _(
                    "Restored the deleted record as a new record, %(new_id)s, created %(created)s: the "
                    "downloads API gives a restored record a new download ID and date (%(old_id)s is gone)."
                )
            )
        else:
            sentence = (
                _(
                    "Restored the deleted record as a new record, %(new_id)s (checked at the API): the "
                    "downloads API gives a restored record a new download ID and date (%(old_id)s is gone)."
                )
                if written.checked
                else _(
                    "Restored the deleted record as a new record, %(new_id)s: the downloads API gives a "
                    "restored record a new download ID and date (%(old_id)s is gone)."
                )
            )
        return Undone(
            entry=written.entry,
            message=sentence % values,
            link=UndoLink(text=new_id, url_name="downloads:edit", args=(new_id,)),
        )


# The entries of a create and a restore hold the record as created; a deletion's, the deleted record.
CREATE = declare_write(
    "download_record_create",
    gettext_lazy("Created download record"),
    record_side="after",
    record_label=gettext_lazy("the record as created"),
    headline=count_headline,
)
RESTORE = declare_write(
    "download_record_restore",
    gettext_lazy("Restored deleted record"),
    record_side="after",
    record_label=gettext_lazy("the record as created"),
    headline=count_headline,
)
DELETE = declare_write(
    "download_record_delete",
    gettext_lazy("Deleted download record"),
    record_side="before",
    record_label=gettext_lazy("the deleted record"),
    headline=count_headline,
    undo=RestoreDeleted(),
)


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
        action=CREATE,
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
    action: str = CREATE,
    undo_of: AuditEntry | None = None,
) -> RecordWrite:
    """Create a record, sent exactly once.

    `submission` is the form's one-time token: a second POST of the same form raises AlreadySubmitted
    and sends nothing. A restore (action RESTORE) passes a deleted record's snapshot;
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
            created, checked = readback.create(audit, payload=payload, created_by=(CREATE, RESTORE))
            audit.download_id = created.download_id
            audit.order_number = created.order_id
            audit.after = records.record_snapshot(created)
    except DownloadRecordOutcomeUnknown:
        raise  # the token stays spent: sending the same form again could make a duplicate
    except BaseException:
        submission_release(claim)
        raise
    return RecordWrite(record=created, entry=audit.entry, checked=checked)


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
        action=DELETE,
        download_id=download_id,
        order_number=order_number or records.order_number_of((loaded or {}).get("order_id")),
        reason=reason,
    ) as audit:
        with refusal_names_its_order(audit, download_id):
            roles.require(actor, "delete")
        with record_lock(download_id):
            current = read_current(audit, download_id)
            changed = records.changed_since_loaded(loaded, current) if loaded is not None else ()
            if changed:
                raise EditConflict(
                    _(
                        "Someone changed this record since you opened this page (%(fields)s). It was not "
                        "deleted."
                    )
                    % {"fields": records.field_list(changed)},
                    current=current,
                    changed=changed,
                )
            checked = readback.delete(audit, download_id)
    forget_records([download_id])  # no longer among the counts the Reports page lists
    return RecordWrite(record=None, entry=audit.entry, checked=checked)
