"""Editing a download record and setting its download count: the two writes whose undo sets a count
back (a revert, itself a write of the count). They share with create and delete (downloads.services)
the record's lock, the fresh read and EditConflict.

Undo, declared with the writes (audit.registry.declare_write), pure over an entry's fields:
- a successful count change can be set back: from its `after` count to its `before` count, only if the
  count is still what the change left (else UndoConflict);
- a successful edit is set back whole: every field it changed gets its `before` value again, only if
  each of those fields still holds what the edit left (else CannotUndo naming them); fields the edit did
  not change are not sent;
- a revert is not itself undone from the log.
Roles: a revert is the write it makes: a count moved by Support is bounded by the count step, and any
other field needs the edit permission (Merchant).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from audit.registry import declare_write
from audit.services import Actor, audited
from audit.undo import CannotUndo, Undone
from downloads import readback, records, suspects
from downloads.reads import download_record_get
from downloads.services import (
    EditConflict,
    RecordWrite,
    count_headline,
    read_current,
    record_lock,
    refusal_names_its_order,
)
from fileflare_admin.api import errors
from fileflare_admin.numbers import grouped
from staff import roles


class UndoConflict(CannotUndo):
    """The count was changed again after the entry; reverting would overwrite that.

    The attempt reached the API (a fresh read) and is in the trail as a failed revert.
    """

    def __init__(self, current_count: int) -> None:
        super().__init__(
            _("The count was changed again since (now %(count)s); undo would overwrite that.")
            % {"count": grouped(current_count)}
        )
        self.current_count = current_count


# --- Undo: the count set back --------------------------------------------------------------------


def _side(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def count_revert(entry: AuditEntry) -> tuple[int, int]:
    """(the count the change left, the count to set back): undo sets the second where the first is."""
    return _side(entry.after)["download_count"], _side(entry.before)["download_count"]


def _set_back(
    entry: AuditEntry, write: Callable[[], RecordWrite], conflict: Callable[[EditConflict], CannotUndo]
) -> tuple[AuditEntry, bool]:
    """Run an undo's write: (its entry, whether the answer was read back at the API). A colleague's
    change since is `conflict`'s CannotUndo; a record gone says so."""
    try:
        written = write()
    except EditConflict as clash:
        raise conflict(clash) from clash
    except errors.NotFound as gone:
        raise CannotUndo(
            _("Record %(id)s no longer exists at the downloads API, so this change cannot be undone.")
            % {"id": entry.download_id}
        ) from gone
    assert written.entry is not None  # a revert changes what its entry changed: it always has an entry
    return written.entry, written.checked


def _count_refusal(person: roles.AnyUser, *, old: int, new: int) -> str | None:
    """Why this person may not set a count from `old` to `new` (their role's step), or None."""
    try:
        roles.require_count_change_allowed(person, old=old, new=new)
    except roles.NotAllowed as refused:
        return refused.user_message
    return None


class CountRevert:
    """audit.undo.UndoHandler of a count change."""

    def kind(self, entry: AuditEntry) -> str | None:
        old, new = _side(entry.before).get("download_count"), _side(entry.after).get("download_count")
        return "count" if _is_count(old) and _is_count(new) and old != new else None

    def description(self, entry: AuditEntry) -> str:
        now, back = count_revert(entry)
        return _("Set the download count of record %(id)s back from %(now)s to %(back)s.") % {
            "id": entry.download_id,
            "now": grouped(now),
            "back": grouped(back),
        }

    def refusal(self, actor: Actor, entry: AuditEntry) -> str | None:
        now, back = count_revert(entry)
        return _count_refusal(roles.as_person(actor), old=now, new=back)

    def perform(self, actor: Actor, entry: AuditEntry, reason: str) -> Undone:
        now, back = count_revert(entry)
        written, checked = _set_back(
            entry,
            lambda: download_record_count_set(
                actor=roles.as_person(actor),
                download_id=entry.download_id,
                count=back,
                expected=now,
                reason=reason,
                order_number=entry.order_number,
                action=COUNT_REVERT,
                undo_of=entry,
            ),
            lambda clash: UndoConflict(clash.current.download_count),
        )
        message = (
            _("Set the download count of record %(id)s back to %(back)s (checked at the API).")
            if checked
            else _("Set the download count of record %(id)s back to %(back)s.")
        ) % {"id": entry.download_id, "back": grouped(back)}
        return Undone(entry=written, message=message)


# --- Undo: an edit set back whole ----------------------------------------------------------------


