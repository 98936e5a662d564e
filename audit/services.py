"""The audit trail: writing it, reading it back, and undoing what can be undone.

Undo is done by the downloads services themselves (they check the person's role, talk to the API and
write the new entry with `undo_of`), so an undo is audited exactly like any other change, refusals and
failures included. This module decides whether an entry can be undone at all and makes sure it is
undone at most once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEntry, UndoClaim
from staff import roles

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | AnonymousUser | None
UndoKind = Literal["count", "restore"]

# Actions whose successful entries can be undone: a count change (also when made through the edit
# form), and a deletion (restored from the snapshot in `before`).
UNDOABLE = (AuditEntry.Action.RECORD_COUNT, AuditEntry.Action.RECORD_UPDATE, AuditEntry.Action.RECORD_DELETE)
# Longer than the slowest undo can take (a fresh read and a write, each with its timeouts and
# retries): a claim older than this belongs to an undo that died midway and may be taken over.
UNDO_CLAIM_TIMEOUT = timedelta(minutes=5)


def _actor_name(actor: Actor) -> str:
    return actor.get_username() if actor is not None and actor.is_authenticated else "system"


def audit_record(
    *,
    actor: Actor,
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
        actor_name=_actor_name(user),
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
    return list(
        AuditEntry.objects.filter(order_number=order_number)
        .select_related("actor")
        .prefetch_related("undone_by")[:limit]
    )


# --- Undo ----------------------------------------------------------------------------------------


class CannotUndo(Exception):
    """The entry cannot be undone (now or ever); str() is the sentence shown. Nothing was sent upstream
    unless the subclass says otherwise."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence


class UndoConflict(CannotUndo):
    """The count was changed again after the entry; reverting would overwrite that change.

    The attempt reached the API (a fresh read) and is in the trail as a failed revert.
    """

    def __init__(self, current_count: int) -> None:
        super().__init__(
            f"The count was changed again since (now {current_count}); undo would overwrite that."
        )
        self.current_count = current_count


class UndoInProgress(CannotUndo):
    """Someone else is undoing the same entry right now."""


def undo_kind(entry: AuditEntry) -> UndoKind | None:
    """ "count" or "restore" when this entry can be undone at all (not who may, nor whether it was)."""
    if entry.outcome != AuditEntry.Outcome.SUCCESS or entry.action not in UNDOABLE:
        return None
    if entry.action == AuditEntry.Action.RECORD_DELETE:
        return "restore" if isinstance(entry.before, dict) and entry.before else None
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    old, new = before.get("download_count"), after.get("download_count")
    if _is_count(old) and _is_count(new) and old != new:
        return "count"
    return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def undone_by(entry: AuditEntry) -> AuditEntry | None:
    """The successful undo of this entry, if any (uses a prefetched `undone_by` when there is one)."""
    done = [later for later in entry.undone_by.all() if later.outcome == AuditEntry.Outcome.SUCCESS]
    return min(done, key=lambda later: (later.created_at, later.pk)) if done else None


def _already_undone(done: AuditEntry) -> CannotUndo:
    when = timezone.localtime(done.created_at)
    return CannotUndo(f"This was already undone by {done.actor_name} at {when:%Y-%m-%d %H:%M:%S}.")


def undo_description(entry: AuditEntry) -> str:
    """What undoing this entry would do, in one sentence (for the confirmation)."""
    kind = undo_kind(entry)
    if kind == "count":
        old, new = entry.before["download_count"], entry.after["download_count"]  # type: ignore[index]
        also = (
            " The other fields this edit changed stay as they are."
            if entry.action == AuditEntry.Action.RECORD_UPDATE
            else ""
        )
        return f"Set the download count of record {entry.download_id} back from {new} to {old}.{also}"
    if kind == "restore":
        snapshot: dict[str, Any] = entry.before  # type: ignore[assignment]
        return (
            f"Create record {entry.download_id} again from the copy kept when it was deleted "
            f"(order {snapshot.get('order_id')}, file {snapshot.get('download_file_name') or '—'}, "
            f"{snapshot.get('download_count')} downloads). It gets a new download ID."
        )
    return "This entry cannot be undone."


def undo_refusal(*, actor: Actor, entry: AuditEntry) -> str | None:
    """Why this person may not undo this (undoable) entry, or None when they may. Checks roles only."""
    kind = undo_kind(entry)
    try:
        if kind == "restore":
            roles.require_can_create(actor)  # type: ignore[arg-type]
        elif kind == "count":
            roles.require_count_change_allowed(
                actor,  # type: ignore[arg-type]
                old=entry.after["download_count"],  # type: ignore[index]
                new=entry.before["download_count"],  # type: ignore[index]
            )
    except roles.NotAllowed as refused:
        return str(refused)
    return None


