"""Download counts over time: the changes the dashboard saw in each record's count, and the latest known.

Every time the dashboard holds a record anyway (a snapshot's page, a page's fresh read, its own write)
it notes the count; a row is written only when the count differs from the last one known, so a year of a
20,000-record shop is a row per record plus a row per change seen. Rules (decided here, tested in
tests/downloads/test_history.py):
- a record never seen before is stored with delta None (its earlier count is unknown: the downloads before
  the first sighting are not counted as downloads of that moment), or delta 0 when its count is 0;
- a sighting no newer than the last known one (a cached or stale copy read after a newer look) is ignored,
  so rows of one record always go forward in time;
- a staff write is noted with source "write": a lowered count then is a negative delta, and the next
  snapshot's rise is counted from there. A write never counts as downloads (`DOWNLOADED`);
- a deleted record (the dashboard's delete, or one two full snapshots in a row no longer find) keeps its
  rows but leaves the latest counts (`forget_records`, `forget_unseen`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, QuerySet

from downloads import derived
from downloads.models import DOWNLOADED as DOWNLOADED  # the rule of a download, re-exported here
from downloads.models import CountChange
from fileflare_admin import kept, readahead
from fileflare_admin.api import types
from fileflare_admin.storable import storable

logger = logging.getLogger(__name__)

SOURCES = frozenset(CountChange.Source.values)


def is_download(delta: int | None, source: str) -> bool:
    """A change that is downloads, as `DOWNLOADED` (downloads.models) says it to a query: a rise seen,
    never the dashboard's own write."""
    return delta is not None and delta > 0 and source != CountChange.Source.WRITE


@dataclass(frozen=True)
class KnownCount:
    """A record's latest known count, when it was seen, and what the record names."""

    download_id: str
    order_number: int
    product_id: int
    file_name: str
    count: int
    seen_at: datetime


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def note_counts(
    records: Iterable[types.DownloadRecord],
    *,
    seen_at: datetime,
    source: str,
    known: Mapping[str, KnownCount] | None = None,
) -> int:
    """Note each record's count as seen at `seen_at`; write a row only where it changed (or the record is
    new). One query reads the batch's last known counts; only if something changed, one UPDATE and one
    INSERT store the changes, in one transaction. Returns how many rows were written.

    `known`: the latest counts read a moment ago (`counts_of_order`, while a page's records were on their
    way): when each record is there and its sighting changes nothing, nothing is read or written (a
    snapshot's sighting, which also confirms the unchanged, and any change read them again here). A count
    changed and put back within that moment is left to the next snapshot, which compares with the latest."""
    if source not in SOURCES:
        raise ValueError(f"Unknown source of a count: {source!r}")
    batch = {record.download_id: record for record in records}  # the last of a download ID wins
    if not batch:
        return 0
    if known is not None and source != CountChange.Source.SNAPSHOT and _all_known(known, batch, seen_at):
        return 0
    known = last_counts(batch)
    rows = []
    for download_id, record in batch.items():
        last = known.get(download_id)
        if _changes_nothing(last, record, seen_at):
            continue
        if last is not None:
            delta: int | None = record.download_count - last.count
        else:
            delta = 0 if record.download_count == 0 else None
        rows.append(
            CountChange(
                download_id=download_id[:64],
                order_number=record.order_id,
                product_id=record.product_id,
                file_name=storable(record.download_file_name[:500]),  # a NUL cannot be kept by PostgreSQL
                count=record.download_count,
                delta=delta,
                seen_at=seen_at,
                hour=_hour(seen_at),
                source=source,
                latest=True,
            )
        )
    if source == CountChange.Source.SNAPSHOT:  # a snapshot also says which records still exist
        unchanged = [
            key
            for key, row in known.items()
            if seen_at > row.seen_at and batch[key].download_count == row.count
        ]
        if unchanged:
            CountChange.objects.filter(download_id__in=unchanged, latest=True).update(confirmed_at=seen_at)
    if rows:
        with transaction.atomic():
            changed = [row.download_id for row in rows if row.download_id in known]
            if changed:
                CountChange.objects.filter(download_id__in=changed, latest=True).update(latest=False)
            CountChange.objects.bulk_create(rows)
    return len(rows)


