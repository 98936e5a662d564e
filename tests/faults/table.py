"""The fault table: each fault against the five things support staff do most, each answer's status and time,
measured on the production-like stack (tests/faults/stack.py). The test in test_fault_table.py checks it;
`python -m tests.faults.table` prints it as the Markdown table in the README's "Faults" section."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

from tests.faults.stack import CACHE_TTL, Answer, FaultStack, Form, Visitor

ORDER_NUMBER = 1050
ORDER_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"  # order #1050 in the sandbox's seed


@dataclass
class Forms:
    """The forms a person had open when the fault began (read while all was well)."""

    count: Form
    create: Form


def open_forms(visitor: Visitor) -> Forms:
    count = visitor.form(f"/downloads/?q={ORDER_NUMBER}", "/count/")
    create = visitor.form("/downloads/new/", "/downloads/new/")
    return Forms(count=count, create=create)


def _create_fields(form: Form) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in form.fields:
        if "order" in name:
            values[name] = str(ORDER_NUMBER)
        elif "product" in name:
            values[name] = "7001"
        elif "count" in name:
            values[name] = "1"
        elif "file_name" in name:
            values[name] = "fault-table.pdf"
        elif name == "reason":
            values[name] = "Fault table"
    return values


def _count_fields(form: Form) -> dict[str, str]:
    current = form.fields.get("count", "0")
    return {"count": str(int(current) + 1 if current.isdigit() else 1)}


PAGES: dict[str, Callable[[Visitor, Forms], Answer]] = {
    "search": lambda visitor, forms: visitor.get(f"/orders/?q={ORDER_NUMBER}"),
    "order page": lambda visitor, forms: visitor.get(f"/orders/{ORDER_ID}/"),
    "records list": lambda visitor, forms: visitor.get(f"/downloads/?q={ORDER_NUMBER}"),
    "count fix": lambda visitor, forms: visitor.send(forms.count, **_count_fields(forms.count)),
    "create": lambda visitor, forms: visitor.send(forms.create, **_create_fields(forms.create)),
}


@dataclass(frozen=True)
class Fault:
    name: str
    begin: Callable[[FaultStack], AbstractContextManager[object]]
    saved_copies: bool = False  # open every page first, then let the copies go out of date


@contextmanager
def _redis_stopped(stack: FaultStack) -> Iterator[None]:
    stack.redis.stop()
    yield


@contextmanager
def _redis_stalled(stack: FaultStack) -> Iterator[None]:
    stack.stall_redis()
    yield


@contextmanager
def _upstream(stack: FaultStack, **faults: float) -> Iterator[None]:
    stack.upstream(**faults)
    yield


FAULTS = [
    Fault("none", lambda stack: nullcontext()),
    Fault("Redis stopped", _redis_stopped),
    Fault("Redis stalled (SIGSTOP)", _redis_stalled),
    Fault("upstreams hang, nothing saved", lambda stack: _upstream(stack, hang_rate=1.0)),
    Fault("upstreams hang, saved copies", lambda stack: _upstream(stack, hang_rate=1.0), saved_copies=True),
    Fault("upstreams answer 5xx", lambda stack: _upstream(stack, error_rate=1.0)),
    Fault("dashboard database locked", lambda stack: stack.database_locked()),
    Fault("dashboard database missing", lambda stack: stack.database_missing()),
]


@dataclass(frozen=True)
class Cell:
    fault: str
    page: str
    answer: Answer


def measure(stack: FaultStack, faults: list[Fault] = FAULTS) -> list[Cell]:
    """Every fault, every page: the forms are read while all is well, then the fault begins."""
    cells: list[Cell] = []
    for fault in faults:
        stack.calm()
        visitor = stack.visitor()
        if fault.saved_copies:
            for page in ("search", "order page", "records list"):
                PAGES[page](visitor, open_forms(visitor))
        forms = open_forms(visitor)
        if fault.saved_copies:
            time.sleep(CACHE_TTL + 0.2)  # what was saved is no longer fresh
        else:
            stack.redis.flush()  # reading the forms saved copies of what they showed: forget them
            stack.forget_index()  # and the orders those pages noted in the order index
        with fault.begin(stack):
            for page, act in PAGES.items():
                if not stack.redis_stalled and stack.redis.process and stack.redis.process.poll() is None:
                    stack.reset_breakers()  # each page meets the fault afresh
                cells.append(Cell(fault.name, page, act(visitor, forms)))
    stack.calm()
    return cells


def markdown(cells: list[Cell]) -> str:
    pages = list(PAGES)
    lines = [
        "| fault | " + " | ".join(pages) + " |",
        "|---|" + "---|" * len(pages),
    ]
    for fault in dict.fromkeys(cell.fault for cell in cells):
        row = {cell.page: cell.answer for cell in cells if cell.fault == fault}
        lines.append(
            f"| {fault} | "
            + " | ".join(f"{row[page].status} in {row[page].seconds:.1f} s" for page in pages)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    with FaultStack() as stack:
        print(markdown(measure(stack)))


if __name__ == "__main__":
    main()
