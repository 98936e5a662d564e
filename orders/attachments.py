"""Attaching files to one order and detaching them: the asset picker's search and the two writes.

Both writes follow the rule every write does: the audit entry is written first (before and after as
lists of asset IDs and file names), the role is checked in the service, and an unclear answer (timeout,
5xx, unreadable body) is resolved by reading the order again — its own files say whether the change
happened. Only files attached to the order itself can be detached; files that come through its products
belong to the product.

Changes to one order's files are serialised on every worker and machine by the order's lock in the
shared cache (the lock a count fix holds on its record): each reads the order fresh, sends, and reads it
fresh again with nobody else's change in between, so its entry's before and after, and what it says it
changed, are its own.

Undo, declared with the two writes (ATTACH, DETACH):
- a successful attach is undone by detaching exactly the files it attached (not those the order already
  had); a successful detach by attaching back exactly the files it removed;
- only while those files are as the entry left them: a later change of one of them in the trail, or a
  fresh read showing it otherwise, refuses the undo (UndoFilesConflict, "changed again since"), checked
  under the order's lock;
- the undo is itself audited as an attach or detach with `undo_of`, and is not undone from the log.
Roles: undoing an attach is a detach (Merchant); undoing a detach is an attach (Support too).
"""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from audit.models import AuditEntry
from audit.registry import declare_write
from audit.services import CHECKED_AT_THE_API, Actor, OpenEntry, audited
from audit.undo import CannotUndo, Undone
from fileflare_admin import clock
from fileflare_admin.api import fileflare, types, validators
from fileflare_admin.api.cache import shared_lock, write_lock_seconds
from fileflare_admin.api.errors import (
    ApiError,
    BadResponse,
    InvalidIdentifier,
    NotFound,
    OutcomeUnknown,
    Unavailable,
    ValidationFailed,
)
from fileflare_admin.sentences import UserFacingError
from orders.identity import order_number_for_id
from orders.links import customer_view_fresh
from orders.models import KnownCustomerToken
from orders_index.services import order_index_note
from staff import roles

logger = logging.getLogger(__name__)
Change = Literal["attach", "detach"]
PICKER_PER_PAGE = 10
MAX_ASSETS = 50  # one change names at most this many files
UNCLEAR = (Unavailable, BadResponse)
# How long a change waits for a colleague's change to the same order's files before being told to retry.
ORDER_LOCK_WAIT = 15.0


class NoFilesChosen(UserFacingError):
    default_message = gettext_lazy("Choose at least one file first.")


class UnknownAsset(UserFacingError):
    """Fileflare refused a chosen file (404 or 422): nothing was changed."""


class AssetsOutcomeUnknown(OutcomeUnknown):
    outcome_unknown = True
    default_message = gettext_lazy(
        "Fileflare did not answer clearly and the order could not be read again, so we cannot tell "
        "whether the files changed. Reload the order to see its files before trying again."
    )


class UndoFilesConflict(CannotUndo):
    """The files an entry changed were changed again since (in the trail, or as Fileflare has them now):
    undoing it would overwrite that. Nothing was sent; the attempt is in the trail as failed."""


@dataclass(frozen=True)
class AssetsChanged:
    """What an attach or detach did, as read back from Fileflare afterwards."""

    change: Change
    order: types.Order  # as Fileflare answers it after the change
    changed: tuple[types.Asset, ...]  # attached (or detached) by this change; not those already so
    requested: tuple[str, ...]
    entry: AuditEntry
    checked: bool  # the answer was unclear: the order was read again to know
    customer: types.CustomerView | None = None  # the customer's page afterwards, when it is known
    customer_error: str = ""


# --- Undo (the rules, then the handler the audit log calls) ---------------------------------------


def _files(entry: AuditEntry, key: str) -> list[dict[str, Any]]:
    after = entry.after if isinstance(entry.after, dict) else {}
    listed = after.get(key)
    if not isinstance(listed, list):
        return []
    return [item for item in listed if isinstance(item, dict) and item.get("id")]


def undo_kind(entry: AuditEntry) -> Change | None:
    """"detach" (of an attach) or "attach" (of a detach) when the entry changed files and is no undo."""
    if entry.undo_of_id is not None or not entry.order_id:
        return None
    if entry.action == ATTACH and _files(entry, "attached"):
        return "detach"
    if entry.action == DETACH and _files(entry, "detached"):
        return "attach"
    return None


