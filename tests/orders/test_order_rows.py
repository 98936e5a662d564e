"""A list of orders' rows are kept by what they show (orders.templatetags.order_list, issue 28): a second
load reads them, and a row changes the moment what it shows changes (the e-mail sent, its files, the order
index's "as of"), in the person's own time zone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.template import RequestContext, engines
from django.test import RequestFactory
from django.utils import timezone

from fileflare_admin import fragments
from fileflare_admin.api.types import Asset, Order

pytestmark = pytest.mark.django_db
ROWS = "{% load order_list %}<table><tbody>{% order_rows orders result %}</tbody></table>"
SENT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
ORDERS = [
    Order(id="0c7e5a3e-aaaa-4bbb-8ccc-000000000001", order_number=2001, ordered_at=SENT, email_sent_at=SENT),
    Order(id="0c7e5a3e-aaaa-4bbb-8ccc-000000000002", order_number=2002, ordered_at=SENT, email_sent_at=None),
]
PLANNER = Asset("a1", "planner.pdf", "1 MB", 1_000_000, True, False, None)
FROM_API = SimpleNamespace(from_index=False, fetched_at=None)


def _kept() -> int:
    return sum(1 for key in getattr(cache, "_cache", {}) if fragments.PREFIX in str(key))


def _render(rf: RequestFactory, user: User, orders: list[Order], result: Any = FROM_API) -> str:
    request = rf.get("/orders/")
    request.user = user
    template = engines["django"].from_string(ROWS).template
    return template.render(RequestContext(request, {"orders": orders, "result": result}))


def test_a_second_load_reads_the_kept_rows(rf: RequestFactory, support_user: User) -> None:
    cache.clear()
    first = _render(rf, support_user, ORDERS)
    assert "#2001" in first and "#2002" in first and "never sent" in first
    kept = _kept()
    assert kept == 3  # each row, and the rows together
    assert _render(rf, support_user, ORDERS) == first and _kept() == kept


def test_a_row_changes_the_moment_what_it_shows_changes(rf: RequestFactory, support_user: User) -> None:
    cache.clear()
    before = _render(rf, support_user, ORDERS)
    sent = [ORDERS[0], dataclasses.replace(ORDERS[1], email_sent_at=SENT)]
    after = _render(rf, support_user, sent)
    assert "never sent" in before and "never sent" not in after
    with_files = [
        dataclasses.replace(ORDERS[0], assets=(PLANNER,), assets_loaded=True),
        ORDERS[1],
    ]
    assert "1 on the order" in _render(rf, support_user, with_files)


def test_rows_from_the_order_index_say_as_of_when_it_read_them(
    rf: RequestFactory, support_user: User
) -> None:
    cache.clear()
    early = SimpleNamespace(from_index=True, fetched_at=datetime(2026, 12, 1, 8, 0, 5, tzinfo=UTC))
    later = SimpleNamespace(from_index=True, fetched_at=datetime(2026, 12, 1, 8, 0, 9, tzinfo=UTC))
    with timezone.override("UTC"):
        assert "as of 08:00:05" in _render(rf, support_user, ORDERS, early)
        assert "as of 08:00:09" in _render(rf, support_user, ORDERS, later)
    with timezone.override("Europe/Paris"):  # another person's zone: their own rows, not the kept ones
        assert "as of 09:00:09" in _render(rf, support_user, ORDERS, later)
