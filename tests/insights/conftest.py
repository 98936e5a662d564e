"""Insights tests: the downloads tests' records made at the sandbox, and the bulk-fix tests' real worker."""

from tests.downloads.conftest import downloads_api, make_record, order_number
from tests.jobs.conftest import start_worker

__all__ = ["downloads_api", "make_record", "order_number", "start_worker"]
