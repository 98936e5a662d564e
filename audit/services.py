"""Writing the audit trail ahead of every upstream write, and reading it back.

`audited(...)` is how every write is recorded: the entry exists (outcome `pending`) *before* anything is
sent upstream, so there is never an upstream change without an entry, and it is closed afterwards with
what is known. If the first write to the trail fails, nothing is sent and the person is told so
(AuditUnavailable). The app doing the write fills in what it learns on the way (the record as it was,
the order number, the new id) and, when the upstream's answer was unclear and it read the outcome back,
how that outcome was verified. An entry whose process stopped inside the block stays pending until
`audited_recover` closes it, named by its id (a bulk fix's item keeps its entry's id: audit_job).

This module is a leaf: it imports no other app of the dashboard (only the project core).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DatabaseError, connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from audit.models import AuditEntry
from fileflare_admin import kept
from fileflare_admin.api.errors import OutcomeUnknown
from fileflare_admin.sentences import UserFacingError
from fileflare_admin.storable import storable

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | AnonymousUser | None
# A busy database (SQLite's "database is locked", a PostgreSQL lock timeout) often clears within a
# moment: the trail is tried this many times, a little apart, before the write is refused.
DATABASE_ATTEMPTS = 3
DATABASE_PAUSE = 0.05
# Stored as written (English) and translated where the log shows it (audit/_outcome.html).
CHECKED_AT_THE_API = gettext_noop("checked at the API")
# The bulk fix whose item is being written (audit_job): every entry written meanwhile names it, and the
# job is told the entry it opened (to close exactly that one should its worker stop mid-write).
_current_job: ContextVar[str] = ContextVar("audit_job", default="")
_on_open: ContextVar[Callable[[AuditEntry], None] | None] = ContextVar("audit_on_open", default=None)


class AuditUnavailable(UserFacingError):
    """The entry could not be written before the upstream call, so the call was not made."""

    default_message = gettext_lazy(
        "The audit trail cannot be written right now, so nothing was sent. "
        "What you typed is kept below; try again in a moment."
    )


def says_outcome_unknown(failure: BaseException) -> bool:
    """Whether an exception says the upstream may or may not have made the change."""
    return isinstance(failure, OutcomeUnknown) or getattr(failure, "outcome_unknown", False) is True


def actor_name(actor: Actor) -> str:
    return actor.get_username() if actor is not None and actor.is_authenticated else "system"


def _signed_in(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


@dataclass
class OpenEntry:
    """A pending entry while its write is under way. Set what you learn; `audited` writes it on close.

    `sent` says the upstream write has been sent: an unexpected error after that point leaves the
    outcome unknown rather than failed. `verified` says how an outcome was learned when the answer
    itself was unclear (CHECKED_AT_THE_API).
    """

    entry: AuditEntry
    before: Any = None
    after: Any = None
    order_number: int | None = None
    order_id: str = ""
    download_id: str = ""
    verified: str = ""
    sent: bool = False
    closed_fields: dict[str, Any] = field(default_factory=dict)

    @property
    def pk(self) -> int:
        return self.entry.pk


def _with_retries(write: Any, what: str) -> Any:
    """Run a small database write in its own savepoint, a few times if the database is busy."""
    failure: DatabaseError | None = None
    for attempt in range(DATABASE_ATTEMPTS):
        try:
            with transaction.atomic():
                return write()
        except DatabaseError as error:
            failure = error
            time.sleep(DATABASE_PAUSE * (attempt + 1))
    assert failure is not None  # the loop ran at least once and failed every time
    logger.error("audit trail: could not %s (%s)", what, type(failure).__name__)
    raise failure


def _close(handle: OpenEntry, outcome: str, error: str) -> None:
    fields = {
        "before": storable(handle.before),
        "after": storable(handle.after),
        "order_number": handle.order_number,
        "order_id": handle.order_id or "",
        "download_id": handle.download_id or "",
        "error": storable(error),
        "verified": storable(handle.verified[:200]),
        "finished_at": timezone.now(),
    }
    try:
        closed = _with_retries(
            lambda: AuditEntry.objects.close_pending(handle.pk, outcome=outcome, **fields),
            f"close entry {handle.pk}",
        )
    except DatabaseError:
        # The upstream change (if any) is done and the person must hear how it went; the entry stays
        # pending, which the log shows as "not closed", and this line says what it should have said.
        logger.error("audit entry %s stays pending; its outcome was %s: %s", handle.pk, outcome, error)
        return
    if not closed:
        logger.error("audit entry %s was already closed; outcome %s not written", handle.pk, outcome)
        return
    for name, value in {**fields, "outcome": outcome}.items():
        setattr(handle.entry, name, value)
    handle.closed_fields = fields


def _failure_outcome(failure: BaseException, handle: OpenEntry) -> tuple[str, str]:
    if says_outcome_unknown(failure):
        message = failure.user_message if isinstance(failure, UserFacingError) else str(failure)
        return AuditEntry.Outcome.UNKNOWN, message
    if isinstance(failure, UserFacingError):
        return AuditEntry.Outcome.FAILED, failure.user_message
    error = {"error": type(failure).__name__}
    if handle.sent:
        return AuditEntry.Outcome.UNKNOWN, _(
            "The dashboard stopped with an unexpected error (%(error)s) after sending the change."
        ) % error
    return AuditEntry.Outcome.FAILED, _(
        "The dashboard stopped with an unexpected error (%(error)s); nothing was sent."
    ) % error


@contextmanager
def audit_job(job_id: object, *, on_open: Callable[[AuditEntry], None] | None = None) -> Iterator[None]:
    """Every entry `audited(...)` writes inside this block names the bulk fix `job_id`, however deep
    the write is made (the job calls the owning app's service, which opens the entry). `on_open` is
    given each entry as it is written, in the same transaction, before anything is sent: the job keeps
    it, so its recovery (audited_recover) closes exactly that entry."""
    job_token, open_token = _current_job.set(str(job_id)[:36]), _on_open.set(on_open)
    try:
        yield
    finally:
        _on_open.reset(open_token)
        _current_job.reset(job_token)


@contextmanager
def audited(
    *,
    actor: Actor,
    action: str,
    order_number: int | None = None,
    order_id: str = "",
    download_id: str = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
    undo_of: AuditEntry | None = None,
    job_id: str = "",
) -> Iterator[OpenEntry]:
    """Write-ahead audit for one write: the entry is `pending` before the block runs, then closed.

    `job_id` names the bulk fix making the write (by default the one `audit_job` set, if any).

    On a normal exit the outcome is success; an exception closes it as failed (with the exception's
    `user_message`) or outcome unknown (an exception that says so) and is re-raised. If the pending
    entry cannot be written, AuditUnavailable is raised and the block never runs: nothing is sent.
    """
    user = _signed_in(actor)
    job = job_id or _current_job.get()
    opened = _on_open.get()

    def write_ahead() -> AuditEntry:
        entry = AuditEntry.objects.create(
            actor=user,
            actor_name=actor_name(user),
            action=action,
            order_number=order_number,
            order_id=order_id,
            download_id=download_id,
            before=storable(before),
            after=storable(after),
            reason=storable(reason),
            outcome=AuditEntry.Outcome.PENDING,
            undo_of=undo_of,
            job_id=job,
        )
        if opened is not None:
            opened(entry)  # the entry and the job's note of it are written together, or neither
        return entry

    try:
        entry = _with_retries(write_ahead, f"write a {action} entry")
    except DatabaseError as failure:
        raise AuditUnavailable() from failure
    handle = OpenEntry(
        entry=entry,
        before=before,
        after=after,
        order_number=order_number,
        order_id=order_id,
        download_id=download_id,
    )
    try:
        yield handle
    except BaseException as failure:
        _close(handle, *_failure_outcome(failure, handle))
        raise
    _close(handle, AuditEntry.Outcome.SUCCESS, "")


def audited_recover(*, entry_id: int, saved: bool, verified: str, error: str = "") -> bool:
    """Close an entry its `audited(...)` left pending because its process stopped mid-write, with what
    reading the upstream back found (`saved` or not). Keyed by the entry itself, never found by record
    or time: a colleague's write to the same record meanwhile keeps its own entry. False when the entry
    was not pending (its `audited` closed it)."""
    return AuditEntry.objects.close_pending(
        entry_id,
        outcome=AuditEntry.Outcome.SUCCESS if saved else AuditEntry.Outcome.FAILED,
        error="" if saved else error,
        verified=storable(verified[:200]),
        finished_at=timezone.now(),
    )


# --- Reading the trail ---------------------------------------------------------------------------


def audit_entries_for_order(*, order_number: int, limit: int = 50) -> list[AuditEntry]:
    """The order's timeline: every entry that names it, newest first, each with its undos (`undone_by`),
    read by one more query only when there are entries; kept in the shared cache until the trail changes
    (fileflare_admin.kept). Written as SQL: the order page reads it on every load, and compiling the
    ORM's query cost more than running it (issue 28)."""

    def query() -> list[AuditEntry]:
        entries = list(AuditEntry.objects.raw(_order_entries_sql(), [order_number, limit]))
        if entries:
            prefetch_related_objects(entries, "undone_by")
        return entries

    return kept.read(kept.AUDIT, ("order entries", order_number, limit), query)


@functools.cache
def _order_entries_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in AuditEntry._meta.concrete_fields)
    return (
        f"SELECT {columns} FROM {quote(AuditEntry._meta.db_table)} WHERE {quote('order_number')} = %s"  # noqa: S608
        f" ORDER BY {quote('created_at')} DESC, {quote('id')} DESC LIMIT %s"  # the model's ordering
    )


def audit_entry_get(*, pk: int) -> AuditEntry:
    """One entry with what its row shows; AuditEntry.DoesNotExist when there is none."""
    return AuditEntry.objects.select_related("actor").prefetch_related("undone_by").get(pk=pk)


def download_ids_recorded(*, download_ids: Iterable[str], actions: Iterable[str]) -> set[str]:
    """Which of these download ids a successful entry of these actions already names (made by us)."""
    ids = [download_id for download_id in download_ids if download_id]
    if not ids:
        return set()
    return set(
        AuditEntry.objects.filter(
            download_id__in=ids, action__in=list(actions), outcome=AuditEntry.Outcome.SUCCESS
        ).values_list("download_id", flat=True)
    )
