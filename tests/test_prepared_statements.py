"""On PostgreSQL a page's statements are prepared on their connection once they have run twice
(settings.py: server-side binding and psycopg's prepare_threshold; issue 28): the server then parses and
plans each of them once per connection, not once per page."""

import pytest
from django.db import connection
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.engine]


def test_a_pages_statements_are_prepared_after_two_loads(support_client: Client) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for _ in range(3):
        assert support_client.get("/audit/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("django_session" in statement for statement in prepared), prepared
    assert any("audit_auditentry" in statement for statement in prepared), prepared
