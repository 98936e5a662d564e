"""What a page works out from its download records alone, worked out once per records answer (issue 28).

A warm page's records are the very objects this process parsed from the saved answer
(fileflare_admin.api.downloads keeps them): frozen records of plain values, which never change. What
follows from them alone (each one's file key, their files grouped, their counts as one text, their rows'
digest) is kept here with the records themselves, by their identities, and given to the next page that
shows the same records; a new answer is new objects, so it is worked out afresh. Nothing read from
anywhere else (a limit, a product name, a count noted in the database) is kept: callers add those.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar, cast

from fileflare_admin.api import types

T = TypeVar("T")

# The newest answers' values (an order page asks for six kinds, the records list for four); the records are
# held with them, so their identities are not reused while kept (parsed pages keep them anyway).
KEPT_MAX = 128  # with the records they hold: about 1.5 MB at most
_kept: OrderedDict[tuple[Hashable, tuple[int, ...]], tuple[tuple[Any, ...], Any]] = OrderedDict()
_lock = threading.Lock()


def of_records(
    name: Hashable, records: Iterable[types.DownloadRecord], work: Callable[[tuple[Any, ...]], T]
) -> T:
    """`work(records)`, computed once for these very records while kept: `name` names the kind of value
    and anything else `work` reads, and `work` gives a value no caller changes (a text, a tuple).
    Anything but download records (a test's stand-in) is worked out each time."""
    listed = tuple(records)
    if not set(map(type, listed)) <= {types.DownloadRecord}:  # in C: an order page asks six times a load
        return work(listed)
    key = (name, tuple(map(id, listed)))
    with _lock:
        held = _kept.get(key)
        if held is not None:
            _kept.move_to_end(key)
            return cast(T, held[1])  # what this name's `work` gave
    value = work(listed)
    with _lock:
        _kept[key] = (listed, value)
        while len(_kept) > KEPT_MAX:
            _kept.popitem(last=False)
    return value
