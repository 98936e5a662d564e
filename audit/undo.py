"""Undo from the audit log: the handlers apps declare with their writes, and a claim so each entry is
undone at most once.

The audit trail knows nothing about what its entries change. An app that can take a change back
names an `UndoHandler` in the one statement that declares the write (audit.registry.declare_write):

    DELETE = declare_write("download_record_delete", "Deleted download record", undo=RestoreDeleted())

A handler answers four questions about one (successful) entry:
- `kind(entry)`: what undoing it would be ("count", "restore", …), or None when it cannot be undone;
  the log shows "Restore" for "restore" and "Undo" for anything else.
- `description(entry)`: one sentence saying what undo would do, for the confirmation.
- `refusal(actor, entry)`: why this person may not undo it (their role), or None.
- `perform(actor, entry, reason)`: do it, audited by the app as a new entry with `undo_of=entry`
  (refusals and failures included), and return `Undone(entry=<that new entry>, message=<what the
  person reads>)`. It raises CannotUndo (or a subclass) with a sentence when it cannot, the app's own
  refusal (a PermissionDenied) or its upstream errors.

This module makes sure an entry is undone at most once, even when two people press Undo together, and
offers no undo of an entry whose record a later entry removed (a deletion: the trail knows it is gone).
What the log offers a person (`undo_state`) is what a message right after the write offers them too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from audit.models import AuditEntry, UndoClaim
from audit.registry import record_removing_actions, undo_handler
from audit.services import Actor, actor_name, says_outcome_unknown
from fileflare_admin import clock
from fileflare_admin.sentences import UserFacingError

logger = logging.getLogger(__name__)

# Longer than the slowest undo can take (a fresh read and a write, each with its timeouts and
# retries): a claim older than this belongs to an undo that died midway and may be taken over.
UNDO_CLAIM_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class UndoLink:
    """A page the person may want next (the restored record), named for the view to build its URL:
    `text` is linked where it appears in the message."""

    text: str
    url_name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Undone:
    entry: AuditEntry  # the new entry, whose undo_of is the entry undone
    message: str  # the sentence the person reads
    link: UndoLink | None = None


class UndoHandler(Protocol):
    def kind(self, entry: AuditEntry) -> str | None: ...

    def description(self, entry: AuditEntry) -> str: ...

    def refusal(self, actor: Actor, entry: AuditEntry) -> str | None: ...

    def perform(self, actor: Actor, entry: AuditEntry, reason: str) -> Undone: ...


class CannotUndo(UserFacingError):
    """The entry cannot be undone (now or ever); `user_message` says why."""

    default_message = gettext_lazy("This entry cannot be undone.")


class UndoNotAllowed(CannotUndo, PermissionDenied):
    """This person may not undo this entry (their role); shown on the 403 page."""


class UndoInProgress(CannotUndo):
    """Someone else is undoing the same entry right now."""


def _handler(entry: AuditEntry) -> UndoHandler | None:
    return undo_handler(entry.action)


def undo_kind(entry: AuditEntry) -> str | None:
    """What undoing this entry would be, when it can be undone at all (not who may, nor whether it was)."""
    handler = _handler(entry)
    if handler is None or entry.outcome != AuditEntry.Outcome.SUCCESS:
        return None
    return handler.kind(entry)


def undone_by(entry: AuditEntry) -> AuditEntry | None:
    """The successful undo of this entry, if any (uses a prefetched `undone_by` when there is one)."""
    done = [later for later in entry.undone_by.all() if later.outcome == AuditEntry.Outcome.SUCCESS]
    return min(done, key=lambda later: (later.created_at, later.pk)) if done else None


def _already_undone(done: AuditEntry) -> CannotUndo:
    when = clock.date_time(done.created_at, seconds=True)
    return CannotUndo(
        _("This was already undone by %(who)s at %(when)s.") % {"who": done.actor_name, "when": when}
    )


def _cannot(entry: AuditEntry) -> CannotUndo:
    if entry.outcome == AuditEntry.Outcome.PENDING:
        return CannotUndo(
            _("This change is still under way (or stopped midway): there is nothing to undo yet.")
        )
    if entry.outcome == AuditEntry.Outcome.UNKNOWN:
        return CannotUndo(
            _("Whether this change went through is unknown: check the record before undoing anything.")
        )
    if entry.outcome == AuditEntry.Outcome.FAILED:
        return CannotUndo(_("This attempt did not go through, so there is nothing to undo."))
    return CannotUndo(_("This kind of entry cannot be undone."))


# --- A record removed since: nothing left to undo on -----------------------------------------------


def removals(download_ids: set[str]) -> dict[str, AuditEntry]:
    """Record ID → the successful entry that removed it (a deletion), for these records, in one query."""
    found: dict[str, AuditEntry] = {}
    if not download_ids:
        return found
    removed = AuditEntry.objects.filter(
        download_id__in=download_ids,
        action__in=record_removing_actions(),
        outcome=AuditEntry.Outcome.SUCCESS,
    ).order_by("created_at", "pk")
    for entry in removed:
        found.setdefault(entry.download_id, entry)
    return found


def _gone(entry: AuditEntry, known: dict[str, AuditEntry] | None = None) -> CannotUndo | None:
    """Why this entry cannot be undone when a later entry removed its record, naming that entry; None
    when the trail has no such entry (`known`: removals() of a page of entries, read at once)."""
    if not entry.download_id:
        return None
    removal = (known if known is not None else removals({entry.download_id})).get(entry.download_id)
    if removal is None or (removal.created_at, removal.pk) <= (entry.created_at, entry.pk):
        return None
    when = clock.date_time(removal.created_at, seconds=True)
    return CannotUndo(
        _(
            "Record %(record)s was deleted since (by %(who)s at %(when)s, audit entry #%(entry)s), so this "
            "cannot be undone."
        )
        % {"record": entry.download_id, "who": removal.actor_name, "when": when, "entry": removal.pk}
    )


@dataclass(frozen=True)
class UndoState:
    """What the log, and a message right after a write, offer for one entry: the button (`button`)
    when the person may press it (`offered`), else why not (`note`, and `refusal` for their role)."""

    kind: str | None
    done: AuditEntry | None
    refusal: str | None
    description: str
    gone: str = ""  # the record was removed since: why nothing can be undone

    @property
    def button(self) -> str:
        return pgettext("button", "Restore") if self.kind == "restore" else pgettext("button", "Undo")

    @property
    def offered(self) -> bool:
        return bool(self.kind) and self.done is None and not self.gone and self.refusal is None

    @property
    def note(self) -> str:
        """Why the button is not offered, in a few words ("" when it is, or there is no undo at all)."""
        if self.gone:
            return self.gone
        if self.kind and self.done is None and self.refusal is not None:
            return (
                _("A Merchant can restore this") if self.kind == "restore" else _("A Merchant can undo this")
            )
        return ""


def undo_state(*, actor: Actor, entry: AuditEntry, removed: dict[str, AuditEntry] | None = None) -> UndoState:
    """`removed`: removals() of the page's records, when the caller read them for many entries at once."""
    kind = undo_kind(entry)
    done = undone_by(entry) if kind else None
    handler = _handler(entry)
    if not kind or done is not None or handler is None:
        return UndoState(kind=kind, done=done, refusal=None, description="")
    gone = _gone(entry, removed)
    if gone is not None:
        return UndoState(kind=kind, done=None, refusal=None, description="", gone=str(gone))
    return UndoState(
        kind=kind,
        done=None,
        refusal=handler.refusal(actor, entry),
        description=handler.description(entry),
    )


