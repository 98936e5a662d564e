"""Attach and detach assets on an order, and the asset search by file name, in the sandbox (issue 16):
both body shapes, 201 answers, 404 for an unknown asset, 422 for an empty list, attaching twice is once,
and the order's `assets` and the customer's view follow."""

from typing import Any

import requests

from tests.conftest import Sandbox


def ff(sandbox: Sandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {sandbox.key}", "Accept": "application/json"}
    return requests.request(method, f"{sandbox.fileflare_url}{path}", headers=headers, timeout=10, **kwargs)


def _order_assets(sandbox: Sandbox, order_id: str) -> list[str]:
    body = ff(sandbox, "GET", f"/v1/orders/{order_id}", params={"with_assets": 1}).json()
    return [asset["id"] for asset in body["data"][0]["assets"]]


def _customer_files(sandbox: Sandbox, token: str) -> dict[str, Any]:
    url = f"{sandbox.fileflare_url}/v2/customer-account-orders"
    view = requests.get(url, params={"id": token}, timeout=10).json()
    return {item["data"]["id"]: item["limits"] for item in view["order"]["assets"]}


def _part_two(sandbox: Sandbox) -> dict[str, Any]:
    return ff(sandbox, "GET", "/v1/assets", params={"filename": "part 2", "limit": 1}).json()["data"][0]


def test_attach_takes_both_body_shapes_answers_201_and_twice_is_once(sandbox: Sandbox) -> None:
    order = sandbox.create_order({})
    asset = _part_two(sandbox)
    attach, detach = f"/v1/orders/{order['id']}/attach", f"/v1/orders/{order['id']}/detach"

    first = ff(sandbox, "POST", attach, json={"assets": [asset["id"]]})
    assert first.status_code == 201 and [a["id"] for a in first.json()["data"]["assets"]] == [asset["id"]]
    again = ff(sandbox, "POST", attach, json={"asset_ids": [asset["id"], asset["id"]]})
    assert again.status_code == 201 and [a["id"] for a in again.json()["data"]["assets"]] == [asset["id"]]
    assert _order_assets(sandbox, order["id"]) == [asset["id"]]
    unlimited = {"downloaded": 0, "limit": None}
    assert _customer_files(sandbox, order["customer_token"]) == {asset["id"]: unlimited}

    gone = ff(sandbox, "POST", detach, json={"asset_ids": [asset["id"]]})
    assert gone.status_code == 201 and gone.json()["data"]["assets"] == []
    assert _order_assets(sandbox, order["id"]) == []
    assert _customer_files(sandbox, order["customer_token"]) == {}
    assert ff(sandbox, "POST", detach, json={"assets": [asset["id"]]}).status_code == 201  # nothing to detach


def test_unknown_assets_empty_lists_and_bad_ids_are_refused_and_change_nothing(sandbox: Sandbox) -> None:
    order = sandbox.create_order({})
    attach = f"/v1/orders/{order['id']}/attach"
    known = _part_two(sandbox)["id"]
    unknown = ff(sandbox, "POST", attach, json={"assets": [known, "00000000-0000-4000-8000-000000000000"]})
    assert unknown.status_code == 404 and unknown.json() == {"message": "Not found."}
    assert _order_assets(sandbox, order["id"]) == []  # not even the known one
    for field in ("assets", "asset_ids"):
        empty = ff(sandbox, "POST", attach, json={field: []})
        assert empty.status_code == 422
        required = f"The {field} field is required."
        assert empty.json() == {"message": required, "errors": {field: [required]}}
    malformed = ff(sandbox, "POST", attach, json={"assets": ["nope", known]})
    assert malformed.status_code == 422 and list(malformed.json()["errors"]) == ["assets.0"]
    nowhere = "/v1/orders/00000000-0000-4000-8000-000000000000/attach"
    no_order = ff(sandbox, "POST", nowhere, json={"assets": [known]})
    assert no_order.status_code == 404
    assert ff(sandbox, "GET", attach).status_code == 405


def test_assets_are_searched_by_a_part_of_the_file_name_in_pages(sandbox: Sandbox) -> None:
    first = ff(sandbox, "GET", "/v1/assets", params={"filename": "PART 2", "limit": 2}).json()
    total, last = first["meta"]["total"], first["meta"]["last_page"]
    assert total >= 3 and last == -(-total // 2) and first["links"]["next"].endswith("?page=2")
    names: list[str] = []
    for page in range(1, last + 1):
        query = {"filename": "PART 2", "limit": 2, "page": page}
        rows = ff(sandbox, "GET", "/v1/assets", params=query).json()
        names += [row["filename"] for row in rows["data"]]
    assert len(names) == total == len(set(names)) and all("part 2" in name.lower() for name in names)
    assert {"id", "filename", "size", "is_file", "is_link", "url"} == set(first["data"][0])