def _all_known(
    known: Mapping[str, KnownCount], batch: dict[str, types.DownloadRecord], seen_at: datetime
) -> bool:
    return all(_changes_nothing(known.get(key), record, seen_at) for key, record in batch.items())


def _changes_nothing(last: KnownCount | None, record: types.DownloadRecord, seen_at: datetime) -> bool:
    """A sighting that adds no row: the record's last known count is as new or newer, or the same."""
    return last is not None and (seen_at <= last.seen_at or record.download_count == last.count)


def note_seen(
    records: Iterable[types.DownloadRecord],
    *,
    seen_at: datetime | None,
    source: str,
    stale: bool = False,
    known: Mapping[str, KnownCount] | None = None,
) -> int:
    """note_counts for a sighting a page or a write made anyway. A saved copy ("as of", `stale`) tells
    nothing new, and the same answer read again from the read cache is noted once (a warm page costs no
    query: the answer's key is kept in the cache once committed, as orders_index.services does). It never
    fails what the person is doing: a busy database loses the sighting, and the next snapshot sees the
    count again. `known`: as note_counts takes it."""
    listed = list(records)
    noted = noted_key(listed, seen_at=seen_at, source=source, stale=stale)
    if noted is None or seen_at is None:
        return 0
    if readahead.get(noted):
        return 0
    try:
        written = note_counts(listed, seen_at=seen_at, source=source, known=known)
    except DatabaseError as error:
        logger.warning("count history: a %s sighting was not noted (%s)", source, type(error).__name__)
        return 0
    # Kept once committed (a rolled-back note is made again by the next page that reads it), with the page's
    # other writes once its response is sent (readahead.set_later: nobody waits for it).
    note = {noted: True}
    if written:
        transaction.on_commit(lambda: readahead.set_later(note, settings.UPSTREAM_STALE_TTL))
    else:
        readahead.set_later(note, settings.UPSTREAM_STALE_TTL)
    return written


def noted_key(
    records: list[types.DownloadRecord], *, seen_at: datetime | None, source: str, stale: bool = False
) -> str | None:
    """The cache key that says note_seen noted this answer already (None: it notes nothing), for a page
    that reads it ahead with its other keys (fileflare_admin.readahead)."""
    if seen_at is None or stale or not records:
        return None
    return _answer_key(records, seen_at, source)


def _answer_key(records: list[types.DownloadRecord], seen_at: datetime, source: str) -> str:
    """Made once per answer (downloads.derived): an order page asks three times a load."""
    answer = f"{source}|{seen_at.isoformat()}"

    def key(listed: tuple[types.DownloadRecord, ...]) -> str:
        counts = "|".join(f"{record.download_id}:{record.download_count}" for record in listed)
        return f"ffa:counts-noted:{hashlib.sha256(f'{answer}|{counts}'.encode()).hexdigest()[:32]}"

    return derived.of_records(("counts-noted", answer), records, key)


_KNOWN_FIELDS = ("download_id", "order_number", "product_id", "file_name", "count", "seen_at")


def last_counts(
    download_ids: Iterable[str] | None = None, *, at_least: int | None = None
) -> dict[str, KnownCount]:
    """Download ID → its latest known count (all records when `download_ids` is None; with `at_least`,
    only those counted that high), one query read as plain tuples (a 20,000-record shop: about 0.1 s)."""
    rows = CountChange.objects.filter(latest=True)
    if download_ids is not None:
        rows = rows.filter(download_id__in=list(download_ids))
    if at_least is not None:
        rows = rows.filter(count__gte=at_least)
    return _newest(rows)


def counts_of_order(order_number: int) -> dict[str, KnownCount]:
    """last_counts of the records last seen on this order, one query: a cold order page reads it while
    its records are on their way, and notes their counts with it (note_seen's `known`)."""
    return _newest(CountChange.objects.filter(latest=True, order_number=order_number))