def undo_description(entry: AuditEntry) -> str:
    handler = _handler(entry)
    return handler.description(entry) if handler is not None and undo_kind(entry) else str(_cannot(entry))


def undo_check(*, actor: Actor, entry: AuditEntry) -> str:
    """The undo's kind, or why not: CannotUndo, or UndoNotAllowed for this person's role.

    For the confirmation page; audit_undo checks everything again when it is sent.
    """
    kind = undo_kind(entry)
    handler = _handler(entry)
    if kind is None or handler is None:
        raise _cannot(entry)
    done = undone_by(entry)
    if done is not None:
        raise _already_undone(done)
    gone = _gone(entry)
    if gone is not None:
        raise gone
    refusal = handler.refusal(actor, entry)
    if refusal is not None:
        raise UndoNotAllowed(refusal)
    return kind


def _claim(entry: AuditEntry, actor: Actor) -> UndoClaim:
    """Take the entry's undo claim, or raise: already undone, or someone is undoing it right now.

    Each step is its own short transaction: no lock is held while the upstream call runs.
    """
    name = actor_name(actor)
    for _attempt in range(2):
        now = timezone.now()
        try:
            with transaction.atomic():
                return UndoClaim.objects.create(entry=entry, actor_name=name, claimed_at=now)
        except IntegrityError:
            pass
        held = UndoClaim.objects.filter(entry=entry).first()
        if held is None:
            continue  # released in between: try once more
        done = AuditEntry.objects.filter(undo_of=entry, outcome=AuditEntry.Outcome.SUCCESS).first()
        if done is not None:
            raise _already_undone(done)
        if held.claimed_at > now - UNDO_CLAIM_TIMEOUT:
            raise UndoInProgress(
                _(
                    "This is being undone by %(who)s since %(since)s. Reload the page in a moment to see how "
                    "it went."
                )
                % {"who": held.actor_name, "since": clock.clock(held.claimed_at)}
            )
        # A claim whose undo died midway (a worker stopped): take it over, unless someone just did.
        taken = UndoClaim.objects.filter(pk=held.pk, claimed_at=held.claimed_at).update(
            actor_name=name, claimed_at=now
        )
        if taken:
            logger.warning("took over a stale undo claim on audit entry %s", entry.pk)
            return UndoClaim(entry=entry, actor_name=name, claimed_at=now)
    raise UndoInProgress(_("Someone else is undoing this right now. Reload the page in a moment."))


def _release(claim: UndoClaim) -> None:
    UndoClaim.objects.filter(pk=claim.pk, claimed_at=claim.claimed_at).delete()


def audit_undo(*, actor: Actor, entry_id: int, reason: str = "") -> Undone:
    """Undo one entry through its app's handler; returns the new entry and the sentence to show.

    Each entry is undone at most once, even when two people press Undo at the same moment: a claim is
    taken before the handler runs, given back when it fails, kept when it succeeds, and kept when the
    outcome is unknown (a quick second click must not repeat it; after UNDO_CLAIM_TIMEOUT someone who
    checked may try again). Raises AuditEntry.DoesNotExist, CannotUndo and its subclasses, or
    whatever the handler raises (its refusals, its upstream errors).
    """
    entry = AuditEntry.objects.get(pk=entry_id)
    handler = _handler(entry)
    if handler is None or undo_kind(entry) is None:
        raise _cannot(entry)
    done = AuditEntry.objects.filter(undo_of=entry, outcome=AuditEntry.Outcome.SUCCESS).first()
    if done is not None:
        raise _already_undone(done)
    gone = _gone(entry)
    if gone is not None:
        raise gone

    claim = _claim(entry, actor)
    try:
        default_reason = _("Undo of audit entry #%(entry)s") % {"entry": entry.pk}
        return handler.perform(actor, entry, reason.strip() or default_reason)
    except BaseException as failure:
        if not says_outcome_unknown(failure):
            _release(claim)
        raise
