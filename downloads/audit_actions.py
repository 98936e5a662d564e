"""The audit actions of download records, and how the audit log shows them: registered with the audit
app (audit.registry) in DownloadsConfig.ready(), beside the undo rules (downloads.undo)."""

from __future__ import annotations

from django.db import models

from audit.models import AuditEntry
from audit.registry import Side, register_action, register_secret_field
from downloads import records


class Action(models.TextChoices):
    DOWNLOAD_RECORD_CREATE = "download_record_create", "Created download record"
    DOWNLOAD_RECORD_UPDATE = "download_record_update", "Edited download record"
    DOWNLOAD_RECORD_COUNT = "download_record_count", "Changed download count"
    DOWNLOAD_RECORD_DELETE = "download_record_delete", "Deleted download record"
    DOWNLOAD_RECORD_COUNT_REVERT = "download_record_count_revert", "Reverted download count"
    DOWNLOAD_RECORD_RESTORE = "download_record_restore", "Restored deleted record"


# Entries that hold one whole record: as created (a create, a restore), or as it was when deleted.
RECORD_SIDES: dict[str, tuple[Side, str]] = {
    Action.DOWNLOAD_RECORD_CREATE: ("after", "the record as created"),
    Action.DOWNLOAD_RECORD_RESTORE: ("after", "the record as created"),
    Action.DOWNLOAD_RECORD_DELETE: ("before", "the deleted record"),
}


def count_change(entry: AuditEntry) -> tuple[int, int] | None:
    """The count an entry moved (or tried to move), as the order page's timeline states it."""
    return records.count_change(entry.before, entry.after)


def register() -> None:
    for action in Action:
        side, label = RECORD_SIDES.get(action, (None, ""))
        register_action(
            action.value, action.label, record_side=side, record_label=label, headline=count_change
        )
    register_secret_field("amazon_key", shown_to="see_amazon_key")
