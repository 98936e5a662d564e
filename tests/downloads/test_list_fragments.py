"""The records list's parts kept in the process (issue 28; fileflare_admin.fragments.render_kept): each is
the part rendered afresh for every query, person, zone and language, and changes when what it shows does.

Each step changes one input from the step before; a key that left it out would show the step before's
part, kept. `fresh` renders the page again with nothing kept."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from downloads.limits import KnownLimit
from fileflare_admin import fragments
from staff.middleware import LANGUAGE_SESSION_KEY, TIME_ZONE_SESSION_KEY
from tests.conftest import _make_user
from tests.test_fragments import RECORD

pytestmark = pytest.mark.django_db


def _head(page: str) -> str:
    """The records table's head (the first after its id: the order page has other tables)."""
    table = page.split('id="records-table"', 1)[1]
    return table[table.index("<thead>") : table.index("</thead>")]


def test_the_kept_table_head_is_the_head_rendered_afresh_for_every_query_person_and_language(
    client: Client, merchant_user: User, make_record: Any, order_number: int
) -> None:
    make_record()
    support = _make_user("sol-head-support", "Support")
    query: dict[str, Any] = {"q": str(order_number)}

    def page() -> str:
        response = client.get("/downloads/", query)
        assert response.status_code == 200
        return response.content.decode()

    def set_session(**values: str) -> None:
        session = client.session
        session.update(values)
        session.save()

    steps: list[tuple[str, Callable[[], None]]] = [
        ("first", lambda: client.force_login(merchant_user)),
        ("sorted", lambda: query.update(sort="download_count")),
        ("sorted the other way", lambda: query.update(sort="-download_count")),
        ("sorted by another column", lambda: query.update(sort="download_id")),
        ("another search", lambda: query.update(q=f"#{order_number}")),
        ("50 a page", lambda: query.update(per_page=50)),
        ("another role", lambda: client.force_login(support)),
        ("another zone", lambda: set_session(**{TIME_ZONE_SESSION_KEY: "Asia/Tokyo"})),
        ("another language", lambda: set_session(**{LANGUAGE_SESSION_KEY: "fr"})),
    ]
    seen = []
    for name, change in steps:
        change()
        kept = page()
        fragments._kept.clear()
        fresh = page()
        assert _head(kept) == _head(fresh), name
        seen.append(_head(kept))
    assert "aria-sort" not in seen[0]
    assert re.search(r'aria-sort="ascending"><a href="[^"]*sort=-download_count', seen[1])
    assert re.search(r'aria-sort="descending"><a href="[^"]*sort=download_count', seen[2])
    assert seen[3].count("aria-sort") == 1 and "sort=-download_id" in seen[3]
    assert f"q=%23{order_number}" in seen[4] and f"q=%23{order_number}" not in seen[3]
    assert "per_page=50" in seen[5] and "per_page=50" not in seen[4]
    assert seen[7] == seen[6] == seen[5]  # the head shows nothing of the role or the zone
    assert ">Fichier" in seen[8] and ">File" in seen[7]
    assert len(set(seen)) == len(steps) - 2


def test_the_order_pages_records_table_head_has_no_sort_links(
    support_client: Client, make_record: Any, order_number: int
) -> None:
    """The same table on the order page (no sortable columns): the plain head, after a list's was kept."""
    make_record()
    assert "hx-get" in _head(support_client.get("/downloads/", {"q": str(order_number)}).content.decode())
    response = support_client.get("/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/")
    assert response.status_code == 200
    assert "hx-get" not in _head(response.content.decode())


def _part(page: str, start: str, end: str) -> str:
    begins = page.index(start)
    return page[begins : page.index(end, begins)]


def _pager(page: str) -> str:
    return _part(page, '<nav class="pagination"', "</nav>")


def _search(page: str) -> str:
    return _part(page, '<form id="records-search"', "</form>")


