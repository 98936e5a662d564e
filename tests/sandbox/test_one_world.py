"""One world in the sandbox (issue 15): a file's count on the customer's download page is the sum of the
order's download records for that file, and a download on the sandbox's customer page counts there."""

import re
from typing import Any

import requests

from tests.conftest import Sandbox


def _records(sandbox: Sandbox, method: str, path: str = "", **body: Any) -> dict[str, Any]:
    answer = requests.request(
        method,
        f"{sandbox.downloads_url}/downloads{path}",
        headers={"Authorization": f"Bearer {sandbox.token}"},
        json=body or None,
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()


def _limits(sandbox: Sandbox, token: str, filename: str) -> dict[str, Any]:
    url = f"{sandbox.fileflare_url}/v2/customer-account-orders"
    view = requests.get(url, params={"id": token}, timeout=10).json()["order"]
    files = [item for line in view["lines"] for item in line["assets"]] + view["assets"]
    (found,) = [item["limits"] for item in files if item["data"]["filename"] == filename]
    return found


def _order(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.create_order(
        {
            "lines": [
                {
                    "product": {"name": "Budget Planner"},
                    "assets": [
                        {"filename": "planner.pdf", "limit": 10, "downloaded": 7},
                        {"filename": "bonus.pdf", "limit": 3, "downloaded": 1},
                    ],
                }
            ]
        }
    )


def test_the_customers_count_is_the_sum_of_the_orders_records_for_that_file(sandbox: Sandbox) -> None:
    order = _order(sandbox)
    number, token = order["order_number"], order["customer_token"]
    assert _limits(sandbox, token, "planner.pdf") == {"downloaded": 7, "limit": 10}  # no record: its own
    first = _records(sandbox, "POST", order_id=number, download_file_name="planner.pdf", download_count=4)
    assert _limits(sandbox, token, "planner.pdf") == {"downloaded": 4, "limit": 10}
    _records(sandbox, "POST", order_id=number, download_file_name="planner.pdf", download_count=6)
    _records(sandbox, "POST", order_id=number + 10**6, download_file_name="planner.pdf", download_count=50)
    _records(sandbox, "POST", order_id=number, download_file_name="other.pdf", download_count=50)
    assert _limits(sandbox, token, "planner.pdf") == {"downloaded": 10, "limit": 10}
    _records(sandbox, "PATCH", f"/{first['download_id']}", download_count=0)  # a reset in the dashboard...
    assert _limits(sandbox, token, "planner.pdf") == {"downloaded": 6, "limit": 10}  # ...is what they see
    assert _limits(sandbox, token, "bonus.pdf") == {"downloaded": 1, "limit": 3}


def _download_buttons(page: str) -> dict[str, str]:
    """File name → the action of its Download form on the customer page."""
    rows = re.findall(r"<tr><td>([^<]+)</td><td>[^<]*</td><td>(.*?)</td></tr>", page)
    return {
        name: action.group(1) for name, cell in rows if (action := re.search(r'action="([^"]+)"', cell))
    }


def test_a_download_on_the_customer_page_counts_on_the_record(sandbox: Sandbox) -> None:
    order = _order(sandbox)
    number, token = order["order_number"], order["customer_token"]
    older = _records(sandbox, "POST", order_id=number, download_file_name="planner.pdf", download_count=4)
    page = requests.get(order["customer_page_url"], timeout=10)
    assert page.status_code == 200 and "<td>4 of 10</td>" in page.text and "<td>1 of 3</td>" in page.text
    buttons = _download_buttons(page.text)
    assert set(buttons) == {"planner.pdf", "bonus.pdf"}

    after = requests.post(f"{sandbox.url}{buttons['planner.pdf']}", timeout=10)
    assert after.status_code == 200 and "Downloaded: planner.pdf" in after.text
    assert "<td>5 of 10</td>" in after.text
    assert _records(sandbox, "GET", f"/{older['download_id']}")["download_count"] == 5
    assert _limits(sandbox, token, "planner.pdf") == {"downloaded": 5, "limit": 10}

    requests.post(f"{sandbox.url}{buttons['bonus.pdf']}", timeout=10)  # no record: its own counter
    assert _limits(sandbox, token, "bonus.pdf") == {"downloaded": 2, "limit": 3}


def test_at_the_limit_the_customer_page_refuses_and_nothing_counts(sandbox: Sandbox) -> None:
    order = _order(sandbox)
    record = _records(
        sandbox, "POST", order_id=order["order_number"], download_file_name="planner.pdf", download_count=3
    )
    action = _download_buttons(requests.get(order["customer_page_url"], timeout=10).text)["planner.pdf"]
    _records(sandbox, "PATCH", f"/{record['download_id']}", download_count=10)
    page = requests.get(order["customer_page_url"], timeout=10).text
    assert "Download limit reached" in page and "planner.pdf" not in _download_buttons(page)
    refused = requests.post(f"{sandbox.url}{action}", timeout=10)
    assert "Not downloaded, the limit is reached: planner.pdf" in refused.text
    assert _records(sandbox, "GET", f"/{record['download_id']}")["download_count"] == 10
