"""Every `next` the dashboard accepts stays on the site: after a count fix, and on the undo page and
after an undo (sign-in's own `next` is in test_sign_in.py)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEntry
from tests.security.test_sign_in import OFF_SITE

pytestmark = pytest.mark.django_db


def _on_site(location: str) -> bool:
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_count_fix_never_sends_anyone_off_the_site(
    merchant_client: Client, make_record: Callable[..., dict[str, Any]], target: str
) -> None:
    record = make_record(download_count=1)
    response = merchant_client.post(
        f"/downloads/{record['download_id']}/count/", {"count": "2", "expected": "1", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/downloads/"


def test_the_undo_page_and_an_undo_never_send_anyone_off_the_site(
    merchant_client: Client, make_record: Callable[..., dict[str, Any]]
) -> None:
    record = make_record(download_count=1)
    merchant_client.post(f"/downloads/{record['download_id']}/count/", {"count": "2", "expected": "1"})
    entry = AuditEntry.objects.filter(download_id=record["download_id"]).latest("pk")
    for target in OFF_SITE:
        page = merchant_client.get(f"/audit/{entry.pk}/undo/", {"next": target})
        assert page.status_code == 200
        html = page.content.decode()
        assert "evil.example" not in html and "alert(" not in html, target
    response = merchant_client.post(f"/audit/{entry.pk}/undo/", {"next": OFF_SITE[0], "reason": "test"})
    assert response.status_code == 302
    assert _on_site(response["Location"])