def undo_files(entry: AuditEntry) -> list[dict[str, Any]]:
    """The files an undo of this entry changes back: exactly those the entry changed."""
    return _files(entry, "attached" if entry.action == ATTACH else "detached")


def undo_description(entry: AuditEntry) -> str:
    kind = undo_kind(entry)
    if kind is None:
        return _("This entry cannot be undone.")
    values = {"names": _names(undo_files(entry)), "number": entry.order_number}
    if kind == "detach":
        if entry.order_number:
            return _(
                "Detach %(names)s from order #%(number)s again (the files this entry attached)."
            ) % values
        return _("Detach %(names)s from the order again (the files this entry attached).") % values
    if entry.order_number:
        return _("Attach %(names)s to order #%(number)s again (the files this entry detached).") % values
    return _("Attach %(names)s to the order again (the files this entry detached).") % values


def _names(files: list[dict[str, Any]]) -> str:
    return quoted_names(str(item.get("filename") or item["id"]) for item in files)


def quoted_names(names: Iterable[str]) -> str:
    """Files' names, each quoted as the person's language quotes a name (“Book”, « Book »), with commas."""
    return ", ".join(pgettext("a name quoted in a sentence", "“%(name)s”") % {"name": name} for name in names)


def changed_since(entry: AuditEntry) -> list[AuditEntry]:
    """The successful attaches and detaches of the same order, finished after `entry`, that changed one
    of the files it changed, oldest first. Finished, not started: changes of one order's files are
    serialised by its lock and each is closed as it lets go, so this is the order they happened in."""
    mine = {str(item["id"]) for item in undo_files(entry)}
    later = AuditEntry.objects.filter(
        order_id=entry.order_id,
        action__in=(ATTACH, DETACH),
        outcome=AuditEntry.Outcome.SUCCESS,
        finished_at__gt=entry.finished_at or entry.created_at,
    ).exclude(pk=entry.pk)
    return [
        other
        for other in later.order_by("finished_at", "pk")
        if mine & {str(item["id"]) for item in undo_files(other)}
    ]


def undo_conflict(entry: AuditEntry, order: types.Order) -> UndoFilesConflict | None:
    """Why undoing `entry` would overwrite a later change of its files, given the order as read fresh
    (under its lock): a later change in the trail (named, the latest last), or the files not as the entry
    left them. None when the undo may go ahead."""
    files = undo_files(entry)
    later = changed_since(entry)
    if later:
        touched = {str(item["id"]) for other in later for item in undo_files(other)}
        again = [item for item in files if str(item["id"]) in touched]
        shown = later[-3:]
        what = _(", then ").join(_change_named(other) for other in shown)
        if len(later) > len(shown):
            more = len(later) - len(shown)
            what = ngettext(
                "%(count)s more change, then %(changes)s", "%(count)s more changes, then %(changes)s", more
            ) % {"count": more, "changes": what}
        return UndoFilesConflict(
            ngettext(
                "%(names)s was changed again since: %(changes)s; undo would overwrite that.",
                "%(names)s were changed again since: %(changes)s; undo would overwrite that.",
                len(again),
            )
            % {"names": _names(again), "changes": what}
        )
    attached = {asset.id for asset in order.assets}
    left_attached = entry.action == ATTACH  # the state the entry left its files in
    moved = [item for item in files if (str(item["id"]) in attached) != left_attached]
    if not moved:
        return None
    values = {"names": _names(moved)}
    if left_attached:
        said = ngettext(
            "%(names)s was changed again since (now not attached to the order), so there is nothing to "
            "undo.",
            "%(names)s were changed again since (now not attached to the order), so there is nothing to "
            "undo.",
            len(moved),
        )
    else:
        said = ngettext(
            "%(names)s was changed again since (now attached to the order), so there is nothing to undo.",
            "%(names)s were changed again since (now attached to the order), so there is nothing to undo.",
            len(moved),
        )
    return UndoFilesConflict(said % values)


def _change_named(other: AuditEntry) -> str:
    """A later change of the same files, as an undo's refusal names it."""
    values = {
        "name": other.actor_name,
        "time": clock.date_time(other.finished_at or other.created_at, seconds=True),
        "entry": other.pk,
    }
    if other.action == ATTACH:
        return _("attached by %(name)s at %(time)s (entry #%(entry)s)") % values
    return _("detached by %(name)s at %(time)s (entry #%(entry)s)") % values


