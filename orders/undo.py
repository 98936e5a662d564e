"""Undo of attaching and detaching files, registered with the audit log in OrdersConfig.ready().

The rules, pure over an entry's fields:
- a successful attach is undone by detaching exactly the files it attached (not those the order already
  had); a successful detach by attaching back exactly the files it removed;
- the undo is itself audited as an attach or detach with `undo_of`, and is not undone from the log.
Roles: undoing an attach is a detach (Merchant); undoing a detach is an attach (Support too).
"""

from typing import Any, Literal

from audit.models import AuditEntry
from audit.services import Actor
from audit.undo import CannotUndo, Undone, register_undo
from orders.attachments import Change, order_assets_change
from orders.audit_actions import Action
from staff import roles

Kind = Literal["detach", "attach"]


def _files(entry: AuditEntry, key: str) -> list[dict[str, Any]]:
    after = entry.after if isinstance(entry.after, dict) else {}
    listed = after.get(key)
    if not isinstance(listed, list):
        return []
    return [item for item in listed if isinstance(item, dict) and item.get("id")]


def undo_kind(entry: AuditEntry) -> Kind | None:
    """"detach" (of an attach) or "attach" (of a detach) when the entry changed files and is no undo."""
    if entry.undo_of_id is not None or not entry.order_id:
        return None
    if entry.action == Action.ORDER_ASSETS_ATTACH and _files(entry, "attached"):
        return "detach"
    if entry.action == Action.ORDER_ASSETS_DETACH and _files(entry, "detached"):
        return "attach"
    return None


def undo_files(entry: AuditEntry) -> list[dict[str, Any]]:
    """The files an undo of this entry changes back: exactly those the entry changed."""
    return _files(entry, "attached" if entry.action == Action.ORDER_ASSETS_ATTACH else "detached")


def undo_description(entry: AuditEntry) -> str:
    kind = undo_kind(entry)
    if kind is None:
        return "This entry cannot be undone."
    names = ", ".join(f"“{item.get('filename') or item['id']}”" for item in undo_files(entry))
    where = f"order #{entry.order_number}" if entry.order_number else "the order"
    if kind == "detach":
        return f"Detach {names} from {where} again (the files this entry attached)."
    return f"Attach {names} to {where} again (the files this entry detached)."


class OrderAssetsUndo:
    """audit.undo.UndoHandler for attaching and detaching files."""

    def kind(self, entry: AuditEntry) -> str | None:
        return undo_kind(entry)

    def description(self, entry: AuditEntry) -> str:
        return undo_description(entry)

    def refusal(self, actor: Actor, entry: AuditEntry) -> str | None:
        try:
            roles.require(roles.as_person(actor), "detach" if undo_kind(entry) == "detach" else "attach")
        except roles.NotAllowed as refused:
            return refused.user_message
        return None

    def perform(self, actor: Actor, entry: AuditEntry, reason: str) -> Undone:
        kind = undo_kind(entry)
        if kind is None:
            raise CannotUndo(undo_description(entry))
        change: Change = kind
        files = undo_files(entry)
        done = order_assets_change(
            actor=roles.as_person(actor),
            order_id=entry.order_id,
            change=change,
            asset_ids=tuple(str(item["id"]) for item in files),
            reason=reason,
            undo_of=entry,
        )
        names = ", ".join(f"“{asset.filename}”" for asset in done.changed) or "nothing (already so)"
        verb = "Detached" if change == "detach" else "Attached"
        checked = " (checked at the API)" if done.checked else ""
        return Undone(entry=done.entry, message=f"{verb} {names}{checked}.")


def register() -> None:
    handler = OrderAssetsUndo()
    register_undo(Action.ORDER_ASSETS_ATTACH, handler)
    register_undo(Action.ORDER_ASSETS_DETACH, handler)
