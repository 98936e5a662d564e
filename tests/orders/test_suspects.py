"""The order page's link-scanner line: a record whose count jumped right after the order's e-mail is
named with what the dashboard saw, and its downloads can be given back there — through the count write
(audited with the suspect's reason, undoable from the log, refused beyond Support's step)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry
from downloads.edits import COUNT
from downloads.models import CountChange
from fileflare_admin.api import fileflare
from insights.suspects import suspects_refresh
from orders_index.services import order_index_note
from tests.orders.conftest import MadeOrder, SandboxHttp

pytestmark = pytest.mark.django_db
FILE = "planner.pdf"
SENTENCE = "3 downloads within 4 minutes of the e-mail: possibly a link scanner"


def _sent_at(upstream: SandboxHttp, order: MadeOrder) -> datetime:
    response = upstream.session.get(
        f"{upstream.sandbox.fileflare_url}/v1/orders/{order.id}",
        headers={"Authorization": f"Bearer {upstream.sandbox.key}"},
        timeout=30,
    )
    return datetime.fromtimestamp(int(response.json()["data"][0]["email_sent_at"]), tz=UTC)  # epoch seconds


def _seen(order: MadeOrder, counts: list[tuple[datetime, int, int | None]], source: str = "snapshot") -> None:
    """What the snapshots saw of the order's record: (when, count, delta), oldest first."""
    download_id = order.records[FILE]
    for index, (moment, count, delta) in enumerate(counts):
        CountChange.objects.create(
            download_id=download_id,
            order_number=order.order_number,
            product_id=1,
            file_name=FILE,
            count=count,
            delta=delta,
            seen_at=moment,
            hour=moment.replace(minute=0, second=0, microsecond=0),
            source=source,
            latest=index == len(counts) - 1,
        )


@pytest.fixture
def scanned(make_order: Any, upstream: SandboxHttp) -> MadeOrder:
    """An order whose record went 0 → 3 within 4 minutes of its e-mail (the sandbox holds 3 now)."""
    order: MadeOrder = make_order({FILE: (3, 5)})
    sent = _sent_at(upstream, order)
    minutes = [(-1, 0, 0), (2, 2, 2), (4, 3, 1)]
    _seen(order, [(sent + timedelta(minutes=after), count, delta) for after, count, delta in minutes])
    return order


def _page(client: Client, order: MadeOrder) -> str:
    return client.get(f"/orders/{order.id}/").content.decode()


def _form(page: str) -> dict[str, str]:
    form = re.search(r'<form method="post" action="/orders/[^"]+/give-back/".*?</form>', page, re.S)
    assert form, "the give-back button is on the page"
    return dict(re.findall(r'name="(record|since|seen)" value="([^"]*)"', form.group(0)))


def test_the_order_page_names_the_suspect_with_what_was_seen_and_offers_the_fix(
    merchant_client: Client, scanned: MadeOrder
) -> None:
    page = _page(merchant_client, scanned)
    assert 'id="suspects"' in page and SENTENCE in page
    assert "2 (+2) at" in page and "3 (+1) at" in page  # the evidence: the counts seen, and when
    assert "Give back 3 downloads" in page and "Count 3 → 0" in page
    assert _form(page) == {"record": scanned.records[FILE], "since": _form(page)["since"], "seen": "3"}


def test_a_customers_own_downloads_make_no_suspect(
    merchant_client: Client, make_order: Any, upstream: SandboxHttp
) -> None:
    order: MadeOrder = make_order({FILE: (2, 5)})
    sent = _sent_at(upstream, order)
    _seen(order, [(sent + timedelta(minutes=3), 1, None), (sent + timedelta(hours=5), 2, 1)])
    page = _page(merchant_client, order)
    assert 'id="suspects"' not in page and "link scanner" not in page


def test_giving_back_lowers_the_count_by_the_burst_audited_with_its_reason_and_undoable(
    merchant_client: Client, scanned: MadeOrder, upstream: SandboxHttp
) -> None:
    download_id = scanned.records[FILE]
    response = merchant_client.post(
        f"/orders/{scanned.id}/give-back/", _form(_page(merchant_client, scanned)), follow=True
    )
    page = response.content.decode()
    assert f'Gave back 3 downloads of “{FILE}”: the count is 0.' in page
    assert upstream.record(download_id)["download_count"] == 0
    entry = AuditEntry.objects.get(action=COUNT, download_id=download_id)
    assert entry.reason == "Possible link scanner: 3 downloads within 4 minutes of the e-mail"
    assert entry.before["download_count"] == 3 and entry.after["download_count"] == 0
    assert f'href="/audit/{entry.pk}/undo/"' in page  # the flash offers the undo
    assert "Given back by" in page and f"audit entry #{entry.pk}" in page  # no second button
    assert "Give back 3 downloads" not in page
    # Undone from the log like any count fix: the count is 3 again, and the button is back.
    merchant_client.post(f"/audit/{entry.pk}/undo/")
    assert upstream.record(download_id)["download_count"] == 3
    assert "Give back 3 downloads" in _page(merchant_client, scanned)