@contextmanager
def order_assets_lock(order_id: str) -> Iterator[None]:
    """One change of this order's files at a time, on every worker and machine: the shared cache's lock,
    as a count fix holds its record's (downloads.services.record_lock)."""
    name = f"order_assets:{validators.order_id(order_id)}"  # one key however the ID was written
    with shared_lock(name, write_lock_seconds(), wait=ORDER_LOCK_WAIT):
        yield


class OrderAssetsUndo:
    """audit.undo.UndoHandler for attaching and detaching files."""

    def kind(self, entry: AuditEntry) -> str | None:
        return undo_kind(entry)

    def description(self, entry: AuditEntry) -> str:
        return undo_description(entry)

    def refusal(self, actor: Actor, entry: AuditEntry) -> str | None:
        return roles.refusal(roles.as_person(actor), "detach" if undo_kind(entry) == "detach" else "attach")

    def perform(self, actor: Actor, entry: AuditEntry, reason: str) -> Undone:
        kind = undo_kind(entry)
        if kind is None:
            raise CannotUndo(undo_description(entry))
        files = undo_files(entry)
        done = order_assets_change(
            actor=roles.as_person(actor),
            order_id=entry.order_id,
            change=kind,
            asset_ids=tuple(str(item["id"]) for item in files),
            reason=reason,
            undo_of=entry,
        )
        names = quoted_names(asset.filename for asset in done.changed) or _("nothing (already so)")
        if kind == "detach":
            said = _("Detached %(names)s (checked at the API).") if done.checked else _("Detached %(names)s.")
        else:
            said = _("Attached %(names)s (checked at the API).") if done.checked else _("Attached %(names)s.")
        return Undone(entry=done.entry, message=said % {"names": names})


ATTACH = declare_write("order_assets_attach", gettext_lazy("Attached files to order"), undo=OrderAssetsUndo())
DETACH = declare_write(
    "order_assets_detach", gettext_lazy("Detached files from order"), undo=OrderAssetsUndo()
)


# --- The picker's search and the two writes ---------------------------------------------------


def asset_search(*, filename: str, page: int = 1) -> types.Fetched[types.Page[types.Asset]]:
    """Fileflare's files whose name contains `filename`, a page at a time (cached, within the budget)."""
    return fileflare.asset_list(filename=filename.strip() or None, page=max(page, 1), limit=PICKER_PER_PAGE)


def _listed(assets: tuple[types.Asset, ...] | list[types.Asset]) -> list[dict[str, Any]]:
    return [{"id": asset.id, "filename": asset.filename} for asset in assets]


def asset_ids(values: list[str]) -> tuple[str, ...]:
    """The chosen asset IDs, checked and in canonical form, each once (NoFilesChosen when none)."""
    chosen: dict[str, None] = {}
    for value in values[:MAX_ASSETS]:
        try:
            chosen[validators.order_id(value.strip())] = None  # an asset ID is a UUID like an order's
        except InvalidIdentifier:
            continue
    if not chosen:
        raise NoFilesChosen()
    return tuple(chosen)


def _read_back(audit: OpenEntry, order_id: str) -> types.Order:
    try:
        fetched = fileflare.order_get(order_id=order_id, fresh=True)
    except ApiError as unreadable:
        raise AssetsOutcomeUnknown() from unreadable
    audit.verified = CHECKED_AT_THE_API
    return fetched.value


def _note_in_index(order: types.Order) -> None:
    """The order's files as Fileflare has them after the change go into the order index at once (the
    Orders page counts them from it). The write is done and audited: the index failing must not undo
    that; the sync brings the index up to date later."""
    try:
        order_index_note(order)
    except DatabaseError as error:
        logger.warning("order index not updated after an attach or detach: %s", type(error).__name__)


def _customer_after(order_number: int) -> tuple[types.CustomerView | None, str]:
    token = KnownCustomerToken.token_for(order_number)
    if not token:
        return None, ""
    try:
        return customer_view_fresh(token).value, ""
    except ApiError as failed:
        return None, failed.user_message


