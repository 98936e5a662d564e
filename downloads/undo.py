"""Undo for download records, registered with the audit log (audit.undo) in DownloadsConfig.ready().

The rules, pure over an entry's fields (unit-tested without the sandbox):
- a successful count change, or an edit that moved the count, can be set back: from its `after`
  count to its `before` count, only if the count is still what the change left (else UndoConflict);
  the other fields an edit changed stay as they are;
- a successful deletion can be restored from the record kept in its `before`: a create with the same
  values, which gets a new download ID;
- a revert or a restore is not itself undone from the log.
Roles: a restore is a create (Merchant); a revert by Support is bounded by the count step.
"""

from __future__ import annotations

from typing import Any, Literal

from audit.models import AuditEntry
from audit.services import Actor
from audit.undo import CannotUndo, UndoLink, Undone, register_undo
from downloads import records, services
from downloads.audit_actions import Action
from fileflare_admin.api import errors
from staff import roles

Kind = Literal["count", "restore"]
COUNT_ACTIONS = (Action.DOWNLOAD_RECORD_COUNT, Action.DOWNLOAD_RECORD_UPDATE)


class UndoConflict(CannotUndo):
    """The count was changed again after the entry; reverting would overwrite that.

    The attempt reached the API (a fresh read) and is in the trail as a failed revert.
    """

    def __init__(self, current_count: int) -> None:
        super().__init__(
            f"The count was changed again since (now {current_count}); undo would overwrite that."
        )
        self.current_count = current_count


# --- The rules -----------------------------------------------------------------------------------


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _side(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def undo_kind(entry: AuditEntry) -> Kind | None:
    """"count" or "restore" when this (successful) entry's change can be taken back, else None."""
    if entry.action == Action.DOWNLOAD_RECORD_DELETE:
        return "restore" if _side(entry.before) else None
    if entry.action in COUNT_ACTIONS:
        old = _side(entry.before).get("download_count")
        new = _side(entry.after).get("download_count")
        return "count" if _is_count(old) and _is_count(new) and old != new else None
    return None


def count_revert(entry: AuditEntry) -> tuple[int, int]:
    """(the count the change left, the count to set back): undo sets the second where the first is."""
    return _side(entry.after)["download_count"], _side(entry.before)["download_count"]


def restore_fields(entry: AuditEntry) -> dict[str, Any]:
    """What a restore creates: the deleted record's writable fields, as kept in the trail."""
    return records.writable(_side(entry.before))


def undo_description(entry: AuditEntry) -> str:
    """What undoing this entry would do, in one sentence (for the confirmation)."""
    kind = undo_kind(entry)
    if kind == "count":
        now, back = count_revert(entry)
        also = (
            " The other fields this edit changed stay as they are."
            if entry.action == Action.DOWNLOAD_RECORD_UPDATE
            else ""
        )
        return f"Set the download count of record {entry.download_id} back from {now} to {back}.{also}"
    if kind == "restore":
        kept = _side(entry.before)
        return (
            f"Create record {entry.download_id} again from the copy kept when it was deleted "
            f"(order {kept.get('order_id')}, file {kept.get('download_file_name') or '—'}, "
            f"{kept.get('download_count')} downloads). It gets a new download ID."
        )
    return "This entry cannot be undone."


# --- The handler the audit log calls -------------------------------------------------------------


class DownloadRecordUndo:
    """audit.undo.UndoHandler for count changes, edits that moved a count, and deletions."""

    def kind(self, entry: AuditEntry) -> str | None:
        return undo_kind(entry)

    def description(self, entry: AuditEntry) -> str:
        return undo_description(entry)

    def refusal(self, actor: Actor, entry: AuditEntry) -> str | None:
        person = roles.as_person(actor)
        try:
            if undo_kind(entry) == "restore":
                roles.require(person, "create")
            elif undo_kind(entry) == "count":
                now, back = count_revert(entry)
                roles.require_count_change_allowed(person, old=now, new=back)
        except roles.NotAllowed as refused:
            return refused.user_message
        return None

    def perform(self, actor: Actor, entry: AuditEntry, reason: str) -> Undone:
        if undo_kind(entry) == "restore":
            return self._restore(roles.as_person(actor), entry, reason)
        return self._revert(roles.as_person(actor), entry, reason)

    def _revert(self, person: roles.AnyUser, entry: AuditEntry, reason: str) -> Undone:
        now, back = count_revert(entry)
        try:
            written = services.download_record_count_set(
                actor=person,
                download_id=entry.download_id,
                count=back,
                expected=now,
                reason=reason,
                order_number=entry.order_number,
                action=Action.DOWNLOAD_RECORD_COUNT_REVERT,
                undo_of=entry,
            )
        except services.EditConflict as conflict:
            raise UndoConflict(conflict.current.download_count) from conflict
        except errors.NotFound as gone:
            raise CannotUndo(
                f"Record {entry.download_id} no longer exists at the downloads API, "
                "so its count cannot be set back."
            ) from gone
        assert written.entry is not None  # a revert always writes its entry
        checked = " (checked at the API)" if written.checked else ""
        return Undone(
            entry=written.entry,
            message=f"Set the download count of record {entry.download_id} back to {back}{checked}.",
        )

    def _restore(self, person: roles.AnyUser, entry: AuditEntry, reason: str) -> Undone:
        written = services.download_record_create(
            actor=person,
            fields=restore_fields(entry),
            reason=reason,
            action=Action.DOWNLOAD_RECORD_RESTORE,
            undo_of=entry,
        )
        assert written.entry is not None and written.record is not None  # a create always has both
        checked = " (checked at the API)" if written.checked else ""
        new_id = written.record.download_id
        return Undone(
            entry=written.entry,
            message=f"Restored the deleted record as {new_id}{checked}.",
            link=UndoLink(text=new_id, url_name="downloads:edit", args=(new_id,)),
        )


def register() -> None:
    handler = DownloadRecordUndo()
    for action in (*COUNT_ACTIONS, Action.DOWNLOAD_RECORD_DELETE):
        register_undo(action, handler)
