"""What the two-machine tests share: a deployment of several gunicorn instances on one PostgreSQL of
its own and one Redis, and a signed-in person's form posts and the words a page says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from bench.stack import Stack
from tests.support.postgres import PostgresCluster


@contextmanager
def machines(staff: tuple[str, ...], *, kind: type[Stack] = Stack, **options: Any) -> Iterator[Stack]:
    """A `kind` of Stack with `options`, on a PostgreSQL cluster of its own, with these Merchants."""
    cluster = PostgresCluster().start()
    try:
        stack = kind(database_url=cluster.create_database("fileflare_admin"), **options)
        with stack:
            for name in staff:
                stack.create_staff(name)
            yield stack
    finally:
        cluster.stop()


def post(session: requests.Session, url: str, data: dict[str, Any], **headers: str) -> requests.Response:
    """A form sent as the page sends it (CSRF token and Referer), its redirect not followed."""
    token = session.cookies.get("csrftoken", "")
    return session.post(
        url,
        data={**data, "csrfmiddlewaretoken": token},
        headers={"X-CSRFToken": token, "Referer": url, **headers},
        timeout=60,
        allow_redirects=False,
    )


def words(page: str) -> str:
    """The page's text, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).replace("&#x27;", "'").replace("&quot;", '"').split())
