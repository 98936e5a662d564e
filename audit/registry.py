"""What each app tells the audit trail about its own writes: the actions it records, how the log names
them and shows their before/after, and which fields are secrets. Apps register at AppConfig.ready(),
as they register their undo rules (audit.undo):

    register_action("download_record_delete", "Deleted download record", record_side="before",
                    record_label="the deleted record")
    register_secret_field("amazon_key", shown_to="see_amazon_key")

The trail itself knows no app: an entry's `action` is a code some app registered (AuditEntry.save
refuses any other), and the log's filter, the admin and every label read this registry at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from audit.models import AuditEntry

Side = Literal["before", "after"]
# The change an entry's row states in brief (the order page's timeline): (before, after), or None.
Headline = Callable[["AuditEntry"], tuple[Any, Any] | None]


@dataclass(frozen=True)
class AuditAction:
    """One kind of write an app records.

    `record_side`: an entry that holds one whole record on one side only ("after": the record as
    created; "before": the record as it was when deleted); its fields are all context, none a change.
    `record_label` is what the log calls that side. `headline` states the change in brief.
    """

    code: str
    label: str
    record_side: Side | None = None
    record_label: str = ""
    headline: Headline | None = None


_actions: dict[str, AuditAction] = {}
# A secret field's name → the `may` permission (staff.roles.Permissions) that lets a person see it.
_secrets: dict[str, str] = {}


def register_action(
    code: str,
    label: str,
    *,
    record_side: Side | None = None,
    record_label: str = "",
    headline: Headline | None = None,
) -> None:
    """Let entries of `code` be written, and say how the log shows them (call from AppConfig.ready())."""
    action = AuditAction(code, label, record_side, record_label, headline)
    registered = _actions.get(code)
    if registered is not None and registered != action:
        raise ValueError(f"The audit action {code!r} is already registered as {registered.label!r}.")
    _actions[code] = action


def register_secret_field(name: str, *, shown_to: str) -> None:
    """Mask field `name` in the log's before/after for whoever lacks the `shown_to` permission."""
    registered = _secrets.get(name)
    if registered is not None and registered != shown_to:
        raise ValueError(f"The secret field {name!r} is already shown to {registered!r}.")
    _secrets[name] = shown_to


def audit_action(code: str) -> AuditAction | None:
    return _actions.get(code)


def action_label(code: str) -> str:
    """How the log names an action; an unregistered code (an app since removed) as itself."""
    action = _actions.get(code)
    return action.label if action is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, label) of every registered action, in the order the apps registered them."""
    return [(action.code, action.label) for action in _actions.values()]


def secret_shown_to(name: str) -> str:
    """The permission that shows field `name`, or "" when it is no secret."""
    return _secrets.get(name, "")


def validate_action(code: str) -> None:
    """The `action` field's validator: only a registered action may be written."""
    if code not in _actions:
        raise ValidationError(f"{code!r} is not an audit action any app registered.", code="invalid_choice")
