"""A download record's limit, known without the customer's link, and where it comes from.

Only a customer's page (Fileflare v2, `limits {downloaded, limit}`) tells a file's limit; v1 and the
downloads API never do. So whenever the dashboard reads a customer's page (any order's), it keeps each
file's limit (`limits_learn`), and a record of another order holding the same file (by asset, and by file
name, as records name files) gets it: "limit seen on order #1049's customer page, 3 days ago". In Fileflare
a limit is the product's (or the shop's global one) and an order may override it, so a learned limit is
labelled as learned, never as the customer's own; when orders disagree, the limit most of them showed is
taken. A shop may also declare its global limit (SHOP_DOWNLOAD_LIMIT): the last resort.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from downloads import derived
from downloads.models import SeenLimit
from fileflare_admin import kept, kept_pages
from fileflare_admin.api import types
from fileflare_admin.filenames import file_key
from fileflare_admin.numbers import grouped

LimitSource = Literal["this_order", "learned", "shop_default"]
SHOP_DEFAULT = gettext_lazy("the shop's default limit (SHOP_DOWNLOAD_LIMIT)")


def ago(moment: datetime, now: datetime) -> str:
    """ "3 days ago", "just now": how long ago a page was seen, in one unit (a kept page is made afresh
    when it would read otherwise: fileflare_admin.kept_pages)."""
    kept_pages.changes_at(kept_pages.next_minute(moment, now))
    if (now - moment).total_seconds() < 60:
        return _("just now")
    return (_("%(time)s ago") % {"time": timesince(moment, now, depth=1)}).replace("\xa0", " ")


@dataclass(frozen=True)
class KnownLimit:
    """A file's limit for one order, and where it comes from. `limit` None: the page showed no limit."""

    limit: int | None
    source: LimitSource
    order_number: int | None = None  # the order whose customer page showed it
    seen_at: datetime | None = None
    orders: int = 1  # how many orders' pages showed this limit

    @property
    def learned(self) -> bool:
        return self.source == "learned"

    def used(self, count: int) -> str:
        if self.limit is None:
            return _("%(count)s (no limit)") % {"count": grouped(count)}
        return _("%(count)s of %(limit)s") % {"count": grouped(count), "limit": grouped(self.limit)}

    def reached(self, count: int) -> bool:
        return self.limit is not None and count >= self.limit

    def page(self) -> str:
        """The page the limit was read on, as evidence names it."""
        if self.source == "shop_default":
            return str(SHOP_DEFAULT)
        if self.source == "this_order":
            return _("this order's customer page (Fileflare v2)")
        return _("order #%(number)s's customer page (Fileflare v2)") % {"number": self.order_number}

    def age(self, now: datetime) -> str:
        """How long ago its page was seen, as source_text says it ("3 days ago"); "" when it names no
        time. With the limit's fields, all that its lines show (a fragment's key: downloads.templatetags)."""
        if self.source == "shop_default" or self.seen_at is None:
            return ""
        return ago(self.seen_at, now)

    def source_text(self, now: datetime) -> str:
        """ "limit seen on order #1049's customer page, 3 days ago" / "shop default"."""
        seen = self.age(now)
        if not seen:
            return _("shop default")
        more = grouped(self.orders - 1)
        values = {"number": self.order_number, "more": more, "ago": seen}
        if self.source == "this_order":
            return _("limit seen on this order's customer page, %(ago)s") % values
        if self.orders > 1:
            return (
                ngettext(
                    "limit seen on order #%(number)s's customer page (and %(more)s other order), %(ago)s",
                    "limit seen on order #%(number)s's customer page (and %(more)s other orders), %(ago)s",
                    self.orders - 1,
                )
                % values
            )
        return _("limit seen on order #%(number)s's customer page, %(ago)s") % values


