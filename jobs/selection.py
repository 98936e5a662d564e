"""Choosing download records by a filter: what the API can search, the rest checked here.

The downloads API searches one term (an order or product number exactly, or part of an id or file
name) and sorts by one field. A filter is walked with the narrowest requests that can answer it (pasted
order numbers: one search each, or, when that is fewer requests, one walk of the list sorted by order
number down to the lowest pasted; else the product id, else the file name; a count or date filter alone
walks the list sorted by that field and stops where the field leaves the range), then every criterion is
checked on every record. At most BULK_MAX_ORDER_NUMBERS numbers are taken pasted: more are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from fileflare_admin.api import downloads as downloads_api
from fileflare_admin.api import types, validators
from fileflare_admin.api.errors import NotFound
from fileflare_admin.numbers import grouped
from fileflare_admin.order_numbers import parse_order_number
from fileflare_admin.sentences import UserFacingError

PAGE_SIZE = 500  # the most the downloads API returns a page
_SEPARATORS = re.compile(r"[\s,;|]+")


class SelectionError(UserFacingError):
    """The filter cannot be walked as given (too many records); nothing was planned."""


def too_many_order_numbers(count: int) -> str:
    """The sentence refusing `count` pasted order numbers, or "" when they are within the limit."""
    limit = settings.BULK_MAX_ORDER_NUMBERS
    if count <= limit:
        return ""
    return _(
        "Paste at most %(limit)s order numbers at a time; you pasted %(count)s. Run the fix in parts, or "
        "choose the records by product, file name or creation dates."
    ) % {"limit": grouped(limit), "count": grouped(count)}


def parse_order_numbers(text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Order numbers from text pasted out of a ticket export ("#1050, 1051\n#1052"): (numbers in the
    order given, without repeats; the pieces that are not order numbers)."""
    numbers: dict[int, None] = {}
    rejected: list[str] = []
    for piece in _SEPARATORS.split(text or ""):
        token = piece.strip().strip("\"'")
        if not token.lstrip("#"):
            continue
        number = parse_order_number(token)
        if number is not None:
            numbers[number] = None
        else:
            rejected.append(piece.strip())
    return tuple(numbers), tuple(rejected)


def too_many_download_ids(count: int) -> str:
    """The sentence refusing `count` download IDs, or "" when they are within the limit (the same as for
    pasted order numbers: each is one read)."""
    limit = settings.BULK_MAX_ORDER_NUMBERS
    if count <= limit:
        return ""
    return _(
        "Choose at most %(limit)s records by download ID at a time; you chose %(count)s. Run the fix in "
        "parts."
    ) % {"limit": grouped(limit), "count": grouped(count)}


