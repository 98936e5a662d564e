"""What each app tells the audit trail about its own writes: the actions it records, how the log names
them and shows their before/after, how an entry is undone, and which fields are secrets.

A write is declared once, at module level in the service module that performs it, in one statement
that returns the code the service writes its entries under:

    DELETE = declare_write("download_record_delete", "Deleted download record", record_side="before",
                           record_label="the deleted record", undo=RestoreDeleted())
    register_secret_field("amazon_key", shown_to="see_amazon_key")

The app's AppConfig.ready() imports its service modules, so each declaration runs once per process,
when the models can be imported. The trail itself knows no app: an entry's `action` is a code some app
declared (AuditEntry.save refuses any other), and the log's filter, the admin, every label and undo
(audit.undo) read this registry at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django_stubs_ext import StrOrPromise

if TYPE_CHECKING:
    from audit.models import AuditEntry
    from audit.undo import UndoHandler

Side = Literal["before", "after"]
# The change an entry's row states in brief (the order page's timeline): (before, after), or None.
Headline = Callable[["AuditEntry"], tuple[Any, Any] | None]
# A reason the app wrote itself (kept as written) in the reader's language; None for a reason it did not
# write (a person's, shown as typed).
ReasonRead = Callable[[str], str | None]


@dataclass(frozen=True)
class AuditAction:
    """One kind of write an app records.

    `record_side`: an entry that holds one whole record on one side only ("after": the record as
    created; "before": the record as it was when deleted); its fields are all context, none a change.
    `record_label` is what the log calls that side. `headline` states the change in brief. `undo`
    takes a successful entry back from the log (audit.undo.UndoHandler), or None when it cannot be.
    `reason_read` reads a reason the app wrote itself in the reader's language (audit_log's
    `reason_read` filter shows every reason through it).
    """

    code: str
    label: StrOrPromise  # lazily translated: the log shows it in the reader's language
    record_side: Side | None = None
    record_label: StrOrPromise = ""
    headline: Headline | None = None
    undo: UndoHandler | None = field(default=None, compare=False)
    reason_read: ReasonRead | None = field(default=None, compare=False)


_actions: dict[str, AuditAction] = {}
# A secret field's name → the `may` permission (staff.roles.Permissions) that lets a person see it.
_secrets: dict[str, str] = {}


def declare_write(
    code: str,
    label: StrOrPromise,
    *,
    record_side: Side | None = None,
    record_label: StrOrPromise = "",
    headline: Headline | None = None,
    undo: UndoHandler | None = None,
    reason_read: ReasonRead | None = None,
) -> str:
    """Let entries of `code` be written, say how the log shows them and how one is undone; returns
    `code`. Declared at module level in the service module that performs the write (see above)."""
    action = AuditAction(code, label, record_side, record_label, headline, undo, reason_read)
    registered = _actions.get(code)
    if registered is not None and (registered != action or type(registered.undo) is not type(undo)):
        raise ValueError(f"The audit action {code!r} is already registered as {registered.label!r}.")
    if registered is None:  # the same declared again keeps the first (its label may be lazily translated)
        _actions[code] = action
    return code


def register_secret_field(name: str, *, shown_to: str) -> None:
    """Mask field `name` in the log's before/after for whoever lacks the `shown_to` permission."""
    registered = _secrets.get(name)
    if registered is not None and registered != shown_to:
        raise ValueError(f"The secret field {name!r} is already shown to {registered!r}.")
    _secrets[name] = shown_to


def audit_action(code: str) -> AuditAction | None:
    return _actions.get(code)


def undo_handler(code: str) -> UndoHandler | None:
    """How entries of `code` are undone, when they can be."""
    action = _actions.get(code)
    return action.undo if action is not None else None


def record_removing_actions() -> list[str]:
    """The writes whose entry keeps a whole record as it was before (`record_side="before"`): those that
    remove it. After one of them succeeded, no other entry of that record can be undone."""
    return [action.code for action in _actions.values() if action.record_side == "before"]


def action_label(code: str) -> str:
    """How the log names an action; an unregistered code (an app since removed) as itself."""
    action = _actions.get(code)
    return str(action.label) if action is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, label) of every registered action, in the order the apps registered them."""
    return [(action.code, str(action.label)) for action in _actions.values()]


def secret_shown_to(name: str) -> str:
    """The permission that shows field `name`, or "" when it is no secret."""
    return _secrets.get(name, "")


def validate_action(code: str) -> None:
    """The `action` field's validator: only a registered action may be written."""
    if code not in _actions:
        raise ValidationError(f"{code!r} is not an audit action any app registered.", code="invalid_choice")
