"""The audit log's rows are cached fragments (audit_log.log_rows, fileflare_admin.fragments; issue 28): each
row is kept under everything it shows, so it changes the moment its entry, the undos of it or a deletion
of its record change, and never reaches a person who would see it otherwise (another role, time zone or
language, another page to come back to after an undo). A cached row carries the request's own CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client

from audit.models import AuditEntry
from tests.conftest import _make_user

pytestmark = pytest.mark.django_db
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _entry(actor: User, **fields: Any) -> AuditEntry:
    values = {"actor": actor, "actor_name": actor.get_username(), "outcome": "success", **fields}
    return AuditEntry.objects.create(**values)


def _count_change(actor: User, download_id: str, **fields: Any) -> AuditEntry:
    return _entry(
        actor,
        action="download_record_count",
        download_id=download_id,
        order_number=4242,
        before={"download_count": 1},
        after={"download_count": 3},
        **fields,
    )


def _rows(page: str) -> str:
    return _TOKEN.sub("", page.split("<tbody>", 1)[1].split("</tbody>", 1)[0])


def test_a_kept_row_is_the_row_rendered_afresh_after_every_change(
    client: Client, merchant_user: User, support_user: User
) -> None:
    """Each step changes one input of the rows from the step before; a key that left it out would show
    the step before's row, kept. `fresh` renders with nothing kept."""
    from staff.middleware import LANGUAGE_SESSION_KEY, TIME_ZONE_SESSION_KEY

    changed = _count_change(merchant_user, "rows-a")
    doomed = _count_change(merchant_user, "rows-b")
    pending = _count_change(merchant_user, "rows-c", outcome="pending")
    _entry(  # a secret: Support reads it masked
        merchant_user,
        action="download_record_update",
        download_id="rows-d",
        order_number=4242,
        before={"amazon_key": "bucket/rows-old.pdf"},
        after={"amazon_key": "bucket/rows-new.pdf"},
    )
    other_merchant = _make_user("max-rows-merchant", "Merchant")
    path = "/audit/"

    def go_to(where: str) -> None:
        nonlocal path
        path = where

    def set_session(**values: str) -> None:
        session = client.session
        for key, value in values.items():
            session[key] = value
        session.save()

    def close_pending() -> None:
        AuditEntry.objects.close_pending(pending.pk, outcome="failed", error="The API said no.")

    def undo() -> None:
        _count_change(merchant_user, "rows-a", undo_of=changed)

    def delete() -> None:
        gone = {"download_id": "rows-b"}
        _entry(merchant_user, action="download_record_delete", download_id="rows-b", before=gone)

    steps: list[tuple[str, Callable[[], None], bool]] = [
        ("first", lambda: client.force_login(merchant_user), True),
        ("another person, same role", lambda: client.force_login(other_merchant), False),
        ("a pending entry closed", close_pending, True),
        ("an undo of an entry", undo, True),
        ("its record deleted since", delete, True),
        ("another page to come back to", lambda: go_to("/audit/?order_number=4242"), True),
        ("another role", lambda: client.force_login(support_user), True),
        ("another zone", lambda: set_session(**{TIME_ZONE_SESSION_KEY: "Asia/Tokyo"}), True),
        ("another language", lambda: set_session(**{LANGUAGE_SESSION_KEY: "fr"}), True),
    ]
    seen = set()
    for name, change, shows_otherwise in steps:
        change()
        kept = client.get(path).content.decode()
        cache.clear()
        fresh = client.get(path).content.decode()
        assert _rows(kept) == _rows(fresh), name
        assert f'id="entry-{doomed.pk}"' in kept, name
        if shows_otherwise:
            assert _rows(kept) not in seen, name  # the step changed what the rows show
        seen.add(_rows(kept))
    assert "JST" in kept and 'lang="fr"' in kept and "bucket/rows-new.pdf" not in kept


def test_a_kept_row_carries_the_requests_own_csrf_token(merchant_user: User) -> None:
    _count_change(merchant_user, "rows-token")
    for _ in range(2):  # two sessions (two CSRF secrets), the second's rows read from the cache
        client = Client()
        client.force_login(merchant_user)
        page = client.get("/audit/").content.decode()
        [token] = _TOKEN.findall(page.split("<tbody>", 1)[1])
        [own] = re.findall(r'"X-CSRFToken": "([^"]+)"', page)  # the one the <body> gives htmx
        assert "fragmentcsrftokenplaceholder" not in page
        assert _unmask_cipher_token(token) == _unmask_cipher_token(own)


def test_the_kept_filter_form_is_the_form_rendered_afresh(
    client: Client, merchant_user: User, support_user: User
) -> None:
    """The filter form is kept per process (audit_log.audit_filters): each step changes one thing it shows
    from the step before, and the kept form must be the form rendered with nothing kept."""
    from fileflare_admin import fragments
    from staff.middleware import LANGUAGE_SESSION_KEY

    _count_change(merchant_user, "filters-a")

    def form(page: str) -> str:
        return page.split('id="audit-filters"', 1)[1].split("</form>", 1)[0]

    def set_language() -> None:
        session = client.session
        session[LANGUAGE_SESSION_KEY] = "it"
        session.save()

    bad = {"order_number": "forty"}
    steps: list[tuple[str, Callable[[], None], dict[str, str]]] = [
        ("first", lambda: client.force_login(merchant_user), {}),
        ("a value typed", lambda: None, {"order_number": "4242"}),
        ("a value that does not parse", lambda: None, bad),
        ("a new person in the trail", lambda: _count_change(support_user, "filters-b"), bad),
        ("another language", set_language, bad),
    ]
    seen = set()
    for name, change, query in steps:
        change()
        kept = form(client.get("/audit/", query).content.decode())
        fragments._kept.clear()
        fresh = form(client.get("/audit/", query).content.decode())
        assert kept == fresh, name
        assert kept not in seen, name
        seen.add(kept)
    assert f">{support_user.username}</option>" in kept and 'value="forty"' in kept
