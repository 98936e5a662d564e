"""A snapshot of every record's count, taken in a test the way the snapshot chain takes it: each page of
the records list read past the dashboard's read cache, its counts noted as seen at the moment given."""

from datetime import datetime

from downloads.history import note_counts
from fileflare_admin.api import cache
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api.http import DOWNLOADS


def snapshot_every_count(at: datetime) -> set[str]:
    """Every record's count noted as seen at `at`. Returns the download IDs seen."""
    cache.invalidate(DOWNLOADS.name)
    seen: set[str] = set()
    page = 1
    while True:
        listed = downloads_api.record_list(
            page=page, per_page=500, sortby="date_created", sortdir="DESC"
        ).value
        note_counts(listed.items, seen_at=at, source="snapshot")
        seen |= {record.download_id for record in listed.items}
        if not listed.items or not listed.has_next:
            return seen
        page += 1
