# ruff: noqa: F811  (the downloads fixtures are imported below and named again as test arguments)
"""The words on the pages, as a newcomer reads them (issue 17): each test names a defect once shipped.

Django's test client against the real sandbox; the browser suite (tests/browser/test_layout.py,
test_accessibility.py) covers what only a browser shows.
"""

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.services import audited
from downloads.edits import COUNT
from downloads.services import DELETE
from fileflare_admin.sentences import UserFacingError
from fileflare_admin.templatetags import display
from orders.resend import EMAIL_RESEND
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi, downloads_api, make_record, order_number  # noqa: F401

pytestmark = pytest.mark.django_db


def audit_record(**fields: Any) -> None:
    """A finished entry, written the way every write writes one (ahead, then closed)."""
    with audited(**fields):
        pass
EXAMPLE_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"  # order #1050 in the seeded sandbox
ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


class _Text(HTMLParser):
    """What a person reads on a page: text, without markup, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style", "title") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def _form_values(html: str) -> dict[str, str]:
    """The named inputs of the page's record form, as a browser would send them."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and "disabled" not in tag and ('type="checkbox"' not in tag or "checked" in tag):
            values[name.group(1)] = value.group(1) if value else ""
    return values


def test_the_order_page_shows_no_template_comment(support_client: Client) -> None:
    page = support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode()
    assert "{#" not in page and "#}" not in page


def test_one_entry_matches_and_several_entries_match(merchant_client: Client, merchant_user: User) -> None:
    audit_record(actor=merchant_user, action=EMAIL_RESEND, order_number=4101)
    one = visible_text(merchant_client.get("/audit/", {"order_number": 4101}).content.decode())
    assert "1 entry matches the filters." in one
    audit_record(actor=merchant_user, action=EMAIL_RESEND, order_number=4101)
    two = visible_text(merchant_client.get("/audit/", {"order_number": 4101}).content.decode())
    assert "2 entries match the filters." in two


def test_an_upstream_failure_is_a_sentence_that_starts_with_a_capital(
    merchant_client: Client, sandbox: Sandbox
) -> None:
    assert UserFacingError("the downloads API did not answer.").user_message.startswith("The downloads")
    sandbox.config(error_rate=1.0)
    page = visible_text(merchant_client.get("/downloads/").content.decode())
    assert "The downloads API had a problem on its side" in page
    assert "the downloads API had a problem" not in page


def test_the_status_page_names_each_upstream_with_a_capital(merchant_client: Client) -> None:
    page = merchant_client.get("/status/").content.decode()
    assert "<h2>The downloads API" in page and "<h2>the downloads API" not in page


