"""Insights tests: the downloads tests' records made at the sandbox, and the bulk-fix tests' real worker."""

import requests

from tests.conftest import SandboxApis
from tests.downloads.conftest import downloads_api, make_record, order_number
from tests.jobs.conftest import start_worker

__all__ = ["downloads_api", "make_record", "order_number", "records_total", "start_worker"]


def records_total(sandbox: SandboxApis) -> int:
    """How many records the sandbox's downloads API holds (its X-WP-Total), in one request."""
    answer = requests.get(
        f"{sandbox.downloads_url}/downloads",
        params={"perpage": 1},
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    return int(answer.headers["X-WP-Total"])
