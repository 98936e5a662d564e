"""Pages compared as a person reads them: without what each response has of its own; the order page's
renders counted."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from orders import services

# Each response's own values: its CSRF tokens, its CSP nonce, a form's one-time token.
OWN_VALUES = (
    r'csrfmiddlewaretoken" value="[^"]+"',
    r'X-CSRFToken": "[^"]+"',
    r'data-csrf="[^"]+"',
    r'nonce="[^"]*"',
    r'name="submission" value="[^"]*"',
)
FLASHES = re.compile(r'<div role="status"><ul class="flashes".*?</ul></div>', re.DOTALL)


def without_own_values(html: str) -> str:
    """The page with each response's own values (tokens, nonce) replaced by OWN, without its flash
    messages (the first page after a write says what was done), each run of white space one space."""
    for pattern in OWN_VALUES:
        html = re.sub(pattern, "OWN", html)
    return re.sub(r"\s+", " ", FLASHES.sub("", html))


@pytest.fixture
def order_renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each time the order page was made (its service asked), by order ID: a page handed out kept
    (fileflare_admin.kept_pages) adds nothing."""
    made: list[str] = []
    original = services.order_page

    def counted(**kwargs: Any) -> Any:
        made.append(kwargs["order_id"])
        return original(**kwargs)

    monkeypatch.setattr(services, "order_page", counted)
    yield made