def _newest(rows: QuerySet[CountChange]) -> dict[str, KnownCount]:
    known: dict[str, KnownCount] = {}
    # Two workers noting one record at the same moment may both leave a latest row: the newest wins.
    for values in rows.order_by().values_list(*_KNOWN_FIELDS):
        found = KnownCount(*values)
        held = known.get(found.download_id)
        if held is None or found.seen_at >= held.seen_at:
            known[found.download_id] = found
    return known


def forget_records(download_ids: Iterable[str]) -> int:
    """Records deleted (by the dashboard's own delete): no longer among the latest counts (their changes
    stay, for the reports of the days they were downloaded). Returns how many were forgotten. It never
    fails the delete that was made: a busy database leaves it to the next full snapshot."""
    try:
        rows = CountChange.objects.filter(download_id__in=list(download_ids), latest=True)
        return rows.update(latest=False)
    except DatabaseError as error:
        logger.warning("count history: a deleted record was not forgotten (%s)", type(error).__name__)
        return 0


def forget_unseen(*, since: datetime) -> int:
    """After a full snapshot: the records nothing has seen since `since` (no change noted, no snapshot
    finding them unchanged) were deleted at the API; they are forgotten as `forget_records` does. The
    snapshots pass the start of the pass before the one that finished (insights.snapshots.unseen_since):
    a record one pass missed because a deletion moved it onto a page already read is not taken for
    deleted, and its downloads meanwhile are counted when the next pass sees it."""
    unseen = CountChange.objects.filter(latest=True, seen_at__lt=since).filter(
        Q(confirmed_at__isnull=True) | Q(confirmed_at__lt=since)
    )
    return unseen.update(latest=False)


def changes_of_order(order_number: int) -> list[CountChange]:
    """Every count change seen on one order's records, oldest first."""
    return list(CountChange.objects.filter(order_number=order_number).order_by("seen_at", "pk"))



def suspect_changes_of_order(
    order_number: int,
    *,
    emails: Iterable[datetime],
    window: timedelta,
    per_hour: int,
    download_id: str | None = None,
) -> list[CountChange]:
    """The count changes of one order (of one record, with `download_id`) that the link-scanner rule
    (downloads.suspects.record_suspects) needs, oldest first; it finds in them what it finds in every
    change of the order, without reading an order's whole history (the order page reads this on each load):
    - the downloads seen within `window` after each of `emails` (the rule "after an e-mail");
    - every change of each record that had more than `per_hour` downloads in one clock hour, found in SQL
      (the rule "in one hour", and the sighting before the burst it starts from).
    One query, written as SQL: built by the ORM it cost a page 1 ms of CPU, as SQL 0.1 ms; kept in the
    shared cache until the count history changes (fileflare_admin.kept)."""
    table = CountChange._meta.db_table
    columns = ", ".join(str(field.column) for field in CountChange._meta.concrete_fields)
    adapt = connection.ops.adapt_datetimefield_value
    # The downloads condition (downloads.models.DOWNLOADED) as the partial index `count_change_downloads`
    # states it.
    downloaded = "delta > 0 AND NOT (source = 'write')"
    record = " AND download_id = %s" if download_id is not None else ""
    scope: list[object] = [order_number, *([download_id] if download_id is not None else [])]
    windows = sorted(set(emails))
    after_email = " OR ".join("(seen_at > %s AND seen_at <= %s)" for _ in windows)
    # Only the model's own table and column names and placeholders are put in the text.
    sql = (
        f"SELECT {columns} FROM {table} WHERE order_number = %s{record} AND (download_id IN ("  # noqa: S608
        f"SELECT download_id FROM {table} WHERE order_number = %s{record} AND {downloaded} "
        "GROUP BY download_id, hour HAVING SUM(delta) > %s)"
        + (f" OR ({downloaded} AND ({after_email}))" if windows else "")
        + ") ORDER BY seen_at, id"
    )
    params = [*scope, *scope, per_hour]
    params += [adapt(moment) for sent in windows for moment in (sent, sent + window)]
    named = ("suspect changes", order_number, download_id, per_hour, tuple(windows), window)
    return kept.read(kept.COUNT_HISTORY, named, lambda: list(CountChange.objects.raw(sql, params)))