def undo_check(*, actor: Actor, entry: AuditEntry) -> UndoKind:
    """What an undo of this entry would be, or why not: CannotUndo, or NotAllowed for the role.

    For showing the confirmation; audit_undo checks everything again when it is sent.
    """
    kind = undo_kind(entry)
    if kind is None:
        raise CannotUndo("Only a successful count change or deletion can be undone.")
    done = undone_by(entry)
    if done is not None:
        raise _already_undone(done)
    refusal = undo_refusal(actor=actor, entry=entry)
    if refusal is not None:
        raise roles.NotAllowed(refusal)
    return kind


def _claim(entry: AuditEntry, actor: Actor) -> UndoClaim:
    """Take the entry's undo claim, or raise: already undone, or someone is undoing it right now.

    Each step is its own short transaction: no lock is held while the upstream call runs.
    """
    for _attempt in range(2):
        now = timezone.now()
        try:
            with transaction.atomic():
                return UndoClaim.objects.create(entry=entry, actor_name=_actor_name(actor), claimed_at=now)
        except IntegrityError:
            pass
        held = UndoClaim.objects.filter(entry=entry).first()
        if held is None:
            continue  # released in between: try once more
        done = AuditEntry.objects.filter(undo_of=entry, outcome=AuditEntry.Outcome.SUCCESS).first()
        if done is not None:
            raise _already_undone(done)
        if held.claimed_at > now - UNDO_CLAIM_TIMEOUT:
            since = timezone.localtime(held.claimed_at)
            raise UndoInProgress(
                f"{held.actor_name} started undoing this at {since:%H:%M:%S}. "
                "Reload the page in a moment to see how it went."
            )
        # A claim whose undo died midway (a worker stopped): take it over, unless someone just did.
        taken = UndoClaim.objects.filter(pk=held.pk, claimed_at=held.claimed_at).update(
            actor_name=_actor_name(actor), claimed_at=now
        )
        if taken:
            logger.warning("took over a stale undo claim on audit entry %s", entry.pk)
            return UndoClaim(entry=entry, actor_name=_actor_name(actor), claimed_at=now)
    raise UndoInProgress("Someone else is undoing this right now. Reload the page in a moment.")


def _release(claim: UndoClaim) -> None:
    UndoClaim.objects.filter(pk=claim.pk, claimed_at=claim.claimed_at).delete()


def audit_undo(*, actor: Actor, entry_id: int, reason: str = "") -> AuditEntry:
    """Revert a count change, or restore a deleted record from its snapshot; returns the new entry.

    Each entry is undone at most once, even when two people press Undo at the same moment. Roles are
    checked (and refusals audited) by the downloads services: a restore is a create (Merchant), a
    revert by Support is bounded by the count step. Raises AuditEntry.DoesNotExist, CannotUndo (and
    its UndoConflict, UndoInProgress), roles.NotAllowed, or the API's errors.
    """
    # Imported here: the downloads services import this module for audit_record.
    from downloads import services as downloads
    from fileflare_admin.api import errors

    entry = AuditEntry.objects.get(pk=entry_id)
    kind = undo_kind(entry)
    if kind is None:
        raise CannotUndo("Only a successful count change or deletion can be undone.")
    done = AuditEntry.objects.filter(undo_of=entry, outcome=AuditEntry.Outcome.SUCCESS).first()
    if done is not None:
        raise _already_undone(done)

    claim = _claim(entry, actor)
    reason = reason.strip() or f"Undo of audit entry #{entry.pk}"
    keep_claim = False
    try:
        if kind == "count":
            try:
                downloads.download_count_set(
                    actor=actor,
                    download_id=entry.download_id,
                    count=entry.before["download_count"],  # type: ignore[index]
                    expected=entry.after["download_count"],  # type: ignore[index]
                    reason=reason,
                    action=AuditEntry.Action.COUNT_REVERT,
                    undo_of=entry,
                )
            except downloads.EditConflict as conflict:
                raise UndoConflict(conflict.current.download_count) from conflict
            except errors.NotFound as gone:
                raise CannotUndo(
                    f"Record {entry.download_id} no longer exists at the downloads API, "
                    "so its count cannot be set back."
                ) from gone
        else:
            snapshot: dict[str, Any] = entry.before  # type: ignore[assignment]
            fields = {
                name: value for name, value in snapshot.items() if name not in ("download_id", "date_created")
            }
            try:
                downloads.download_create(
                    actor=actor,
                    fields=fields,
                    reason=reason,
                    action=AuditEntry.Action.RECORD_RESTORE,
                    undo_of=entry,
                )
            except errors.OutcomeUnknown:
                # The record may have been created. Keeping the claim stops a quick second click from
                # making a duplicate; after UNDO_CLAIM_TIMEOUT someone who checked may try again.
                keep_claim = True
                raise
    except BaseException:
        if not keep_claim:
            _release(claim)
        raise
    return AuditEntry.objects.filter(undo_of=entry, outcome=AuditEntry.Outcome.SUCCESS).latest("pk")