def _change_locked(
    audit: OpenEntry,
    order_id: str,
    change: Change,
    asset_ids: tuple[str, ...],
    undo_of: AuditEntry | None,
) -> tuple[types.Order, tuple[types.Asset, ...], bool]:
    """Read the order fresh, check, send, and read it fresh again (under the order's lock): the order
    afterwards, the files this change changed, and whether the answer was unclear and read back."""
    before = fileflare.order_get(order_id=order_id, fresh=True).value  # what this change starts from
    audit.order_number = before.order_number
    audit.before = {"assets": _listed(before.assets)}
    if undo_of is not None:
        conflict = undo_conflict(undo_of, before)
        if conflict is not None:
            raise conflict
    if change == "detach":
        own = {asset.id for asset in before.assets}
        if not set(asset_ids) <= own:
            raise NoFilesChosen(
                _(
                    "Only files attached to the order itself can be detached, and a chosen file is not "
                    "(now): someone may have detached it meanwhile, or it comes through one of the order's "
                    "products and belongs to the product. Nothing was changed."
                )
            )
    audit.sent = True
    send = fileflare.order_attach_assets if change == "attach" else fileflare.order_detach_assets
    checked = False
    try:
        send(order_id=order_id, asset_ids=list(asset_ids))
        # Past the cache: a colleague's read that began before the write may have just saved the order
        # as it was, marked fresh.
        after = fileflare.order_get(order_id=order_id, fresh=True).value
    except (NotFound, ValidationFailed) as refused:
        raise UnknownAsset(
            _(
                "Fileflare refused: %(why)s One of the chosen files may have been deleted meanwhile; "
                "search again. Nothing was changed."
            )
            % {"why": refused.user_message}
        ) from refused
    except UNCLEAR:
        after = _read_back(audit, order_id)
        checked = True
    had = {asset.id for asset in before.assets}
    has = {asset.id: asset for asset in after.assets}
    if change == "attach":
        changed = tuple(has[each] for each in asset_ids if each in has and each not in had)
        missing = [asset_id for asset_id in asset_ids if asset_id not in has]
    else:
        gone = {asset.id: asset for asset in before.assets if asset.id not in has}
        changed = tuple(gone[asset_id] for asset_id in asset_ids if asset_id in gone)
        missing = [asset_id for asset_id in asset_ids if asset_id in has]
    audit.after = {
        "assets": _listed(after.assets),
        "attached" if change == "attach" else "detached": _listed(changed),
    }
    _note_in_index(after)  # as read after the write: right even when it did not all go through
    if missing and checked:
        values = {"count": len(missing)}
        raise Unavailable(
            (
                ngettext(
                    "Fileflare did not answer clearly, and reading the order again shows %(count)s of the "
                    "chosen files not attached (checked at the API). You can try again.",
                    "Fileflare did not answer clearly, and reading the order again shows %(count)s of the "
                    "chosen files not attached (checked at the API). You can try again.",
                    len(missing),
                )
                if change == "attach"
                else ngettext(
                    "Fileflare did not answer clearly, and reading the order again shows %(count)s of the "
                    "chosen files still attached (checked at the API). You can try again.",
                    "Fileflare did not answer clearly, and reading the order again shows %(count)s of the "
                    "chosen files still attached (checked at the API). You can try again.",
                    len(missing),
                )
            )
            % values
        )
    return after, changed, checked


def order_assets_change(
    *,
    actor: roles.AnyUser,
    order_id: str,
    change: Change,
    asset_ids: tuple[str, ...],
    reason: str = "",
    undo_of: AuditEntry | None = None,
) -> AssetsChanged:
    """Attach these files to the order, or detach them from it; verified by reading the order again.

    Raises NotAllowed (Support may attach, not detach), NoFilesChosen, AuditUnavailable (nothing sent),
    the API's errors (404 for an unknown file, 422), AssetsOutcomeUnknown when it cannot be known."""
    with audited(
        actor=actor,
        action=ATTACH if change == "attach" else DETACH,
        order_id=order_id,
        order_number=order_number_for_id(order_id),
        after={"requested": list(asset_ids)},
        reason=reason,
        undo_of=undo_of,
    ) as audit:
        roles.require(actor, change)
        if not asset_ids:
            raise NoFilesChosen()
        with order_assets_lock(order_id):  # nobody else's change between our two reads, on any machine
            after, changed, checked = _change_locked(audit, order_id, change, asset_ids, undo_of)
    customer, customer_error = _customer_after(after.order_number)
    return AssetsChanged(
        change=change,
        order=after,
        changed=changed,
        requested=asset_ids,
        entry=audit.entry,
        checked=checked,
        customer=customer,
        customer_error=customer_error,
    )