def test_the_audit_log_shows_field_labels_and_readable_dates_never_raw_names_or_iso(
    merchant_client: Client, merchant_user: User
) -> None:
    record = {
        "download_id": "abc123",
        "date_created": "2024-03-05T14:07:09+00:00",
        "order_id": 4202,
        "product_id": 7,
        "download_count": 3,
        "download_file_name": "book.pdf",
        "is_amazon": False,
    }
    audit_record(
        actor=merchant_user,
        action=COUNT,
        order_number=4202,
        download_id="abc123",
        before=record,
        after={**record, "download_count": 4},
    )
    audit_record(
        actor=merchant_user,
        action=DELETE,
        order_number=4202,
        download_id="abc123",
        before=record,
    )
    html = merchant_client.get("/audit/", {"order_number": 4202}).content.decode()
    text = visible_text(html)
    for raw in ("download_count", "date_created", "download_file_name", "is_amazon", "product_id"):
        assert raw not in text, raw
    assert "Download count" in text and "Stored on Amazon S3" in text and "Product ID" in text
    assert not ISO_TIMESTAMP.search(text), ISO_TIMESTAMP.search(text)
    assert "5 Mar 2024, 14:07:09 UTC" in text  # the record's creation, from the trail's ISO text
    # The entry's own time, with its zone.
    assert re.search(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d UTC #\d+", text)


def test_the_conflict_table_names_fields_as_the_form_does(
    merchant_client: Client, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    url = reverse("downloads:edit", args=[record["download_id"]])
    form = _form_values(merchant_client.get(url).content.decode())
    downloads_api.patch(record["download_id"], product_id=4343)  # a colleague, meanwhile
    page = merchant_client.post(url, {**form, "download_count": "5"}).content.decode()
    assert "Someone changed this record while you were editing" in page
    rows = [label.strip() for label in re.findall(r'<th scope="row">([^<]+)', page)]
    assert "Product ID" in rows and "Stored on Amazon S3" in rows and "Order number" in rows
    assert "Product id" not in rows and "On s3" not in rows


def test_the_audit_log_labels_are_the_record_forms_labels() -> None:
    from downloads.forms import RecordForm

    form = RecordForm()
    for name, field in form.fields.items():
        if name in display.FIELD_LABELS:
            assert display.field_label(name) == field.label, name
    assert display.field_label("some_new_field") == "Some new field"


def test_times_carry_their_zone_and_follow_the_person(support_client: Client, support_user: User) -> None:
    page = visible_text(support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode())
    assert "8 Jan 2023, 21:50:46 UTC" in page
    support_client.post(reverse("staff:time_zone"), {"time_zone": "Europe/Berlin"})
    berlin = visible_text(support_client.get(f"/orders/{EXAMPLE_ID}/").content.decode())
    assert "8 Jan 2023, 22:50:46 CET" in berlin and "21:50:46 UTC" not in berlin


def test_search_results_are_not_headed_newest_orders(support_client: Client) -> None:
    newest = support_client.get("/orders/").content.decode()
    assert "<h1>Newest orders</h1>" in newest
    # Typing in the header's box on the orders page swaps only the results: the heading comes with them.
    swapped = support_client.get("/orders/", {"q": "99999999"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<h1>Search results</h1>" in swapped and "Newest orders" not in swapped
    whole = support_client.get("/orders/", {"q": "99999999"}).content.decode()
    assert "Newest orders" not in whole


def test_a_single_not_found_line_has_no_page_size_control(support_client: Client) -> None:
    page = support_client.get("/orders/", {"q": "99999999"}).content.decode()
    assert "No order has the number 99999999." in page
    assert 'name="per_page"' not in page and "Per page" not in page
    assert 'name="per_page"' in support_client.get("/orders/").content.decode()


def test_the_header_search_box_shows_only_an_orders_search(support_client: Client) -> None:
    records = support_client.get("/downloads/", {"q": "handbook"}).content.decode()
    box = re.search(r'<input id="site-search-q"[^>]*>', records, re.DOTALL).group(0)
    assert 'value=""' in box
    orders = support_client.get("/orders/", {"q": "99999999"}).content.decode()
    assert 'value="99999999"' in re.search(r'<input id="site-search-q"[^>]*>', orders, re.DOTALL).group(0)


def test_a_refused_edit_keeps_the_created_line_and_puts_the_step_error_on_the_count(
    support_client: Client, make_record: Any, downloads_api: DownloadsApi, settings: Any
) -> None:
    settings.SUPPORT_MAX_COUNT_STEP = 5
    record = make_record(download_count=8)
    url = reverse("downloads:edit", args=[record["download_id"]])
    loaded = support_client.get(url).content.decode()
    assert "<dt>Created</dt>" in loaded
    refused = support_client.post(url, {**_form_values(loaded), "download_count": "20"})
    page = refused.content.decode()
    assert "<dt>Created</dt>" in page
    assert visible_text(loaded).split("Created ")[1][:25] == visible_text(page).split("Created ")[1][:25]
    # The sentence sits in the Download count field's row, not above the form.
    row_pattern = r'<div class="form-row has-error[^"]*">(?:(?!<div class="form-row).)*'
    count_row = re.search(row_pattern, page, re.DOTALL)
    assert count_row is not None and 'name="download_count"' in count_row.group(0)
    assert "at most 5" in count_row.group(0)
    assert '<div class="notice notice-error" role="alert">' not in page
    assert downloads_api.get(record["download_id"])["download_count"] == 8


def test_every_page_has_a_skip_link_and_a_favicon(support_client: Client) -> None:
    for url in ("/orders/", f"/orders/{EXAMPLE_ID}/", "/downloads/", "/audit/", "/status/", "/nowhere/"):
        page = support_client.get(url).content.decode()
        assert '<a class="skip-link" href="#main">Skip to main content</a>' in page, url
        assert '<main id="main"' in page, url
        assert re.search(r'<link rel="icon" href="/static/favicon\.svg', page), url
    anonymous = Client().get("/accounts/login/").content.decode()
    assert "skip-link" in anonymous and 'rel="icon"' in anonymous


def test_the_favicon_is_served_even_where_a_page_names_none() -> None:
    anonymous = Client()
    response = anonymous.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
    icon = anonymous.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg+xml")
