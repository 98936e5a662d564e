"""orders.identity: an order number's Fileflare ID comes from the order index, then the read cache, then
one list request, in that order, and back (ID → number) from the index or the cache without a call.
Against the sandbox over a socket; its own request count says whether Fileflare was asked."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
from django.core.cache import cache

from fileflare_admin.api import fileflare
from orders.identity import (
    order_id_for_number,
    order_lookup_by_number,
    order_number_and_link,
    order_number_for_id,
)
from orders.models import KnownCustomerToken
from orders_index.models import IndexedOrder
from orders_index.services import order_index_note
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db

EXAMPLE_NUMBER = 1050  # the documented example order, seeded by the sandbox


def _calls(sandbox: Sandbox) -> int:
    return sandbox.stats()["fileflare"]


def _example_id() -> str:
    found = order_id_for_number(EXAMPLE_NUMBER)
    assert found is not None
    cache.clear()
    IndexedOrder.objects.all().delete()  # the lookup's answer went into the index too: forget it there
    return found


def test_the_order_index_answers_first_without_a_call(sandbox: Sandbox) -> None:
    example_id = _example_id()
    fileflare.order_list(order_number=EXAMPLE_NUMBER, with_assets=True)  # the read cache knows it too
    order = fileflare.order_get(order_id=example_id).value
    indexed_id = str(uuid.uuid4())  # an ID only the index holds: whoever answers is plain to see
    order_index_note(replace(order, id=indexed_id))
    before = _calls(sandbox)

    assert order_id_for_number(EXAMPLE_NUMBER) == indexed_id
    assert order_number_for_id(indexed_id) == EXAMPLE_NUMBER
    assert _calls(sandbox) == before


def test_the_read_cache_answers_when_the_index_does_not_know_the_number(sandbox: Sandbox) -> None:
    example_id = _example_id()
    fileflare.order_list(order_number=EXAMPLE_NUMBER, with_assets=True)  # an answer that showed it
    before = _calls(sandbox)

    lookup = order_lookup_by_number(EXAMPLE_NUMBER)

    assert lookup.order_id == example_id and lookup.listed is None
    assert order_number_for_id(example_id) == EXAMPLE_NUMBER
    assert _calls(sandbox) == before


def test_fileflare_is_asked_once_when_neither_knows_and_its_answer_is_kept(sandbox: Sandbox) -> None:
    example_id = _example_id()
    assert order_number_for_id(example_id) is None  # ID → number never costs a call
    before = _calls(sandbox)

    lookup = order_lookup_by_number(EXAMPLE_NUMBER)

    assert lookup.order_id == example_id
    assert lookup.listed is not None and [order.id for order in lookup.matches] == [example_id]
    assert _calls(sandbox) == before + 1
    assert order_id_for_number(EXAMPLE_NUMBER) == example_id  # now from the index (and the read cache)
    assert _calls(sandbox) == before + 1


def test_a_number_no_order_has_is_none_after_one_call(sandbox: Sandbox) -> None:
    before = _calls(sandbox)
    lookup = order_lookup_by_number(987_654_321_987)
    assert lookup.order_id is None and lookup.matches == [] and lookup.listed is not None
    assert _calls(sandbox) == before + 1


@pytest.mark.engine  # read by SQL of its own (orders.identity._number_and_link_sql)
def test_the_order_pages_number_and_customer_link_come_from_the_index_in_one_query(
    sandbox: Sandbox, django_assert_num_queries: Any
) -> None:
    """order_number_and_link answers as order_number_for_id and KnownCustomerToken.link_for would, one
    query when the index holds the order (the link as pasted, or the token alone, or none)."""
    example_id = _example_id()
    order_index_note(fileflare.order_get(order_id=example_id).value)
    with django_assert_num_queries(1):
        assert order_number_and_link(example_id.upper()) == (EXAMPLE_NUMBER, None)
    KnownCustomerToken.remember(order_number=EXAMPLE_NUMBER, token="t" * 32)
    assert order_number_and_link(example_id) == (EXAMPLE_NUMBER, ("t" * 32, ""))
    link = "https://shop.example/apps/downloads/orders/" + "t" * 32
    KnownCustomerToken.remember(order_number=EXAMPLE_NUMBER, token="t" * 32, status_url=link)
    with django_assert_num_queries(1):
        assert order_number_and_link(example_id) == (EXAMPLE_NUMBER, ("t" * 32, link))
    assert order_number_and_link(str(uuid.uuid4())) == (None, None)  # neither the index nor an answer


def test_the_order_pages_number_comes_from_an_earlier_answer_when_the_index_does_not_hold_it(
    sandbox: Sandbox,
) -> None:
    example_id = _example_id()
    KnownCustomerToken.remember(order_number=EXAMPLE_NUMBER, token="t" * 32)
    assert order_number_and_link(example_id) == (None, None)  # nobody has shown it yet
    fileflare.order_list(order_number=EXAMPLE_NUMBER, with_assets=True)
    before = _calls(sandbox)
    assert order_number_and_link(example_id) == (EXAMPLE_NUMBER, ("t" * 32, ""))
    assert _calls(sandbox) == before
