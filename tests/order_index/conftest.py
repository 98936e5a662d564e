"""Order-index tests share the bulk-fix tests' real worker."""

from tests.jobs.conftest import start_worker

__all__ = ["start_worker"]
