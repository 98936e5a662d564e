"""Orders made for one test in the sandbox, with the download records that go with them."""

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from audit.models import AuditEntry
from tests.conftest import Sandbox
from tests.support.faultproxy import FaultProxy

# Product IDs no seeded product has, one per made order, so a search by number finds only its records.
_product_ids = itertools.count(random.randint(900_000, 990_000) * 10)


@dataclass
class MadeOrder:
    id: str
    order_number: int
    token: str
    status_url: str
    records: dict[str, str]  # file name → download ID of its record


def count_fixed(user: Any, order: MadeOrder, file: str, before: int, after: int) -> AuditEntry:
    """A successful count fix of the order's record of `file` in its History (an AuditEntry), as the
    order page's fix writes it."""
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username(),
        action="download_record_count",
        order_number=order.order_number,
        download_id=order.records[file],
        before={"download_count": before},
        after={"download_count": after, "download_file_name": file},
        outcome="success",
    )


class SandboxHttp:
    """The sandbox's APIs read straight, as an outside observer: to see what really happened."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()

    def record(self, download_id: str) -> dict[str, Any]:
        response = self.session.get(
            f"{self.sandbox.downloads_url}/downloads/{download_id}",
            headers={"Authorization": f"Bearer {self.sandbox.token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def create_record(self, **fields: Any) -> dict[str, Any]:
        response = self.session.post(
            f"{self.sandbox.downloads_url}/downloads",
            json=fields,
            headers={"Authorization": f"Bearer {self.sandbox.token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def set_count(self, download_id: str, count: int) -> None:
        self.session.patch(
            f"{self.sandbox.downloads_url}/downloads/{download_id}",
            json={"download_count": count},
            headers={"Authorization": f"Bearer {self.sandbox.token}"},
            timeout=30,
        ).raise_for_status()

    def customer_limits(self, token: str, filename: str) -> dict[str, Any]:
        view = self.session.get(
            f"{self.sandbox.fileflare_url}/v2/customer-account-orders", params={"id": token}, timeout=30
        ).json()["order"]
        items = [asset for line in view["lines"] for asset in line["assets"]] + view["assets"]
        return next(item["limits"] for item in items if item["data"]["filename"] == filename)

    def order_assets(self, order_id: str) -> list[dict[str, Any]]:
        response = self.session.get(
            f"{self.sandbox.fileflare_url}/v1/orders/{order_id}",
            params={"with_assets": 1},
            headers={"Authorization": f"Bearer {self.sandbox.key}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["data"][0]["assets"]

    def change_assets(self, order_id: str, action: str, asset_ids: list[str]) -> None:
        """Attach or detach files at Fileflare itself, as someone outside the dashboard does."""
        self.session.post(
            f"{self.sandbox.fileflare_url}/v1/orders/{order_id}/{action}",
            json={"assets": asset_ids},
            headers={"Authorization": f"Bearer {self.sandbox.key}"},
            timeout=30,
        ).raise_for_status()

    def customer_filenames(self, token: str) -> list[str]:
        view = self.session.get(
            f"{self.sandbox.fileflare_url}/v2/customer-account-orders", params={"id": token}, timeout=30
        ).json()["order"]
        items = [asset for line in view["lines"] for asset in line["assets"]] + view["assets"]
        return [item["data"]["filename"] for item in items]


@pytest.fixture
def fileflare_proxy(sandbox: Sandbox, settings: Any) -> Iterator[FaultProxy]:
    """The dashboard's Fileflare API reached through the fault proxy (tests read the sandbox directly)."""
    with FaultProxy(sandbox.url) as proxy:
        settings.FILEFLARE_API_URL = f"{proxy.url}/api"
        yield proxy


@pytest.fixture
def upstream(sandbox: Sandbox) -> Iterator[SandboxHttp]:
    http = SandboxHttp(sandbox)
    yield http
    http.session.close()


@pytest.fixture
def make_order(sandbox: Sandbox, upstream: SandboxHttp) -> Any:
    """An order of one product whose files have these (downloaded, limit), each with a download record
    at its downloaded count, as a shop that counts downloads in its records has them."""

    def make(files: dict[str, tuple[int, int | None]], **extra: Any) -> MadeOrder:
        product_id = next(_product_ids)
        made = sandbox.create_order(
            {
                "lines": [
                    {
                        "product": {"name": "Budget Planner", "product_id": product_id},
                        "assets": [
                            {"filename": name, "downloaded": downloaded, "limit": limit}
                            for name, (downloaded, limit) in files.items()
                        ],
                    }
                ],
                **extra,
            }
        )
        records = {
            name: upstream.create_record(
                product_id=product_id,
                order_id=made["order_number"],
                download_count=downloaded,
                download_file_name=name,
                is_amazon=False,
                amazon_key="",
            )["download_id"]
            for name, (downloaded, _limit) in files.items()
        }
        return MadeOrder(
            id=made["id"],
            order_number=made["order_number"],
            token=made["customer_token"],
            status_url=made["order_status_url"],
            records=records,
        )

    return make
