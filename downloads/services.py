"""Download records: what a person does with them, with roles checked and every attempt audited.

The downloads API has no versions or ETags, so "nobody silently overwrites a colleague" is done here:
each write names the record as the person last saw it, the service reads it again past the cache and
refuses (EditConflict) when it has changed meanwhile. The window between that read and the write is
one round trip; the API offers nothing tighter.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.crypto import constant_time_compare, salted_hmac

from audit.models import AuditEntry
from audit.services import audit_record
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import errors, types
from staff import roles

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | AnonymousUser | None

# The DownloadItem fields, in the API's own order and names.
RECORD_FIELDS: tuple[str, ...] = (
    "download_id",
    "date_created",
    "product_id",
    "order_id",
    "download_count",
    "download_file_name",
    "is_amazon",
    "amazon_key",
)
# What a create or an update may send.
WRITABLE_FIELDS: tuple[str, ...] = (
    "product_id",
    "order_id",
    "download_count",
    "download_file_name",
    "is_amazon",
    "amazon_key",
)
FIELD_LABELS: dict[str, str] = {
    "download_id": "download ID",
    "date_created": "created",
    "product_id": "product ID",
    "order_id": "order number",
    "download_count": "download count",
    "download_file_name": "file name",
    "is_amazon": "on S3",
    "amazon_key": "S3 key",
}
SORTABLE_FIELDS = frozenset(RECORD_FIELDS)
PER_PAGE_CHOICES: tuple[int, ...] = (25, 50, 100)
# How many records of one order are fetched in the single call the order page makes.
ORDER_RECORDS_LIMIT = 100

_KEY_DIGEST_SALT = "downloads.amazon_key"


class EditConflict(Exception):
    """The record changed at the API since the person loaded it; nothing was written.

    `current` is the record as it is now; `changed` names the fields that differ from what was loaded.
    str() is the sentence shown to the person.
    """

    def __init__(self, current: types.DownloadRecord, changed: tuple[str, ...], sentence: str) -> None:
        super().__init__(sentence)
        self.current = current
        self.changed = changed
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence


# --- Snapshots -----------------------------------------------------------------------------------


def record_snapshot(record: types.DownloadRecord) -> dict[str, Any]:
    """Every field of the record as JSON-ready values (for the audit trail and for restores)."""
    created = record.date_created
    return {
        "download_id": record.download_id,
        "date_created": created.isoformat() if created is not None else None,
        "product_id": record.product_id,
        "order_id": record.order_id,
        "download_count": record.download_count,
        "download_file_name": record.download_file_name,
        "is_amazon": record.is_amazon,
        "amazon_key": record.amazon_key,
    }


def amazon_key_digest(key: str) -> str:
    """A keyed digest of an S3 key, so a page can remember a key without showing it."""
    return salted_hmac(_KEY_DIGEST_SALT, key or "", algorithm="sha256").hexdigest()


def loaded_snapshot(record: types.DownloadRecord) -> dict[str, Any]:
    """What a form remembers of the record as loaded: the writable fields, the S3 key only as a digest.

    The form signs it (django.core.signing) but does not encrypt it, so the key itself stays out.
    """
    snapshot = {name: getattr(record, name) for name in WRITABLE_FIELDS if name != "amazon_key"}
    snapshot["download_id"] = record.download_id
    snapshot["amazon_key_digest"] = amazon_key_digest(record.amazon_key)
    # Shown again on the page after a refused or failed save (signing takes text, not datetimes).
    snapshot["date_created"] = record.date_created.isoformat() if record.date_created else None
    return snapshot


def _same_as_loaded(loaded: dict[str, Any], name: str, value: Any) -> bool:
    """Whether `value` equals the field as loaded. `loaded` may hold the S3 key itself or its digest."""
    if name == "amazon_key" and "amazon_key" not in loaded and "amazon_key_digest" in loaded:
        return constant_time_compare(amazon_key_digest(value or ""), str(loaded["amazon_key_digest"]))
    if name not in loaded:
        return True  # not remembered, so not compared
    if name == "amazon_key":
        return (loaded[name] or "") == (value or "")
    return loaded[name] == value


def fields_changed(loaded: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The writable fields in `fields` whose value differs from `loaded`."""
    return {
        name: value
        for name, value in _clean_fields(fields).items()
        if not _same_as_loaded(loaded, name, value)
    }


def changed_since_loaded(loaded: dict[str, Any], current: types.DownloadRecord) -> tuple[str, ...]:
    """The writable fields whose value at the API differs from the one the person loaded."""
    return tuple(
        name for name in WRITABLE_FIELDS if not _same_as_loaded(loaded, name, getattr(current, name))
    )


