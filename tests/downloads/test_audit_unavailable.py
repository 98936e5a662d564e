"""No upstream change without its audit entry: with the dashboard's own database write-locked
(tests.support.dblock), a create, an edit, a count fix and a delete send nothing upstream, tell the person
why in a sentence, and keep what they typed."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from tests.downloads.conftest import DownloadsApi
from tests.support.dblock import write_locked  # noqa: F401  (a fixture)
from tests.support.faultproxy import FaultProxy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.engine]

SENTENCE = "The audit trail cannot be written right now, so nothing was sent."


def _form(client: Client, url: str) -> dict[str, str]:
    html = client.get(url).content.decode()
    form = re.search(r'<form[^>]*method="post" action="/downloads/[^>]*>(.*?)</form>', html, re.S)
    assert form
    values = {}
    for tag in re.findall(r"<input[^>]*>", form.group(1)):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and "checkbox" not in tag and " disabled" not in tag:
            values[name.group(1)] = (value.group(1) if value else "").replace("&quot;", '"')
    return values


def test_a_create_sends_nothing_and_keeps_what_was_typed(
    merchant_client: Client,
    downloads_api: DownloadsApi,
    order_number: int,
    fault_proxy: FaultProxy,
    request: pytest.FixtureRequest,
) -> None:
    form = _form(merchant_client, reverse("downloads:create"))
    payload = {**form, "order_id": str(order_number), "product_id": "5", "download_file_name": "kept.pdf"}
    request.getfixturevalue("write_locked")
    response = merchant_client.post(reverse("downloads:create"), payload)
    assert response.status_code == 200
    page = response.content.decode()
    assert SENTENCE in page and "What you typed is kept below" in page
    assert 'value="kept.pdf"' in page and f'value="{order_number}"' in page
    assert fault_proxy.forwarded == []
    assert downloads_api.for_order(order_number) == []
    assert not AuditEntry.objects.exists()


def test_an_edit_a_count_fix_and_a_delete_send_nothing(
    merchant_client: Client,
    make_record: Any,
    downloads_api: DownloadsApi,
    fault_proxy: FaultProxy,
    request: pytest.FixtureRequest,
) -> None:
    record = make_record(download_count=4, download_file_name="as-it-was.pdf")
    edit_url = reverse("downloads:edit", args=[record["download_id"]])
    delete_url = reverse("downloads:delete", args=[record["download_id"]])
    edit_form, delete_form = _form(merchant_client, edit_url), _form(merchant_client, delete_url)
    sent_before = len(fault_proxy.forwarded)
    request.getfixturevalue("write_locked")

    edit = merchant_client.post(edit_url, {**edit_form, "download_file_name": "typed.pdf"}).content.decode()
    assert SENTENCE in edit and 'value="typed.pdf"' in edit
    count_url = reverse("downloads:count", args=[record["download_id"]])
    row = merchant_client.post(count_url, {"count": "9", "expected": "4"}, HTTP_HX_REQUEST="true")
    assert SENTENCE in row.content.decode()
    assert row["HX-Retarget"] == f"#record-{record['download_id']}-message"  # the typed 9 stays in its box
    delete = merchant_client.post(delete_url, delete_form).content.decode()
    assert SENTENCE in delete

    assert fault_proxy.forwarded[sent_before:] == []
    assert downloads_api.get(record["download_id"]) == record
    assert not AuditEntry.objects.exists()