def limits_learn(*, view: types.CustomerView, seen_at: datetime) -> None:
    """Keep each file's limit as this customer's page showed it (one row per order and asset). A sighting
    known already (this very answer, read again from the read cache on a warm page) or older than the one
    kept is not written: a saved copy shown "as of" never overwrites a newer sighting. What is kept is
    read through `_seen`, itself kept until a limit is learned (fileflare_admin.kept)."""
    rows = {
        item.asset.id[:64]: SeenLimit(
            order_number=view.order_number,
            asset_id=item.asset.id[:64],
            filename=item.asset.filename[:500],
            file_key=file_key(item.asset.filename)[:500],
            limit=item.limits.limit if item.limits.limit is None or item.limits.limit >= 0 else None,
            seen_at=seen_at,
        )
        for item in view.all_assets
    }
    if not rows:
        return
    stored = _seen({row.file_key for row in rows.values()}, {view.order_number})
    number = view.order_number
    own = {row.asset_id: row for held in stored.values() for row in held if row.order_number == number}
    new = [row for asset_id, row in rows.items() if not _known_since(own.get(asset_id), row)]
    if not new:
        return
    SeenLimit.objects.bulk_create(
        new,
        update_conflicts=True,
        unique_fields=["order_number", "asset_id"],
        update_fields=["filename", "file_key", "limit", "seen_at"],
    )


def _known_since(stored: SeenLimit | None, seen: SeenLimit) -> bool:
    """The row kept already is a later sighting, or says what this one says as of the same moment."""
    if stored is None:
        return False
    same = (stored.filename, stored.file_key, stored.limit) == (seen.filename, seen.file_key, seen.limit)
    return stored.seen_at > seen.seen_at or (same and stored.seen_at == seen.seen_at)


def _choose(rows: list[SeenLimit], order_number: int | None) -> KnownLimit | None:
    """This order's own page first; else the limit most other orders showed (newest on a tie); else the
    shop's default. `rows` are newest first."""
    own = [row for row in rows if row.order_number == order_number]
    if own:
        return KnownLimit(own[0].limit, "this_order", own[0].order_number, own[0].seen_at)
    if rows:
        tally = Counter(row.limit for row in {row.order_number: row for row in reversed(rows)}.values())
        first: dict[int | None, int] = {}
        for index, row in enumerate(rows):
            first.setdefault(row.limit, index)
        best = max(tally, key=lambda limit: (tally[limit], -first[limit]))
        shown = rows[first[best]]
        return KnownLimit(best, "learned", shown.order_number, shown.seen_at, orders=tally[best])
    default = settings.SHOP_DOWNLOAD_LIMIT
    return KnownLimit(int(default), "shop_default") if default is not None else None


# A popular file is seen on thousands of orders' pages: a page reads only each file's newest sightings
# (the limit most of them showed is the one taken) and its own orders' (issue 28: a page's work no longer
# grows with the orders sharing its files).
NEWEST_SIGHTINGS = 200


def _seen(keys: Set[str], orders: Set[int]) -> dict[str, list[SeenLimit]]:
    """Each file key's sightings, newest first: its NEWEST_SIGHTINGS newest, and any of `orders` (the
    orders whose own page counts first). One query, written as SQL (a window function per file); kept in
    the shared cache until a limit is learned (fileflare_admin.kept)."""
    grouped: dict[str, list[SeenLimit]] = defaultdict(list)
    if not keys:
        return grouped
    table = SeenLimit._meta.db_table
    listed, owned = sorted(keys), sorted(orders)
    own = f" OR order_number IN ({', '.join(['%s'] * len(owned))})" if owned else ""
    # Only placeholders and the model's own table name are put in the text; every value is a parameter.
    sql = (
        'SELECT id, order_number, asset_id, filename, file_key, "limit", seen_at FROM ('  # noqa: S608
        f'SELECT id, order_number, asset_id, filename, file_key, "limit", seen_at, ROW_NUMBER() OVER '
        f"(PARTITION BY file_key ORDER BY seen_at DESC, id DESC) AS newest FROM {table} "
        f"WHERE file_key IN ({', '.join(['%s'] * len(listed))})) seen "
        f"WHERE newest <= %s{own} ORDER BY seen_at DESC, id DESC"
    )

    def query() -> dict[str, list[SeenLimit]]:
        for row in SeenLimit.objects.raw(sql, [*listed, NEWEST_SIGHTINGS, *owned]):
            grouped[row.file_key].append(row)
        return grouped

    return kept.read(kept.LIMITS, _sightings(listed, owned), query)


def _sightings(listed: list[str], owned: list[int]) -> tuple[Any, ...]:
    """What a read of sightings is kept under (kept.read's name): the file keys and orders, sorted."""
    return ("sightings", tuple(listed), tuple(owned), NEWEST_SIGHTINGS)


