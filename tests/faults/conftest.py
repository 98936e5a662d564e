"""One production-like stack (gunicorn, Redis, the sandbox) for every test in tests/faults/ that needs one."""

from collections.abc import Iterator

import pytest

from tests.faults.stack import FaultStack


@pytest.fixture(scope="package")
def stack() -> Iterator[FaultStack]:
    running = FaultStack()
    try:
        running.start()
    except SystemExit as failed:  # bench's way of saying a server did not come up
        running.stop()
        pytest.fail(f"The production-like stack did not start: {failed}")
    yield running
    running.stop()


@pytest.fixture
def calm(stack: FaultStack) -> FaultStack:
    """The stack with no fault, nothing saved and no breaker open."""
    stack.calm()
    return stack
