from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from audit.models import AuditEntry


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    order_number: int | None = None,
    order_id: str = "",
    download_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    error: str | None = None,
    undo_of: AuditEntry | None = None,
) -> AuditEntry:
    """Append one entry to the trail. `error` is the sentence the person read; None means success."""
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "system",
        action=action,
        order_number=order_number,
        order_id=order_id,
        download_id=download_id,
        before=before,
        after=after,
        reason=reason,
        outcome=AuditEntry.Outcome.SUCCESS if error is None else AuditEntry.Outcome.FAILED,
        error=error or "",
        undo_of=undo_of,
    )


def audit_entries_for_order(*, order_number: int, limit: int = 50) -> list[AuditEntry]:
    """The order's timeline: every entry that names it, newest first."""
    return list(AuditEntry.objects.filter(order_number=order_number).select_related("actor")[:limit])


class CannotUndo(Exception):
    """The entry cannot be undone; str() is the sentence shown."""


UNDOABLE = (AuditEntry.Action.RECORD_COUNT, AuditEntry.Action.RECORD_UPDATE, AuditEntry.Action.RECORD_DELETE)


def undo_kind(entry: AuditEntry) -> str | None:
    """ "count" or "restore" when this entry can be undone at all (not who may, nor whether it was)."""
    if entry.outcome != AuditEntry.Outcome.SUCCESS or entry.action not in UNDOABLE:
        return None
    if entry.action == AuditEntry.Action.RECORD_DELETE:
        return "restore" if isinstance(entry.before, dict) and entry.before else None
    before, after = entry.before or {}, entry.after or {}
    if (
        isinstance(before.get("download_count"), int)
        and isinstance(after.get("download_count"), int)
        and (before["download_count"] != after["download_count"])
    ):
        return "count"
    return None


def audit_undo(*, actor: Any, entry_id: int, reason: str = "") -> AuditEntry:
    """Revert a count change, or restore a deleted record from its snapshot. Once per entry.

    The downloads services check the person's role and write the new entry (with undo_of set).
    """
    from django.db import transaction

    from downloads import services as downloads

    with transaction.atomic():
        entry = AuditEntry.objects.select_for_update().get(pk=entry_id)
        kind = undo_kind(entry)
        if kind is None:
            raise CannotUndo("Only a successful count change or deletion can be undone.")
        done = entry.undone_by.filter(outcome=AuditEntry.Outcome.SUCCESS).first()
        if done is not None:
            raise CannotUndo(
                f"This was already undone by {done.actor_name} at {done.created_at:%Y-%m-%d %H:%M:%S}."
            )
        reason = reason or f"Undo of audit entry {entry.pk}"
        # A refused or failed undo is itself audited by the downloads services; commit that entry
        # with the transaction (the row lock only keeps two people from undoing the same thing at once).
        failure: Exception | None = None
        try:
            if kind == "count":
                downloads.download_count_set(
                    actor=actor,
                    download_id=entry.download_id,
                    count=entry.before["download_count"],
                    expected=entry.after["download_count"],
                    reason=reason,
                    action=AuditEntry.Action.COUNT_REVERT,
                    undo_of=entry,
                )
            else:
                fields = {
                    key: value
                    for key, value in entry.before.items()
                    if key not in ("download_id", "date_created")
                }
                downloads.download_create(
                    actor=actor,
                    fields=fields,
                    reason=reason,
                    action=AuditEntry.Action.RECORD_RESTORE,
                    undo_of=entry,
                )
        except Exception as error:
            failure = error
    if failure is not None:
        raise failure
    return entry.undone_by.filter(outcome=AuditEntry.Outcome.SUCCESS).latest("pk")
