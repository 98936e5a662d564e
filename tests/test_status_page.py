"""The staff status page: each upstream's health and budget, never a key."""

import pytest
from django.test import Client

from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db


def test_status_page_shows_both_upstreams_answering_without_keys(
    support_client: Client, sandbox: Sandbox
) -> None:
    page = support_client.get("/status/").content.decode()
    assert page.count("answers</span>") == 2
    assert "127.0.0.1" in page and "configured" in page
    assert sandbox.key not in page and sandbox.token not in page


def test_status_page_says_when_an_upstream_fails(support_client: Client, sandbox: Sandbox, settings) -> None:
    settings.UPSTREAM_RETRIES = 0
    sandbox.config(error_rate=1.0)
    page = support_client.get("/status/").content.decode()
    assert "not answering" in page
    assert "had a problem on its side" in page
    assert "Errors in the last hour</dt><dd>1" in page.replace("\n", "")


def test_status_page_names_a_missing_key(support_client: Client, settings) -> None:
    settings.DOWNLOADS_API_TOKEN = ""
    page = support_client.get("/status/").content.decode()
    assert "not configured" in page and "DOWNLOADS_API_TOKEN" in page
