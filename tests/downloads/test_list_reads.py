"""The records list's shared-cache reads (issue 28): a warm load reads them in one round trip (its saved
upstream answer read first, downloads.views._first_read, with what its reads named last time: "these
counts are noted", the product names, the rows' fragments; fileflare_admin.readahead), and whatever changed
since still shows on the next load: a count fixed, a product name learned, another person."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from downloads.products import product_names_remember
from tests.orders.test_readahead import cache_calls

pytestmark = pytest.mark.django_db
__all__ = ["cache_calls"]  # the read-ahead tests' fixture: each call made to the shared cache
HTMX = {"HTTP_HX_REQUEST": "true"}
# All in one: the answer with what the page's later reads named last time in this process (the counts'
# note, the product names, the rows); 3 before readahead kept a page's later keys itself.
WARM = ["get_many"]


def _list(client: Client, order_number: int, **params: Any) -> str:
    """The list searched for the order's number (or as `params` say)."""
    response = client.get("/downloads/", {"q": str(order_number), **params})
    assert response.status_code == 200
    return response.content.decode()


def _row(page: str, download_id: str) -> str:
    return page.split(f'id="record-{download_id}"', 1)[1].split("</tr>", 1)[0]


@pytest.mark.parametrize(
    "params",
    [{}, {"sort": "-download_count"}, {"per_page": 50}, {"q": "#"}],
    ids=["a search", "sorted", "50 a page", "an order's records"],
)
def test_the_warm_records_list_reads_its_answer_first_and_the_rest_together(
    merchant_client: Client, make_record: Any, order_number: int, cache_calls: list[str], params: Any
) -> None:
    """4 round trips one after the other before (the answer, the counts' note, the product names, the
    rows), on every page, sort and page size, and for htmx's partial too; no write."""
    made = [make_record(download_file_name=f"part-{index}.pdf") for index in range(3)]
    if params.get("q") == "#":
        params = {"q": f"#{order_number}"}
    for _ in range(2):  # cold, then warm: the keys it asks for are learned
        _list(merchant_client, order_number, **params)
    cache_calls.clear()
    page = _list(merchant_client, order_number, **params)
    assert cache_calls == WARM
    assert all(f'id="record-{record["download_id"]}"' in page for record in made)
    cache_calls.clear()
    response = merchant_client.get("/downloads/", {"q": str(order_number), **params}, **HTMX)
    assert response.status_code == 200 and 'id="record-results"' in response.content.decode()
    assert cache_calls == WARM


def test_a_count_fixed_since_shows_on_the_lists_next_load_then_as_few_round_trips_again(
    merchant_client: Client, make_record: Any, order_number: int, cache_calls: list[str]
) -> None:
    record = make_record(download_count=9)
    for _ in range(2):
        assert 'name="count" value="9"' in _row(_list(merchant_client, order_number), record["download_id"])
    fixed = merchant_client.post(
        reverse("downloads:count", args=[record["download_id"]]),
        {"expected": 9, "count": "3", "context": "list", "next": "/downloads/"},
    )
    assert fixed.status_code == 302
    row = _row(_list(merchant_client, order_number), record["download_id"])
    assert 'name="count" value="3"' in row and 'value="9"' not in row
    cache_calls.clear()
    assert 'name="count" value="3"' in _row(_list(merchant_client, order_number), record["download_id"])
    assert cache_calls == WARM


def test_a_product_name_learned_since_shows_on_the_lists_next_load(
    merchant_client: Client, make_record: Any, order_number: int
) -> None:
    """The names are read ahead as the page starts, as they were read a moment later before."""
    record = make_record(product_id=6_543_210)
    for _ in range(2):
        assert "Field Guide" not in _list(merchant_client, order_number)
    product_names_remember({6_543_210: "Field Guide"})
    assert "Field Guide" in _row(_list(merchant_client, order_number), record["download_id"])


def test_what_one_person_read_never_reaches_another(
    merchant_client: Client, support_client: Client, make_record: Any, order_number: int
) -> None:
    """A Merchant's rows (with Delete) never reach Support, though both read the same answer first."""
    record = make_record()
    for _ in range(2):
        assert "danger-link" in _row(_list(merchant_client, order_number), record["download_id"])
    for _ in range(2):
        assert "danger-link" not in _row(_list(support_client, order_number), record["download_id"])
    assert "danger-link" in _row(_list(merchant_client, order_number), record["download_id"])
