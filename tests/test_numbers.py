"""A count is written one way on every page: "15,608", as the sentences beside it write it (the
`thousands` display filter; issue 25, item 7)."""

import re

import pytest
from django.test import Client

from fileflare_admin.api.http import FILEFLARE
from fileflare_admin.templatetags.display import thousands
from orders_index import sync
from orders_index.services import order_sync_progress
from tests.conftest import Sandbox

pytestmark = pytest.mark.django_db


def test_the_filter_groups_thousands_and_leaves_other_values_alone() -> None:
    assert [thousands(1536), thousands(15608), thousands(7), thousands(None), thousands("abc")] == [
        "1,536", "15,608", "7", None, "abc"
    ]


def test_the_status_page_writes_the_index_counts_as_its_sentence_does(
    support_client: Client, sandbox: Sandbox
) -> None:
    state = sync.sync_row(FILEFLARE.identity())
    sync.read_once(state, sync.Read(page=1, refresh=True))
    progress = order_sync_progress()
    assert progress.total is not None and progress.total >= 1000
    page = support_client.get("/status/").content.decode()
    index = page.split('id="status-order-index"', 1)[1].split("</section>", 1)[0]
    grouped = f"{progress.total:,}"
    assert grouped in index and str(progress.total) not in index.replace(grouped, "")


def test_the_records_list_writes_its_total_with_thousands(merchant_client: Client) -> None:
    page = merchant_client.get("/downloads/").content.decode()
    total = re.search(r"<strong>([\d,]+)</strong> records", page)
    assert total is not None, page
    assert re.fullmatch(r"\d{1,3}(,\d{3})+", total.group(1)), total.group(1)  # the sandbox has ~18,600