def test_the_same_burst_is_not_given_back_twice(merchant_client: Client, scanned: MadeOrder) -> None:
    form = _form(_page(merchant_client, scanned))
    merchant_client.post(f"/orders/{scanned.id}/give-back/", form)
    page = merchant_client.post(f"/orders/{scanned.id}/give-back/", {**form, "seen": "0"}, follow=True)
    assert "Nothing was given back: These downloads were already given back" in page.content.decode()
    assert AuditEntry.objects.filter(action=COUNT, outcome="success").count() == 1


def _reported(client: Client) -> tuple[str, list[str]]:
    """The Reports page's suspects section, and the CSV's row of the suspect (the last column: given back)."""
    suspects_refresh()  # as the worker's scan does
    page = client.get("/reports/").content.decode().split('id="figure-suspects"', 1)[1].split("</section>")[0]
    answer = client.get("/reports/suspects.csv")
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    return page, rows[1]


def test_the_reports_page_says_a_suspects_downloads_were_given_back_as_the_order_page_does(
    merchant_client: Client, scanned: MadeOrder
) -> None:
    order_index_note(fileflare.order_get(order_id=scanned.id).value)  # the index knows its e-mail
    page, row = _reported(merchant_client)
    assert "Give 3 back on the order page" in page and "Given back by" not in page and row[-1] == ""
    merchant_client.post(f"/orders/{scanned.id}/give-back/", _form(_page(merchant_client, scanned)))
    entry = AuditEntry.objects.get(action=COUNT, outcome="success")
    page, row = _reported(merchant_client)
    assert "Given back by" in page and f"audit entry #{entry.pk}" in page  # as on the order page
    assert "Give 3 back on the order page" not in page
    assert row[-1].startswith(f"by {entry.actor_name} at ")
    merchant_client.post(f"/audit/{entry.pk}/undo/")  # undone: to be given back again, on both pages
    page, row = _reported(merchant_client)
    assert "Give 3 back on the order page" in page and row[-1] == ""
    assert "Give back 3 downloads" in _page(merchant_client, scanned)


def test_a_count_that_moved_since_the_page_was_read_is_not_overwritten(
    merchant_client: Client, scanned: MadeOrder, upstream: SandboxHttp
) -> None:
    form = _form(_page(merchant_client, scanned))
    upstream.set_count(scanned.records[FILE], 4)  # the customer downloaded again meanwhile
    page = merchant_client.post(f"/orders/{scanned.id}/give-back/", form, follow=True).content.decode()
    assert "Nothing was given back: the count of record" in page and "is 4 now, not the 3" in page
    assert upstream.record(scanned.records[FILE])["download_count"] == 4


def test_support_beyond_its_step_is_told_so_and_refused_as_any_count_fix(
    support_client: Client, support_user: User, scanned: MadeOrder, upstream: SandboxHttp, settings: Any
) -> None:
    form = _form(_page(support_client, scanned))  # within the step (5): offered
    settings.SUPPORT_MAX_COUNT_STEP = 2
    page = _page(support_client, scanned)
    assert "Support can move a download count by at most 2 at a time" in page
    assert "Give back 3 downloads" not in page
    refused = support_client.post(f"/orders/{scanned.id}/give-back/", form, follow=True).content.decode()
    assert "Nothing was given back: Support can move a download count by at most 2" in refused
    assert upstream.record(scanned.records[FILE])["download_count"] == 3
    entry = AuditEntry.objects.get(action=COUNT, download_id=scanned.records[FILE])
    assert entry.outcome == "failed" and entry.actor == support_user  # a refusal, in the trail


def test_a_form_that_names_no_listed_burst_changes_nothing(
    merchant_client: Client, scanned: MadeOrder
) -> None:
    form = _form(_page(merchant_client, scanned))
    other = {**form, "since": "2020-01-01T00:00:00+00:00"}
    page = merchant_client.post(f"/orders/{scanned.id}/give-back/", other, follow=True).content.decode()
    assert "That burst of downloads is no longer listed for this record" in page
    broken = merchant_client.post(f"/orders/{scanned.id}/give-back/", {"record": "x"}, follow=True)
    assert "That fix could not be read: reload the order and press it again." in broken.content.decode()
    assert not AuditEntry.objects.filter(action=COUNT).exists()
