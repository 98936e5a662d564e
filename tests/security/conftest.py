"""Helpers for the security tests: records put straight into the sandbox's downloads API, and the
sandbox's own count of requests it answered (to prove a refused id never reached an upstream)."""

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Sandbox


def _call(sandbox: Sandbox, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 (loopback sandbox)
        f"{sandbox.downloads_url}{path}",
        data=json.dumps(payload).encode() if payload is not None else None,
        method=method,
        headers={
            "Authorization": f"Bearer {sandbox.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


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
        try:
            return _call(sandbox, "GET", f"/downloads/{download_id}")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    return read


@pytest.fixture
def upstream_requests(sandbox: Sandbox) -> Callable[[], int]:
    """How many requests the sandbox has answered on both APIs so far."""

    def count() -> int:
        with urllib.request.urlopen(f"{sandbox.url}/_sandbox/stats", timeout=30) as response:  # noqa: S310
            return sum(json.loads(response.read()).values())

    return count
