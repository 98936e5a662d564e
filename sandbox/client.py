"""The sandbox HTTP helper: its /_sandbox/ control endpoints, called over HTTP from tests, the benchmark
and `make run`. Standard library only, so nothing here needs Django or the sandbox's settings."""

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

# What reset_faults sets once the environment's settings are back.
NO_FAULTS = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "hang_rate": 0.0,
    "malformed_rate": 0.0,
    "rate_limit": 0,
    "email_rate_limit": 0,
}


class SandboxClient:
    """The sandbox-only controls at `url` (faults, limits, playing the customer, the outbox, counts)."""

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def call(self, path: str, payload: Any = None, *, method: str | None = None) -> Any:
        """One JSON request to the sandbox; raises urllib.error.HTTPError on a 4xx/5xx answer."""
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310 (the sandbox: loopback in tests, bench and the demo)
            f"{self.url}{path}",
            data=data,
            method=method or ("POST" if data is not None else "GET"),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def answers(self) -> bool:
        """Whether the sandbox is up and answering its control endpoints."""
        try:
            self.call("/_sandbox/config")
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            return False
        return True

    def config(self, **changes: Any) -> dict[str, Any]:
        """The fault, limit and dialect settings; with keyword arguments, change those first."""
        if not changes:
            return self.call("/_sandbox/config")
        return self.call("/_sandbox/config", changes, method="POST")

    def reset_limits(self) -> None:
        self.call("/_sandbox/reset-limits", {}, method="POST")

    def reset_faults(self) -> None:
        """Settings back to the sandbox's environment (its downloads dialect and time zone), then no
        latency, errors, hangs or malformed answers and no rate limits."""
        self.call("/_sandbox/config", {"reset": True}, method="POST")
        self.config(**NO_FAULTS)
        self.reset_limits()

    def stats(self) -> dict[str, int]:
        """Requests answered on each API since the sandbox started."""
        return self.call("/_sandbox/stats")

    def customer(self, order_number: int) -> dict[str, Any]:
        """Play the customer: the order's id, token and order-status link."""
        return self.call(f"/_sandbox/orders/{order_number}")

    def outbox(self) -> list[dict[str, Any]]:
        return self.call("/_sandbox/outbox")

    def create_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("/_sandbox/orders", payload, method="POST")

    def trickle(
        self,
        *,
        steps: int = 1,
        at: str | None = None,
        every: int = 60,
        seed: int | None = None,
        dry_run: bool = False,
    ) -> Any:
        """Run the trickle's steps (sandbox.trickle): the first at `at` (ISO, default now), then every
        `every` seconds. Answers what they did (downloads and refusals by kind, orders made); `dry_run`:
        what the step at `at` would do, doing nothing."""
        body: dict[str, Any] = {"steps": steps, "every": every, "dry_run": dry_run}
        body.update({name: value for name, value in (("at", at), ("seed", seed)) if value is not None})
        return self.call("/_sandbox/trickle", body, method="POST")

    def forget_after(self, after: str) -> dict[str, int]:
        """Take the shop back to `after` (ISO): what the trickle dated after it is gone (sandbox.trickle)."""
        return self.call("/_sandbox/trickle/forget", {"after": after}, method="POST")

    def download_events(
        self, *, since: str | None = None, until: str | None = None, order: int | None = None
    ) -> list[dict[str, Any]]:
        """The downloads the sandbox made or refused (the ground truth), oldest first."""
        query = urllib.parse.urlencode(
            {name: value for name, value in (("since", since), ("until", until), ("order", order)) if value}
        )
        return self.call(f"/_sandbox/download-events{'?' + query if query else ''}")

    def reseed(self, *, orders: int | None = None, seed: int | None = None) -> dict[str, Any]:
        body = {name: value for name, value in (("orders", orders), ("seed", seed)) if value is not None}
        return self.call("/_sandbox/reseed", body, method="POST")
