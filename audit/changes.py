"""An entry's before/after as the log shows it: the changed fields, then the rest for context. Pure over
the entry's fields and what its app registered (audit.registry); unit-tested without a database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from audit.models import AuditEntry
from audit.registry import audit_action, secret_shown_to


@dataclass(frozen=True)
class Change:
    """One field of an entry's before/after, as shown. A secret's values are masked in the template
    (audit_log's `masked` filter) for whoever lacks the permission named by `secret`."""

    name: str
    before: str
    after: str
    secret: str = ""  # the `may` permission that shows this field; "" when it is no secret


@dataclass(frozen=True)
class Changes:
    """What an entry's row shows: the changed fields, then the rest folded away under `rest_label`."""

    changed: list[Change]
    rest: list[Change]
    rest_label: str


def _named(item: Any) -> str:
    """One item of a listed value: a file by its name ({id, filename}), anything else as text."""
    if isinstance(item, dict):
        return str(item.get("filename") or item.get("id") or "")
    return str(item)


def _shown(value: Any) -> str:
    """A value of a before/after as a person reads it."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        # Files attached or detached ({id, filename} each) by name, never as a Python list.
        return ", ".join(_named(item) for item in value) if value else _("(none)")
    if isinstance(value, bool):
        return pgettext("value", "yes") if value else pgettext("value", "no")
    if value == "":
        return _("(empty)")
    return str(value)


def _rest_label(entry: AuditEntry, *, one_sided: bool, before: Any, after: Any, count: int) -> str:
    action = audit_action(entry.action)
    side = action.record_side if action is not None else None
    if side == "before" and before:
        assert action is not None
        label = action.record_label
    elif one_sided and after and entry.succeeded:
        label = action.record_label if action is not None and side == "after" else pgettext("side", "after")
    elif one_sided and after:
        label = _("what was sent")
    elif one_sided:
        label = pgettext("side", "before")
    else:
        label = _("unchanged fields")
    return f"{label} ({count})"


def _change(name: str, before: str, after: str) -> Change:
    return Change(name, before, after, secret=secret_shown_to(name))


def entry_changes(entry: AuditEntry) -> Changes:
    """The entry's changed fields (before → after), and the others for context.

    An entry whose app registered it as holding one whole record (a create, a restore, a delete: the
    record made, or the record removed) has all of its fields as context. A secret (the S3 key) is
    marked, to be masked for whoever may not see it; a change to it still shows as a change.
    """
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    action = audit_action(entry.action)

    changed: list[Change] = []
    rest: list[Change] = []
    one_sided = (action is not None and action.record_side is not None) or not before or not after
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if not one_sided and name in before and name in after and old != new:
            changed.append(_change(name, _shown(old), _shown(new)))
        else:
            # Unchanged, or on one side only: a refused edit, say, records what was asked for next
            # to the whole record as it was.
            value = new if name in after and (one_sided or name not in before) else old
            rest.append(_change(name, _shown(value), _shown(value)))
    label = _rest_label(entry, one_sided=one_sided, before=before, after=after, count=len(rest))
    return Changes(changed=changed, rest=rest, rest_label=label)


def cut_around_difference(before: str, after: str, length: int = 40) -> tuple[str, str]:
    """Both values cut to at most `length` characters so that where they differ is in view: when the
    first difference lies beyond the cut, both start a little before it ("…" marks a cut at either end).
    Two long values alike at the start never read the same."""
    if len(before) <= length and len(after) <= length:
        return before, after
    same = next((at for at, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
                min(len(before), len(after)))
    context = length // 3
    start = same - context if same >= length - context else 0
    return _cut(before, start, length), _cut(after, start, length)


def _cut(text: str, start: int, length: int) -> str:
    lead = "…" if start > 0 else ""
    body = text[start:]
    room = length - len(lead)
    return lead + (body if len(body) <= room else body[: room - 1].rstrip() + "…")
