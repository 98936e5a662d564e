"""The audit log's queries on PostgreSQL walk an index even before the planner has statistics for the trail
(issue 28): right after a bulk load (100,000 entries in a second) and until autovacuum's next ANALYZE, a
query PostgreSQL cannot estimate well it may plan as a read of the whole table, on every load."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.engine]


def _forget_statistics() -> None:
    """The trail as the planner sees a table it has never analyzed (the test cluster's superuser may
    write the catalogues; the test's transaction takes it back)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = 'audit_auditentry'::regclass")
        cursor.execute(
            "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = 'audit_auditentry'::regclass"
        )


def _bulk_load(actor: User) -> None:
    """30,000 entries in the trail, as the benchmark adds them."""
    for start in range(0, 30_000, 5_000):
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor=actor,
                actor_name="bulk",
                action="download_record_count",
                order_number=900_000 + index % 5_000,
                download_id=f"plan-{index}",
                before={"download_count": 2},
                after={"download_count": 1},
                outcome="success",
            )
            for index in range(start, start + 5_000)
        )


def _plans(queries: list[dict[str, Any]]) -> dict[str, str]:
    plans = {}
    with connection.cursor() as cursor:
        for query in queries:
            if "audit_auditentry" in query["sql"]:
                cursor.execute(f"EXPLAIN {query['sql']}")
                plans[query["sql"]] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def test_the_first_page_reads_no_whole_trail_before_postgresql_has_statistics(
    merchant_client: Client, merchant_user: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("what PostgreSQL's planner makes of a table without statistics")
    _bulk_load(merchant_user)
    assert "30,000 entries." in merchant_client.get("/audit/").content.decode()  # and the count is kept
    _forget_statistics()
    with CaptureQueriesContext(connection) as captured:
        page = merchant_client.get("/audit/").content.decode()
    assert "30,000 entries." in page and 'id="entry-' in page
    plans = _plans(captured.captured_queries)
    assert len(plans) >= 3  # the count, the page's entries, their undos
    whole = {sql: plan for sql, plan in plans.items() if "Seq Scan on audit_auditentry" in plan}
    assert not whole, whole


def test_the_people_filter_is_read_in_one_plain_query(
    merchant_client: Client, merchant_user: User, support_user: User
) -> None:
    """Not through QuerySet.iterator(), which on PostgreSQL opens a server-side cursor: DECLARE, FETCH and
    CLOSE, three round trips for a few people."""
    for person in (merchant_user, support_user):
        AuditEntry.objects.create(
            actor=person, actor_name=person.username, action="email_resend", outcome="success"
        )
    with CaptureQueriesContext(connection) as captured:
        page = merchant_client.get("/audit/").content.decode()
    assert f'<option value="{support_user.pk}">{support_user.username}</option>' in page
    sqls = [query["sql"] for query in captured.captured_queries]
    people = [sql for sql in sqls if 'FROM "auth_user" WHERE EXISTS' in sql]
    assert len(people) == 1 and "DECLARE" not in people[0], people


def test_a_page_deep_in_the_log_walks_an_index_from_the_links_place(
    merchant_client: Client, merchant_user: User
) -> None:
    """Keyset paging: the Older and Newer links' pages read the 50 entries beside a (created_at, id) place
    from the created_at index, never the whole trail (?page=600 read and skipped 30,000 rows: OFFSET)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    _bulk_load(merchant_user)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditentry")
    html = merchant_client.get("/audit/", {"page": 300}).content.decode()  # an old link, deep
    older = re.search(r'href="(\?older_than=[^"]+)"', html)
    assert older is not None
    with CaptureQueriesContext(connection) as captured:
        deeper = merchant_client.get("/audit/" + unescape(older.group(1))).content.decode()
    assert "Page 301 of 600" in deeper
    newer = re.search(r'href="(\?newer_than=[^"]+)"', deeper)
    assert newer is not None
    with CaptureQueriesContext(connection) as back:
        assert "Page 300 of 600" in merchant_client.get("/audit/" + unescape(newer.group(1))).content.decode()
    plans = _plans([*captured.captured_queries, *back.captured_queries])
    assert len(plans) >= 6  # each page: its entries, the link beside them, their undos
    whole = {sql: plan for sql, plan in plans.items() if "Seq Scan on audit_auditentry" in plan}
    assert not whole, whole