def test_the_kept_pager_and_search_box_are_rendered_afresh_for_every_page_query_and_language(
    client: Client, merchant_user: User, make_record: Any, order_number: int
) -> None:
    for index in range(26):  # two pages of 25
        make_record(download_file_name=f"part-{index}.pdf")
    client.force_login(merchant_user)
    query: dict[str, Any] = {"q": str(order_number)}

    def page() -> str:
        response = client.get("/downloads/", query)
        assert response.status_code == 200
        return response.content.decode()

    def set_language(language: str) -> None:
        session = client.session
        session[LANGUAGE_SESSION_KEY] = language
        session.save()

    def more_records() -> None:
        for index in range(26, 51):
            make_record(download_file_name=f"part-{index}.pdf")
        cache.clear()

    steps: list[tuple[str, Callable[[], None]]] = [
        ("first", lambda: None),
        ("page 2", lambda: query.update(page=2)),
        ("50 a page", lambda: query.update(per_page=50, page=1)),
        ("25 records more (the saved answer gone)", more_records),
        ("sorted", lambda: query.update(sort="download_id")),
        ("another search", lambda: query.update(q=f"{order_number} part")),
        ("another language", lambda: set_language("fr")),
    ]
    pagers, searches = [], []
    for name, change in steps:
        change()
        kept = page()
        fragments._kept.clear()
        fresh = page()
        assert _pager(kept) == _pager(fresh) and _search(kept) == _search(fresh), name
        pagers.append(_pager(kept))
        searches.append(_search(kept))
    assert 'rel="next"' in pagers[0] and 'rel="prev"' not in pagers[0]
    assert 'rel="prev"' in pagers[1] and 'rel="next"' not in pagers[1] and "page=2" not in pagers[1]
    assert '<strong aria-current="true">50</strong>' in pagers[2] and 'rel="next"' not in pagers[2]
    assert 'rel="next"' in pagers[3]  # the same query, a page more
    assert "sort=download_id" in pagers[4] and "sort=download_id" not in pagers[3]
    assert "part" in pagers[5] and f'value="{order_number} part"' in searches[5]
    assert "Par page" in pagers[6]
    assert len(set(pagers)) == len(steps)
    assert len(set(searches)) == 3  # the search box shows the search and the language only


def test_a_rows_limit_line_changes_as_time_passes_and_is_written_only_for_a_row_rendered_afresh(
    rf: RequestFactory, merchant_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row's key names its known limit by its fields and by how long ago it was seen, as its line says
    it: a day later the row says "4 days ago", not the kept "3 days ago"; its sentences are written only
    when the row is rendered (a warm row costs no translation)."""
    record = dataclasses.replace(RECORD, download_id="agelimit1234", order_id=4322, product_id=777_002)
    start = timezone.now()
    seen = start - timedelta(days=3)
    limit = KnownLimit(limit=10, source="learned", order_number=1049, seen_at=seen, orders=2)
    written: list[int] = []
    source_text = KnownLimit.source_text

    def counted(self: KnownLimit, now: datetime) -> str:
        written.append(1)
        return source_text(self, now)

    monkeypatch.setattr(KnownLimit, "source_text", counted)

    def row(at: datetime) -> str:
        monkeypatch.setattr(timezone, "now", lambda: at)
        request = rf.get("/downloads/", {"q": str(record.order_id)})
        request.user = merchant_user
        context = {"records": [record], "show_order": True, "record_limits": {record.download_id: limit}}
        page = render_to_string("downloads/_records_table.html", context, request=request)
        shown = page.split(f'id="record-{record.download_id}"', 1)[1].split("</tr>", 1)[0]
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", shown)  # each request's own

    first = row(start)
    assert "2 of 10" in first and "3 days ago" in first and "and 1 other order" in first and written == [1]
    assert row(start + timedelta(minutes=5)) == first and written == [1]  # kept: nothing written
    later = row(start + timedelta(days=1))
    assert "4 days ago" in later and "3 days ago" not in later and written == [1, 1]