def _field_list(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(FIELD_LABELS.get(name, name) for name in names)


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Only the fields the API accepts on a write, in its order."""
    return {name: fields[name] for name in WRITABLE_FIELDS if name in fields}


def _order_number(value: Any) -> int | None:
    """The shop order number a record names (its order_id), for the order's timeline."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# --- Reads ---------------------------------------------------------------------------------------


def parse_sort(sort: str | None, *, allowed: frozenset[str] = SORTABLE_FIELDS) -> tuple[str, str] | None:
    """`field` or `-field` as (sortby, sortdir); None for anything else."""
    if not sort:
        return None
    field, direction = (sort[1:], "DESC") if sort.startswith("-") else (sort, "ASC")
    if field not in allowed:
        return None
    return field, direction


def download_list(
    *, user: Actor, q: str | None = None, sort: str | None = None, page: int = 1, per_page: int = 25
) -> types.Fetched[types.Page[types.DownloadRecord]]:
    """One page of records, searched and sorted by the API. An unknown sort is left out, never sent."""
    roles.require_staff(user)  # type: ignore[arg-type]
    sorting = parse_sort(sort)
    search = (q or "").strip() or None
    return downloads_api.record_list(
        page=max(int(page), 1),
        per_page=min(max(int(per_page), 1), max(PER_PAGE_CHOICES)),
        sortby=sorting[0] if sorting else None,
        sortdir=sorting[1] if sorting else "ASC",
        search=search,
    )


def download_records_for_order(*, order_number: int) -> types.Fetched[list[types.DownloadRecord]]:
    """The records of one shop order, oldest first, in one upstream call.

    The API's search matches order_id exactly for a number, but also product_id, so the answer is
    filtered to the order.
    """
    fetched = downloads_api.record_list(
        page=1, per_page=ORDER_RECORDS_LIMIT, sortby="date_created", sortdir="ASC", search=str(order_number)
    )
    records = [record for record in fetched.value.items if record.order_id == order_number]
    return types.Fetched(value=records, fetched_at=fetched.fetched_at, stale=fetched.stale)


def download_get(*, download_id: str, fresh: bool = False) -> types.Fetched[types.DownloadRecord]:
    return downloads_api.record_get(download_id=download_id, fresh=fresh)


# --- Writes --------------------------------------------------------------------------------------


def download_create(
    *,
    actor: Actor,
    fields: dict[str, Any],
    reason: str = "",
    action: str = AuditEntry.Action.RECORD_CREATE,
    undo_of: AuditEntry | None = None,
) -> types.DownloadRecord:
    """Create a record. Sent exactly once: the API layer never repeats a POST, and neither does this.

    A restore (action="record_restore") passes a deleted record's snapshot; only its writable fields
    are sent, and the new download_id is noted in the trail.
    """
    payload = _clean_fields(fields)
    audit = {
        "actor": actor,
        "action": action,
        "order_number": _order_number(payload.get("order_id")),
        "reason": reason,
        "undo_of": undo_of,
    }
    try:
        roles.require_can_create(actor)  # type: ignore[arg-type]
    except roles.NotAllowed as refused:
        audit_record(**audit, after=payload, error=str(refused))
        raise
    try:
        created = downloads_api.record_create(fields=payload)
    except errors.ApiError as failed:
        # OutcomeUnknown included: the trail says the outcome is unknown, in the person's words.
        audit_record(**audit, after=payload, error=str(failed))
        raise
    audit_record(
        **{**audit, "order_number": _order_number(created.order_id)},
        download_id=created.download_id,
        after=record_snapshot(created),
    )
    logger.info("download record %s created by %s", created.download_id, getattr(actor, "pk", None))
    return created


def download_update(
    *, actor: Actor, download_id: str, fields: dict[str, Any], loaded: dict[str, Any], reason: str = ""
) -> types.DownloadRecord:
    """Save the fields that differ from `loaded` (the record as the person saw it).

    Raises EditConflict, writing nothing, when the record at the API no longer matches `loaded`.
    `loaded` is a `loaded_snapshot()` or a `record_snapshot()`.
    """
    changes = fields_changed(loaded, fields)
    before_loaded = {key: value for key, value in loaded.items() if key != "amazon_key_digest"}
    audit = {
        "actor": actor,
        "action": AuditEntry.Action.RECORD_UPDATE,
        "download_id": download_id,
        "order_number": _order_number(loaded.get("order_id")),
        "reason": reason,
    }
    try:
        if set(changes) - {"download_count"}:
            roles.require_can_edit(actor)  # type: ignore[arg-type]
        if "download_count" in changes:
            old = loaded.get("download_count")
            roles.require_count_change_allowed(
                actor,  # type: ignore[arg-type]
                old=old if isinstance(old, int) else 0,
                new=changes["download_count"],
            )
    except roles.NotAllowed as refused:
        audit_record(**audit, before=before_loaded, after=changes, error=str(refused))
        raise

    try:
        current = downloads_api.record_get(download_id=download_id, fresh=True).value
    except errors.ApiError as failed:
        audit_record(**audit, before=before_loaded, after=changes, error=str(failed))
        raise
    if not changes:
        return current
    changed = changed_since_loaded(loaded, current)
    if changed:
        conflict = EditConflict(
            current,
            changed,
            f"Someone changed this record since you opened it ({_field_list(changed)}). Nothing was saved.",
        )
        audit_record(**audit, before=record_snapshot(current), after=changes, error=str(conflict))
        raise conflict

    try:
        updated = downloads_api.record_update(download_id=download_id, fields=changes)
    except errors.ApiError as failed:
        audit_record(**audit, before=record_snapshot(current), after=changes, error=str(failed))
        raise
    audit_record(
        **{**audit, "order_number": _order_number(updated.order_id)},
        before=record_snapshot(current),
        after=record_snapshot(updated),
    )
    return updated


def download_count_set(
    *,
    actor: Actor,
    download_id: str,
    count: int,
    expected: int | None,
    reason: str = "",
    action: str = AuditEntry.Action.RECORD_COUNT,
    undo_of: AuditEntry | None = None,
) -> types.DownloadRecord:
    """Set a record's download count to `count`.

    `expected` is the count the person saw; if the API holds another, EditConflict is raised and
    nothing is written. None skips that check (the role limit is then measured from the current count).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError("A download count is a whole number, 0 or more.")
    audit = {
        "actor": actor,
        "action": action,
        "download_id": download_id,
        "reason": reason,
        "undo_of": undo_of,
    }
    if expected is not None:
        try:
            roles.require_count_change_allowed(actor, old=expected, new=count)  # type: ignore[arg-type]
        except roles.NotAllowed as refused:
            audit_record(
                **audit,
                before={"download_count": expected},
                after={"download_count": count},
                error=str(refused),
            )
            raise

    try:
        current = downloads_api.record_get(download_id=download_id, fresh=True).value
    except errors.ApiError as failed:
        audit_record(
            **audit,
            before=None if expected is None else {"download_count": expected},
            after={"download_count": count},
            error=str(failed),
        )
        raise
    audit["order_number"] = _order_number(current.order_id)

    if expected is None:
        try:
            roles.require_count_change_allowed(
                actor,  # type: ignore[arg-type]
                old=current.download_count,
                new=count,
            )
        except roles.NotAllowed as refused:
            audit_record(
                **audit, before=record_snapshot(current), after={"download_count": count}, error=str(refused)
            )
            raise
    elif current.download_count != expected:
        conflict = EditConflict(
            current,
            ("download_count",),
            f"Someone changed this count from {expected} to {current.download_count} meanwhile, "
            f"so your {count} was not saved.",
        )
        audit_record(
            **audit, before=record_snapshot(current), after={"download_count": count}, error=str(conflict)
        )
        raise conflict

    if current.download_count == count and undo_of is None:
        return current  # nothing to change, nothing to record

    try:
        updated = downloads_api.record_update(download_id=download_id, fields={"download_count": count})
    except errors.ApiError as failed:
        audit_record(
            **audit, before=record_snapshot(current), after={"download_count": count}, error=str(failed)
        )
        raise
    audit_record(**audit, before=record_snapshot(current), after=record_snapshot(updated))
    return updated


def download_delete(
    *, actor: Actor, download_id: str, reason: str = "", loaded: dict[str, Any] | None = None
) -> None:
    """Delete a record. The audit entry keeps the whole record in `before`, so it can be restored.

    `loaded` (optional) is the record as shown on the confirmation page: if it changed since,
    EditConflict is raised and nothing is deleted.
    """
    audit = {
        "actor": actor,
        "action": AuditEntry.Action.RECORD_DELETE,
        "download_id": download_id,
        "reason": reason,
    }
    try:
        roles.require_can_delete(actor)  # type: ignore[arg-type]
    except roles.NotAllowed as refused:
        audit_record(
            **audit,
            order_number=_order_number((loaded or {}).get("order_id")),
            error=str(refused),
        )
        raise
    try:
        current = downloads_api.record_get(download_id=download_id, fresh=True).value
    except errors.ApiError as failed:
        audit_record(**audit, order_number=_order_number((loaded or {}).get("order_id")), error=str(failed))
        raise
    audit["order_number"] = _order_number(current.order_id)
    snapshot = record_snapshot(current)
    if loaded is not None:
        changed = changed_since_loaded(loaded, current)
        if changed:
            conflict = EditConflict(
                current,
                changed,
                f"Someone changed this record since you opened this page ({_field_list(changed)}). "
                "It was not deleted.",
            )
            audit_record(**audit, before=snapshot, error=str(conflict))
            raise conflict
    try:
        downloads_api.record_delete(download_id=download_id)
    except errors.ApiError as failed:
        audit_record(**audit, before=snapshot, error=str(failed))
        raise
    audit_record(**audit, before=snapshot)
