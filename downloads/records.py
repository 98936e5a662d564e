"""A download record's fields, listed once, and the pure rules over them: snapshots for the audit trail
and for forms, what a person changed, what changed at the API since they loaded it, and the three-way
merge shown after a conflict. Nothing here talks to the API or the database.

Field names are the downloads API's own (`order_id` is the shop's order number there); in our own
variables and arguments that number is `order_number`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from fileflare_admin.api import types
from fileflare_admin.order_numbers import parse_order_number


@dataclass(frozen=True)
class RecordField:
    name: str  # the API's name
    label: StrOrPromise  # how staff know it (lower case, for the middle of a sentence), translated when read
    writable: bool  # a create or an update may send it
    sortable: bool  # the API can sort its list by it


FIELDS: tuple[RecordField, ...] = (
    RecordField("download_id", gettext_lazy("download ID"), writable=False, sortable=True),
    RecordField("date_created", gettext_lazy("created"), writable=False, sortable=True),
    RecordField("product_id", gettext_lazy("product ID"), writable=True, sortable=True),
    RecordField("order_id", gettext_lazy("order number"), writable=True, sortable=True),
    RecordField("download_count", gettext_lazy("download count"), writable=True, sortable=True),
    RecordField("download_file_name", gettext_lazy("file name"), writable=True, sortable=True),
    # The real plugin's column is `is_amazon_download`: a sort by `is_amazon` is a database error there.
    RecordField("is_amazon", gettext_lazy("on S3"), writable=True, sortable=False),
    RecordField("amazon_key", gettext_lazy("S3 key"), writable=True, sortable=True),
)
RECORD_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELDS)
WRITABLE_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELDS if field.writable)
SORTABLE_FIELDS: frozenset[str] = frozenset(field.name for field in FIELDS if field.sortable)
FIELD_LABELS: dict[str, StrOrPromise] = {field.name: field.label for field in FIELDS}

_KEY_DIGEST_SALT = "downloads.amazon_key"


def record_snapshot(record: types.DownloadRecord) -> dict[str, Any]:
    """Every field of the record as JSON-ready values (for the audit trail and for restores)."""
    snapshot = {name: getattr(record, name) for name in RECORD_FIELDS}
    created = record.date_created
    snapshot["date_created"] = created.isoformat() if created is not None else None
    return snapshot


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


def without_secrets(loaded: dict[str, Any]) -> dict[str, Any]:
    """A loaded snapshot as the trail may keep it (the key's digest is of no use to a reader)."""
    return {name: value for name, value in loaded.items() if name != "amazon_key_digest"}


def writable(fields: dict[str, Any]) -> dict[str, Any]:
    """Only the fields the API accepts on a write, in its order."""
    return {name: fields[name] for name in WRITABLE_FIELDS if name in fields}


def same_as_loaded(loaded: dict[str, Any], name: str, value: Any) -> bool:
    """Whether `value` equals the field as loaded. `loaded` may hold the S3 key itself or its digest."""
    if name == "amazon_key" and "amazon_key" not in loaded and "amazon_key_digest" in loaded:
        return constant_time_compare(amazon_key_digest(value or ""), str(loaded["amazon_key_digest"]))
    if name not in loaded:
        return True  # not remembered, so not compared
    if name == "amazon_key":
        return (loaded[name] or "") == (value or "")
    return bool(loaded[name] == value)


def fields_changed(loaded: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The writable fields in `fields` whose value differs from `loaded`: all a PATCH sends."""
    return {
        name: value for name, value in writable(fields).items() if not same_as_loaded(loaded, name, value)
    }


def changed_since_loaded(loaded: dict[str, Any], current: types.DownloadRecord) -> tuple[str, ...]:
    """The writable fields whose value at the API differs from the one the person loaded."""
    return tuple(
        name for name in WRITABLE_FIELDS if not same_as_loaded(loaded, name, getattr(current, name))
    )


def holds(record: types.DownloadRecord, fields: dict[str, Any]) -> bool:
    """Whether the record holds every one of these values (a write read back)."""
    return all(same_as_loaded(fields, name, getattr(record, name)) for name in writable(fields))


def field_list(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(str(FIELD_LABELS.get(name, name)) for name in names)


def order_number_of(value: Any) -> int | None:
    """The shop order number a record names (its order_id), for the order's timeline."""
    if isinstance(value, str):
        value = parse_order_number(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@dataclass(frozen=True)
class MergedField:
    """One row of the conflict page: the person's value beside the value now at the API."""

    name: str
    label: str
    yours: Any
    now: Any
    changed_by_you: bool
    changed_by_someone: bool

    @property
    def differs(self) -> bool:
        return bool(self.yours != self.now)


@dataclass(frozen=True)
class Merge:
    fields: dict[str, Any]  # what "Save mine anyway" sends, as form values
    rows: tuple[MergedField, ...]


def merge_after_conflict(
    *,
    loaded: dict[str, Any],
    mine: dict[str, Any],
    current: types.DownloadRecord,
    changed: tuple[str, ...],
    shown: frozenset[str],
) -> Merge:
    """Three-way merge for the conflict page.

    The fields the person changed (against `loaded`) keep their values; the fields they did not touch
    take the values now at the API, so "Save mine anyway" overrides only what both people changed,
    never a colleague's change to another field. `shown` are the fields this person's form has (the
    S3 key is neither sent nor shown to someone who may not see it).
    """
    yours_changed = fields_changed(loaded, mine)
    merged: dict[str, Any] = {}
    rows = []
    for name in WRITABLE_FIELDS:
        if name not in shown:
            continue
        now = getattr(current, name)
        yours = yours_changed.get(name, now)
        merged[name] = yours
        rows.append(
            MergedField(
                name=name,
                label=str(FIELD_LABELS[name]).capitalize(),
                yours=yours,
                now=now,
                changed_by_you=name in yours_changed,
                changed_by_someone=name in changed,
            )
        )
    return Merge(fields=merged, rows=tuple(rows))


# --- Counts --------------------------------------------------------------------------------------


def count_change(before: Any, after: Any) -> tuple[int, int] | None:
    """(before, after) download count when a write moved (or tried to move) a record's count."""
    old = before.get("download_count") if isinstance(before, dict) else None
    new = after.get("download_count") if isinstance(after, dict) else None
    if isinstance(old, int) and isinstance(new, int) and old != new:
        return old, new
    return None
