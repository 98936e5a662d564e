"""What the sandbox's Fileflare API says of an order, read as an outside observer would (tests' ground
truth beside the dashboard's own reads)."""

from __future__ import annotations

from datetime import UTC, datetime

import requests

from sandbox.launcher import SandboxApis


def email_sent_at(sandbox: SandboxApis, order_number: int) -> datetime | None:
    """When the order's download e-mail last went out (None: never)."""
    answer = requests.get(
        f"{sandbox.fileflare_url}/v1/orders",
        params={"order_number": order_number},
        headers={"Authorization": f"Bearer {sandbox.key}"},
        timeout=10,
    )
    answer.raise_for_status()
    sent = answer.json()["data"][0]["email_sent_at"]
    return datetime.fromtimestamp(sent, tz=UTC) if sent is not None else None