def edit_revert(entry: AuditEntry) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the fields an edit changed as it left them, the same fields as they were before it): undo sets
    the second where the first still is. Empty when the entry changed no field it recorded."""
    before, after = _side(entry.before), _side(entry.after)
    changed = [
        name
        for name in records.WRITABLE_FIELDS
        if name in before and name in after and before[name] != after[name]
    ]
    return {name: after[name] for name in changed}, {name: before[name] for name in changed}


def _moves(now: dict[str, Any], back: dict[str, Any]) -> str:
    """"download count 0 → 4, file name “new.pdf” → “old.pdf”": what an edit's undo sets back (the S3
    key by name only: it is a secret)."""
    moves = []
    for name, value in back.items():
        label = records.FIELD_LABELS.get(name, name)
        if name == "amazon_key":
            moves.append(_("%(field)s (to the one it had)") % {"field": label})
        elif isinstance(value, str):
            values = {"field": label, "now": now[name], "back": value}
            moves.append(_("%(field)s “%(now)s” → “%(back)s”") % values)
        else:
            moves.append(f"{label} {now[name]} → {value}")
    return ", ".join(moves)


class EditRevert:
    """audit.undo.UndoHandler of an edit: every field it changed is set back."""

    def kind(self, entry: AuditEntry) -> str | None:
        return "edit" if entry.undo_of_id is None and edit_revert(entry)[1] else None

    def description(self, entry: AuditEntry) -> str:
        now, back = edit_revert(entry)
        return _("Set record %(id)s back as it was before this edit: %(moves)s.") % {
            "id": entry.download_id,
            "moves": _moves(now, back),
        }

    def refusal(self, actor: Actor, entry: AuditEntry) -> str | None:
        now, back = edit_revert(entry)
        person = roles.as_person(actor)
        if set(back) - {"download_count"}:
            refused = roles.refusal(person, "edit")
            if refused is not None:
                return refused
        if "download_count" in back:
            return _count_refusal(person, old=now["download_count"], new=back["download_count"])
        return None

    def perform(self, actor: Actor, entry: AuditEntry, reason: str) -> Undone:
        now, back = edit_revert(entry)
        written, checked = _set_back(
            entry,
            lambda: download_record_update(
                actor=roles.as_person(actor),
                download_id=entry.download_id,
                fields=back,
                loaded=now,  # only the fields the edit changed are compared: a colleague's other change stays
                reason=reason,
                action=UPDATE_REVERT,
                undo_of=entry,
            ),
            lambda clash: CannotUndo(
                _("Record %(id)s was changed again since (%(fields)s); undo would overwrite that.")
                % {"id": entry.download_id, "fields": records.field_list(clash.changed)}
            ),
        )
        values = {"id": entry.download_id, "moves": _moves(now, back)}
        message = (
            _("Set record %(id)s back as it was before the edit (checked at the API): %(moves)s.")
            if checked
            else _("Set record %(id)s back as it was before the edit: %(moves)s.")
        ) % values
        return Undone(entry=written, message=message)


UPDATE = declare_write(
    "download_record_update",
    gettext_lazy("Edited download record"),
    headline=count_headline,
    undo=EditRevert(),
)
UPDATE_REVERT = declare_write(
    "download_record_update_revert", gettext_lazy("Reverted download record edit"), headline=count_headline
)
COUNT = declare_write(
    "download_record_count",
    gettext_lazy("Changed download count"),
    headline=count_headline,
    undo=CountRevert(),
    reason_read=suspects.reason_read,  # a give-back's reason, written by downloads.suspects
)
COUNT_REVERT = declare_write(
    "download_record_count_revert", gettext_lazy("Reverted download count"), headline=count_headline
)


# --- The writes ----------------------------------------------------------------------------------


def download_record_update(
    *,
    actor: roles.AnyUser,
    download_id: str,
    fields: dict[str, Any],
    loaded: dict[str, Any],
    reason: str = "",
    action: str = UPDATE,
    undo_of: AuditEntry | None = None,
) -> RecordWrite:
    """Save the fields that differ from `loaded` (the record as the person saw it), and only those.

    Raises EditConflict, writing nothing, when the record at the API no longer matches `loaded` (in the
    fields `loaded` names). `loaded` is a `loaded_snapshot()` or a `record_snapshot()` (or, for an
    undo, the fields the edit changed, as it left them).
    """
    changes = records.fields_changed(loaded, fields)
    if not changes:
        return RecordWrite(record=download_record_get(download_id=download_id, fresh=True).value, entry=None)
    with audited(
        actor=actor,
        action=action,
        download_id=download_id,
        order_number=records.order_number_of(loaded.get("order_id")),
        before=records.without_secrets(loaded),
        after=changes,
        reason=reason,
        undo_of=undo_of,
    ) as audit:
        with refusal_names_its_order(audit, download_id):
            if set(changes) - {"download_count"}:
                roles.require(actor, "edit")
            if "download_count" in changes:
                old = loaded.get("download_count")
                start = old if isinstance(old, int) else 0
                roles.require_count_change_allowed(actor, old=start, new=changes["download_count"])
        with record_lock(download_id):
            current = read_current(audit, download_id)
            changed = records.changed_since_loaded(loaded, current)
            if changed:
                hidden = set() if roles.allows(actor, "see_amazon_key") else {"amazon_key"}
                shown = frozenset(records.WRITABLE_FIELDS) - hidden
                raise EditConflict(
                    _("Someone changed this record since you opened it (%(fields)s). Nothing was saved.")
                    % {"fields": records.field_list(changed)},
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
    action: str = COUNT,
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
        with refusal_names_its_order(audit, download_id):
            if expected is not None:
                roles.require_count_change_allowed(actor, old=expected, new=count)
        with record_lock(download_id):
            current = read_current(audit, download_id)
            if expected is None:
                roles.require_count_change_allowed(actor, old=current.download_count, new=count)
            elif current.download_count != expected:
                raise EditConflict(
                    _(
                        "Someone changed this count from %(expected)s to %(now)s meanwhile, so your "
                        "%(count)s was not saved."
                    )
                    % {
                        "expected": grouped(expected),
                        "now": grouped(current.download_count),
                        "count": grouped(count),
                    },
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