def parse_download_ids(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Download IDs from a list (the Reports page's, or pasted): (IDs in the order given, without repeats;
    the pieces that are not download IDs)."""
    ids: dict[str, None] = {}
    rejected: list[str] = []
    for piece in _SEPARATORS.split(text or ""):
        token = piece.strip().strip("\"'")
        if not token:
            continue
        try:
            ids[validators.download_id(token)] = None
        except NotFound:
            rejected.append(piece.strip())
    return tuple(ids), tuple(rejected)


@dataclass(frozen=True)
class Selection:
    """Which download records: every given criterion must hold (an empty one is not a criterion)."""

    order_numbers: tuple[int, ...] = ()
    product_id: int | None = None
    file_name: str = ""
    count_at_least: int | None = None
    created_from: date | None = None
    created_to: date | None = None
    download_ids: tuple[str, ...] = ()  # chosen one by one (the Reports page's customers at their limit)

    @property
    def empty(self) -> bool:
        return not (
            self.download_ids
            or self.order_numbers
            or self.product_id is not None
            or self.file_name
            or self.count_at_least is not None
            or self.created_from
            or self.created_to
        )

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["order_numbers"] = list(self.order_numbers)
        values["download_ids"] = list(self.download_ids)
        for name in ("created_from", "created_to"):
            values[name] = values[name].isoformat() if values[name] else None
        return values

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The created-between days as times, in the current time zone (the person's own)."""
        zone = timezone.get_current_timezone()
        start = (
            timezone.make_aware(datetime.combine(self.created_from, time.min), zone)
            if self.created_from
            else None
        )
        end = (
            timezone.make_aware(datetime.combine(self.created_to + timedelta(days=1), time.min), zone)
            if self.created_to
            else None
        )
        return start, end

    def matches(self, record: types.DownloadRecord) -> bool:
        start, end = self.bounds()
        created = record.date_created
        return (
            (not self.download_ids or record.download_id in self.download_ids)
            and (not self.order_numbers or record.order_id in self.order_numbers)
            and (self.product_id is None or record.product_id == self.product_id)
            and (not self.file_name or self.file_name.casefold() in record.download_file_name.casefold())
            and (self.count_at_least is None or record.download_count >= self.count_at_least)
            and (start is None or (created is not None and created >= start))
            and (end is None or (created is not None and created < end))
        )


def _page(
    page: int, *, search: str | None = None, sortby: str | None = None
) -> types.Page[types.DownloadRecord]:
    return downloads_api.record_list(
        page=page, per_page=PAGE_SIZE, sortby=sortby or "date_created", sortdir="DESC", search=search
    ).value


def _walk(
    *,
    search: str | None = None,
    sortby: str | None = None,
    past: Callable[[types.DownloadRecord], bool],
    first: types.Page[types.DownloadRecord] | None = None,
) -> Iterator[types.DownloadRecord]:
    """Every record of a search, page by page (newest first unless sorted), until `past` says the sorted
    walk has left the range. `first` is its first page when already read."""
    page = 1
    while True:
        fetched = first if page == 1 and first is not None else _page(page, search=search, sortby=sortby)
        for record in fetched.items:
            if past(record):
                return
            yield record
        if not fetched.items or not fetched.has_next:
            return
        page += 1


def _never(record: types.DownloadRecord) -> bool:
    return False


def _of_orders(numbers: tuple[int, ...]) -> Iterator[types.DownloadRecord]:
    """The records of these orders (and others, which `matches` leaves out), in the fewer requests of
    two ways: one search per number, or the list sorted by order number, highest first, down to the
    lowest number pasted (at most its page count; its first page says how many)."""
    if len(numbers) > 1:
        first = _page(1, sortby="order_id")
        if first.last_page is not None and first.last_page <= len(numbers):
            lowest = min(numbers)
            yield from _walk(sortby="order_id", past=lambda record: record.order_id < lowest, first=first)
            return
    for number in numbers:
        yield from _walk(search=str(number), past=_never)


def _by_id(download_ids: tuple[str, ...]) -> Iterator[types.DownloadRecord]:
    """Each record read fresh by its ID; one deleted since it was listed is left out."""
    for download_id in download_ids:
        try:
            yield downloads_api.record_get(download_id=download_id, fresh=True).value
        except NotFound:
            continue


def _candidates(selection: Selection) -> Iterator[types.DownloadRecord]:
    if selection.download_ids:
        yield from _by_id(selection.download_ids)
    elif selection.order_numbers:
        yield from _of_orders(selection.order_numbers)
    elif selection.product_id is not None:
        yield from _walk(search=str(selection.product_id), past=_never)
    elif selection.file_name:
        yield from _walk(search=selection.file_name, past=_never)
    elif selection.count_at_least is not None:
        threshold = selection.count_at_least
        yield from _walk(sortby="download_count", past=lambda record: record.download_count < threshold)
    else:
        start, _ = selection.bounds()
        yield from _walk(
            sortby="date_created",
            past=lambda record: start is not None
            and record.date_created is not None
            and record.date_created < start,
        )


def records_matching(selection: Selection) -> list[types.DownloadRecord]:
    """The records the filter chooses, in the order found, each once. Raises SelectionError when there
    are more than BULK_MAX_ITEMS, and the API client's errors."""
    if selection.empty:
        raise SelectionError(
            _("Choose at least one filter, so that not every record is changed by accident.")
        )
    if refusal := too_many_order_numbers(len(selection.order_numbers)) or too_many_download_ids(
        len(selection.download_ids)
    ):
        raise SelectionError(refusal)
    found: dict[str, types.DownloadRecord] = {}
    for record in _candidates(selection):
        if record.download_id in found or not selection.matches(record):
            continue
        found[record.download_id] = record
        if len(found) > settings.BULK_MAX_ITEMS:
            raise SelectionError(
                _(
                    "More than %(limit)s records match. Narrow the filter (a product, a file name, a date "
                    "range) and run it in parts."
                )
                % {"limit": grouped(settings.BULK_MAX_ITEMS)}
            )
    return list(found.values())
