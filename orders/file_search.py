"""A pasted file (its name, or its download link): the orders and records holding it."""

from dataclasses import dataclass
from urllib.parse import unquote

from downloads.reads import download_records_naming
from fileflare_admin.api import fileflare, types
from orders.classify import link_path
from orders_index.services import order_index_holding, order_index_id_for


@dataclass(frozen=True)
class FileHolder:
    """An order that holds the searched file: attached to the order itself (from the order index), or
    named by its download records (the downloads API). `order_id` is None when no answer has shown the
    order yet: the page links to a search by its number instead."""

    order_number: int
    order_id: str | None
    attached: bool = False
    records: tuple[types.DownloadRecord, ...] = ()


@dataclass(frozen=True)
class FileMatches:
    """Where a pasted file (its name, or its download link) is: the orders holding it, newest first."""

    searched: str  # the file name (or link) as searched for
    names: tuple[str, ...]  # the file names looked for (a link's file may have another name)
    holders: tuple[FileHolder, ...]
    records_complete: bool = True  # False: the downloads API had more matches than one call reads
    assets_complete: bool = True  # False: the shop has more files than one call lists


def _link_names(url: str) -> tuple[list[str], bool]:
    """The names of the shop's files whose link this is (one list call, cached like every read), and
    the link's own last part ("my-book.pdf"); and whether the list held every file of the shop."""
    listed = fileflare.asset_list(page=1, limit=fileflare.RECENT_ORDERS).value
    wanted = url.rstrip("/").casefold()
    names = [
        asset.filename
        for asset in listed.items
        if asset.url and asset.url.strip().rstrip("/").casefold() == wanted
    ]
    last = unquote(link_path(url).rstrip("/").rsplit("/", 1)[-1])
    return list(dict.fromkeys([*names, *([last] if last else [])])), not listed.has_next


def file_matches(searched: str, *, url: str = "") -> FileMatches:
    """The orders that hold a file: attached to the order (the order index: no call) or named by a
    download record (one downloads API call, for the file's first name). A link costs one Fileflare
    call more: the shop's files, to learn the name of the file behind it."""
    names, assets_complete = _link_names(url) if url else ([searched], True)
    attached = {
        view.order.order_number: view.order.id
        for name in names
        for view in order_index_holding(filename=name, url=url)
    }
    found = download_records_naming(filename=names[0]) if names else None
    by_order: dict[int, list[types.DownloadRecord]] = {}
    for record in found.records if found else ():
        by_order.setdefault(record.order_id, []).append(record)
    holders = tuple(
        FileHolder(
            order_number=number,
            order_id=attached.get(number) or order_index_id_for(number) or fileflare.order_id_for(number),
            attached=number in attached,
            records=tuple(by_order.get(number, ())),
        )
        for number in sorted(set(attached) | set(by_order), reverse=True)
    )
    return FileMatches(
        searched=searched,
        names=tuple(names),
        holders=holders,
        records_complete=found.complete if found else True,
        assets_complete=assets_complete,
    )
