"""Product names for the records' Product column.

The downloads API knows a record's product only by the store's product number. A name is known where
Fileflare's data already fetched for a page names the product of the record's file: the order page's
customer view lists each product with its files. Such names are kept in the shared cache, so every list
of records shows them; nothing is ever fetched for a row (a list asks the cache once).
"""

from collections.abc import Iterable, Mapping

from fileflare_admin import readahead
from fileflare_admin.filenames import file_key

TTL_SECONDS = 7 * 24 * 3600
_KEY = "product-name:{}"


def product_names_remember(names: Mapping[int, str]) -> None:
    if names:
        readahead.set_many({_KEY.format(product_id): name for product_id, name in names.items()}, TTL_SECONDS)


def product_names_known(product_ids: Iterable[object]) -> dict[int, str]:
    """The names known of these product numbers (one cache round trip)."""
    ids = {product_id for product_id in product_ids if isinstance(product_id, int)}
    if not ids:
        return {}
    found = readahead.get_many(product_name_keys(ids))
    return {product_id: found[key] for product_id in ids if (key := _KEY.format(product_id)) in found}


def product_name_keys(product_ids: Iterable[object]) -> list[str]:
    """The cache keys of these product numbers' names, for a page that reads them ahead with its other
    keys (fileflare_admin.readahead)."""
    return [_KEY.format(product_id) for product_id in product_ids if isinstance(product_id, int)]


def product_names_from_files(
    records: Iterable[object], products_of_files: Mapping[str, str]
) -> dict[int, str]:
    """Product number → name, where a record's file (matched as filenames.file_key matches names) is listed
    under one named product, and the records of a number never point at two different names.
    `products_of_files`: file key → product name ("" when two products list the file)."""
    names: dict[int, str] = {}
    clashes: set[int] = set()
    for record in records:
        product_id = getattr(record, "product_id", None)
        name = products_of_files.get(file_key(str(getattr(record, "download_file_name", "") or "")))
        if not isinstance(product_id, int) or not name:
            continue
        if names.setdefault(product_id, name) != name:
            clashes.add(product_id)
    return {product_id: name for product_id, name in names.items() if product_id not in clashes}
