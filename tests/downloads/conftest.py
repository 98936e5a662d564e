"""Helpers for download-record tests: the sandbox's downloads API read back directly, fresh orders."""

import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.contrib.auth.models import Group, User
from django.test import Client

from tests.conftest import Sandbox
from tests.support.faultproxy import FaultProxy

# Order numbers no seeded order has and no other test uses: each test gets its own.
# Spaced by 10: a test may also use order_number + 1 (moving a record to another order).
_order_numbers = itertools.count(random.randint(7_000_000, 8_000_000) * 10, 10)


class DownloadsApi:
    """The sandbox's downloads API, called the way an outside observer would: to see what really happened."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.base = f"{sandbox.downloads_url}/downloads"
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {sandbox.token}", "Accept": "application/json"}
        )

    def get(self, download_id: str) -> dict[str, Any] | None:
        response = self.session.get(f"{self.base}/{download_id}", timeout=30)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.session.post(self.base, json=fields, timeout=30)
        response.raise_for_status()
        return response.json()

    def patch(self, download_id: str, **fields: Any) -> dict[str, Any]:
        response = self.session.patch(f"{self.base}/{download_id}", json=fields, timeout=30)
        response.raise_for_status()
        return response.json()

    def for_order(self, order_id: int) -> list[dict[str, Any]]:
        response = self.session.get(self.base, params={"search": str(order_id), "perpage": 100}, timeout=30)
        response.raise_for_status()
        return [item for item in response.json() if item["order_id"] == order_id]


@pytest.fixture
def downloads_api(sandbox: Sandbox) -> Iterator[DownloadsApi]:
    api = DownloadsApi(sandbox)
    yield api
    api.session.close()


@pytest.fixture
def order_number() -> int:
    """A shop order number only this test uses."""
    return next(_order_numbers)


@pytest.fixture
def make_record(downloads_api: DownloadsApi, order_number: int) -> Any:
    """Creates a record straight at the API (not through the dashboard) for this test's order."""

    def make(**fields: Any) -> dict[str, Any]:
        values = {
            "product_id": 4242,
            "order_id": order_number,
            "download_count": 2,
            "download_file_name": "handbook.pdf",
            "is_amazon": False,
            "amazon_key": "",
            **fields,
        }
        return downloads_api.create(**values)

    return make


@pytest.fixture
def second_merchant_client(db: None) -> Client:
    """A colleague: another Merchant signed in in another browser."""
    user = User.objects.create_user(username="max-merchant", password="another-long-password-77")
    user.groups.add(Group.objects.get_or_create(name="Merchant")[0])  # a transactional test flushes groups
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def fault_proxy(sandbox: Sandbox, settings: Any) -> Iterator[FaultProxy]:
    """The dashboard's downloads API reached through the fault proxy (tests read the sandbox directly)."""
    with FaultProxy(sandbox.url) as proxy:
        settings.DOWNLOADS_API_URL = f"{proxy.url}/easycart"
        yield proxy
