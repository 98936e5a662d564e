"""Download records as a person reads them: a page of the list (searched and sorted by the API), one
order's records, the records naming a file, one record. Each is one upstream call; the writes are in
downloads.services (create, restore, delete) and downloads.edits (edit, count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from downloads import records
from downloads.history import note_seen, noted_key
from downloads.products import product_name_keys
from fileflare_admin import readahead
from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import types
from fileflare_admin.filenames import file_key
from fileflare_admin.order_numbers import read_order_number
from staff import roles

PER_PAGE_CHOICES: tuple[int, ...] = (25, 50, 100)
# How many records of one order are fetched in the single call the order page makes.
ORDER_RECORDS_LIMIT = 100


def parse_sort(
    sort: str | None, *, allowed: frozenset[str] = records.SORTABLE_FIELDS
) -> tuple[str, str] | None:
    """`field` or `-field` as (sortby, sortdir); None for anything else."""
    if not sort:
        return None
    field, direction = (sort[1:], "DESC") if sort.startswith("-") else (sort, "ASC")
    return (field, direction) if field in allowed else None


def sortable_fields(user: roles.AnyUser) -> frozenset[str]:
    """What this person may sort by: never by a value they may not see."""
    if roles.allows(user, "see_amazon_key"):
        return records.SORTABLE_FIELDS
    return records.SORTABLE_FIELDS - {"amazon_key"}


def download_record_list(
    *, user: roles.AnyUser, q: str | None = None, sort: str | None = None, page: int = 1, per_page: int = 25
) -> types.Fetched[types.Page[types.DownloadRecord]]:
    """One page of records, searched and sorted by the API. An unknown sort is left out, never sent."""
    roles.require(user, "use_dashboard")
    sorting = parse_sort(sort, allowed=sortable_fields(user))
    fetched = downloads_api.record_list(
        page=max(int(page), 1),
        per_page=min(max(int(per_page), 1), max(PER_PAGE_CHOICES)),
        sortby=sorting[0] if sorting else None,
        sortdir=sorting[1] if sorting else "ASC",
        search=(q or "").strip() or None,
    )
    _note_listed(fetched)
    return fetched


def _note_listed(fetched: types.Fetched[types.Page[types.DownloadRecord]]) -> None:
    """The counts a list page shows go into their history at no upstream call (downloads.history); in a
    page's readahead scope, whether they are noted already is read with the product names its rows show
    next (downloads.products), in one round trip."""
    listed = list(fetched.value.items)
    kept = noted_key(listed, seen_at=fetched.fetched_at, source="read", stale=fetched.stale)
    names = product_name_keys({record.product_id for record in listed})
    readahead.read_ahead([kept, *names] if kept else names)
    note_seen(listed, seen_at=fetched.fetched_at, source="read", stale=fetched.stale)


def _number_typed(q: str | None, *, labelled: bool) -> int | None:
    number = read_order_number(q)
    return number.value if number is not None and number.labelled == labelled and number.value > 0 else None


def order_number_query(q: str | None) -> int | None:
    """The order number a list search names ("#1050", "order:1050", "Order #1,050"): its records only,
    never ids that contain the digits. A bare number keeps the API's own search."""
    return _number_typed(q, labelled=True)


def bare_number_query(q: str | None) -> int | None:
    """A number typed bare ("1050"): an order number most likely, but also maybe a product ID or part of
    a download ID or file name. The API's search answers all of them; the list shows each page's records
    of that order first and the other matches apart."""
    return _number_typed(q, labelled=False)


@dataclass(frozen=True)
class OrderRecords:
    """One order's records for the list: `complete` is False when the API had more matches for the
    number than one call reads (records of the order may then be missing)."""

    fetched: types.Fetched[types.Page[types.DownloadRecord]]
    order_number: int
    complete: bool


def download_record_list_of_order(
    *, user: roles.AnyUser, order_number: int, sort: str | None = None
) -> OrderRecords:
    """The records of one order only, sorted by the API, on one page.

    The API's search for a number matches the order number, the product ID and every download ID or
    file name holding those digits; only records whose order number equals it are kept.
    """
    roles.require(user, "use_dashboard")
    sorting = parse_sort(sort, allowed=sortable_fields(user))
    fetched = downloads_api.record_list(
        page=1,
        per_page=ORDER_RECORDS_LIMIT,
        sortby=sorting[0] if sorting else None,
        sortdir=sorting[1] if sorting else "ASC",
        search=str(order_number),
    )
    items = tuple(record for record in fetched.value.items if record.order_id == order_number)
    _note_listed(fetched)
    page = types.Page(items=items, page=1, per_page=ORDER_RECORDS_LIMIT, total=len(items), last_page=1)
    return OrderRecords(
        fetched=types.Fetched(value=page, fetched_at=fetched.fetched_at, stale=fetched.stale),
        order_number=order_number,
        complete=not fetched.value.has_next,
    )


def download_records_for_order(*, order_number: int) -> types.Fetched[list[types.DownloadRecord]]:
    """The records of one shop order, oldest first, in one upstream call (`complete` False when the API
    matched more than ORDER_RECORDS_LIMIT: some of the order's may be left out). Its counts are not noted
    here (the order page reads it in a thread of its pool): the caller notes them (downloads.history).

    The API's search matches order_id exactly for a number, but also product_id, so the answer is
    filtered to the order.
    """
    fetched = downloads_api.record_list(
        page=1, per_page=ORDER_RECORDS_LIMIT, sortby="date_created", sortdir="ASC", search=str(order_number)
    )
    items = [record for record in fetched.value.items if record.order_id == order_number]
    return types.Fetched(
        value=items, fetched_at=fetched.fetched_at, stale=fetched.stale, complete=not fetched.value.has_next
    )


@dataclass(frozen=True)
class RecordsNaming:
    """The records whose file name holds a text; `complete` is False when the API had more matches
    than one call reads."""

    records: tuple[types.DownloadRecord, ...]
    fetched_at: datetime
    stale: bool
    complete: bool


def download_records_naming(*, filename: str) -> RecordsNaming:
    """The records whose file name holds this text (any case), newest first, in one upstream call. The
    API's search also matches download IDs: records that match only by their ID are left out."""
    fetched = downloads_api.record_list(
        page=1, per_page=ORDER_RECORDS_LIMIT, sortby="date_created", sortdir="DESC", search=filename
    )
    note_seen(fetched.value.items, seen_at=fetched.fetched_at, source="read", stale=fetched.stale)
    wanted = file_key(filename)
    items = tuple(
        record for record in fetched.value.items if wanted in file_key(record.download_file_name)
    )
    return RecordsNaming(items, fetched.fetched_at, fetched.stale, complete=not fetched.value.has_next)


def download_record_get(*, download_id: str, fresh: bool = False) -> types.Fetched[types.DownloadRecord]:
    fetched = downloads_api.record_get(download_id=download_id, fresh=fresh)
    note_seen([fetched.value], seen_at=fetched.fetched_at, source="read", stale=fetched.stale)
    return fetched