def order_limits_keys(*, order_number: int, records: Iterable[types.DownloadRecord]) -> list[str]:
    """The shared-cache keys limits_for_order reads for these records: a page reads them ahead with its
    other reads of what the records name (orders.services, issue 28)."""
    files = _record_files(records)
    if not files.keys:
        return []
    return kept.read_keys(kept.LIMITS, _sightings(sorted(files.keys), [order_number]))


def limits_for_files(*, order_number: int, filenames: Iterable[str]) -> dict[str, KnownLimit]:
    """File key (filenames.file_key) → the limit known for that file on this order (one query)."""
    keys = {file_key(name) for name in filenames if name.strip()}
    return _by_file(_seen(keys, {order_number}), keys, order_number)


@dataclass(frozen=True)
class _RecordFiles:
    """What the limits need of a list of records, worked out once per records answer (downloads.derived):
    every file key, those of named files, each named record's (download ID, order number, file key)."""

    keys: frozenset[str]
    named: frozenset[str]
    files: tuple[tuple[str, int | None, str], ...]


def _record_files(records: Iterable[types.DownloadRecord]) -> _RecordFiles:
    def work(listed: tuple[types.DownloadRecord, ...]) -> _RecordFiles:
        keyed = [(record, file_key(record.download_file_name)) for record in listed]
        named = [(record, key) for record, key in keyed if record.download_file_name.strip()]
        last = {record.download_id: (record, key) for record, key in keyed}  # one a download ID, the last
        return _RecordFiles(
            keys=frozenset(key for _, key in keyed),
            named=frozenset(key for _, key in named),
            files=tuple(
                (download_id, record.order_id, key)
                for download_id, (record, key) in last.items()
                if record.download_file_name.strip()
            ),
        )

    return derived.of_records("limits", records, work)


def limits_for_records(records: Iterable[types.DownloadRecord]) -> dict[str, KnownLimit]:
    """Download ID → the limit known for the record's file on its order (one query for a page)."""
    listed = list(records)
    files = _record_files(listed)
    return _by_download_id(_seen(files.keys, {record.order_id for record in listed}), files.files)


def limits_for_order(
    *, order_number: int, records: Iterable[types.DownloadRecord]
) -> tuple[dict[str, KnownLimit], dict[str, KnownLimit]]:
    """An order page's two views of its records' limits in one query: limits_for_files of their file
    names (the diagnosis) and limits_for_records (the records table)."""
    files = _record_files(records)
    seen = _seen(files.keys, {order_number})
    return _by_file(seen, files.named, order_number), _by_download_id(seen, files.files)


def _by_file(seen: dict[str, list[SeenLimit]], keys: Set[str], order_number: int) -> dict[str, KnownLimit]:
    unseen = _choose([], order_number)  # the shop's default: a file no page showed, chosen once
    known = {key: _choose(seen[key], order_number) if key in seen else unseen for key in keys}
    return {key: limit for key, limit in known.items() if limit is not None}


def limits_by_download_id(files: Mapping[str, tuple[int | None, str]]) -> dict[str, KnownLimit]:
    """Download ID → the limit known for its (order number, file name), as limits_for_records asks it,
    for records known only by what the dashboard noted of them (one query)."""
    keyed = {download_id: (number, name, file_key(name)) for download_id, (number, name) in files.items()}
    keys = {key for _, _, key in keyed.values()}
    orders = {number for number, _, _ in keyed.values() if number is not None}
    named = [(download_id, number, key) for download_id, (number, name, key) in keyed.items() if name.strip()]
    return _by_download_id(_seen(keys, orders), named)


def _by_download_id(
    seen: dict[str, list[SeenLimit]], files: Iterable[tuple[str, int | None, str]]
) -> dict[str, KnownLimit]:
    """Download ID → its limit, for each named file's (download ID, order number, file key)."""
    # A file's limit is the same for every order whose own page did not show it: chosen once per file.
    orders_of = {key: {row.order_number for row in rows} for key, rows in seen.items()}
    unseen = _choose([], None)  # the shop's default: a file no page showed, chosen once for them all
    chosen: dict[tuple[str, int | None], KnownLimit | None] = {}
    known: dict[str, KnownLimit] = {}
    for download_id, order_number, key in files:
        if key not in seen:
            limit = unseen
        else:
            whose = (key, order_number if order_number in orders_of[key] else None)
            if whose not in chosen:
                chosen[whose] = _choose(seen[key], order_number)
            limit = chosen[whose]
        if limit is not None:
            known[download_id] = limit
    return known
