"""Helpers for the security tests: records put straight into the sandbox's downloads API, and the
sandbox's own count of requests it answered (to prove a refused id never reached an upstream)."""

from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import Sandbox


def _call(sandbox: Sandbox, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """One request to the downloads API; None when it has no such record (404)."""
    response = requests.request(
        method,
        f"{sandbox.downloads_url}{path}",
        json=payload,
        headers={"Authorization": f"Bearer {sandbox.token}", "Accept": "application/json"},
        timeout=30,
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


@pytest.fixture
def make_record(sandbox: Sandbox) -> Callable[..., dict[str, Any]]:
    """A download record created at the downloads API (as another tool or a colleague would)."""

    def make(**fields: Any) -> dict[str, Any]:
        body = {
            "product_id": 7001,
            "order_id": 1050,
            "download_count": 1,
            "download_file_name": "security-test.pdf",
            "is_amazon": False,
            "amazon_key": "",
            **fields,
        }
        return _call(sandbox, "POST", "/downloads", body)

    return make


@pytest.fixture
def read_record(sandbox: Sandbox) -> Callable[[str], dict[str, Any] | None]:
    def read(download_id: str) -> dict[str, Any] | None:
        return _call(sandbox, "GET", f"/downloads/{download_id}")

    return read


@pytest.fixture
def upstream_requests(sandbox: Sandbox) -> Callable[[], int]:
    """How many requests the sandbox has answered on both APIs so far."""

    def count() -> int:
        return sum(sandbox.stats().values())

    return count
