"""orders.identity: an order number's Fileflare ID comes from the order index, then the read cache, then
one list request, in that order, and back (ID → number) from the index or the cache without a call.
Against the sandbox over a socket; its own request count says whether Fileflare was asked."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from django.core.cache import cache

from fileflare_admin.api import fileflare
from orders.identity import order_id_for_number, order_lookup_by_number, order_number_for_id
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
