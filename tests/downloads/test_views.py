"""The download-record pages through Django's test client, against the in-process sandbox."""

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from downloads import reads
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi
from tests.support.forms import form_values as _form_values

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _links(html: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html)]


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --- list ------------------------------------------------------------------------------------------


def test_list_searches_and_shows_records_with_order_links_and_s3(
    merchant_client: Client, make_record: Any, order_number: int
) -> None:
    record = make_record(is_amazon=True, amazon_key="bucket/key-1.zip", download_file_name="guide.pdf")
    response = merchant_client.get(reverse("downloads:list"), {"q": str(order_number)})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="record-{record["download_id"]}"' in page
    assert "guide.pdf" in page
    assert ">S3<" in page
    assert "bucket/key-1.zip" in page  # a Merchant may see the key
    assert f"{reverse('orders:list')}?q={order_number}" in _links(page)
    assert "1</strong> record" in page


def test_a_bare_number_lists_that_orders_records_first_and_other_matches_apart(
    merchant_client: Client, make_record: Any, order_number: int
) -> None:
    other_order = order_number + 500_000
    mine = [make_record(download_file_name=f"part {n}.pdf") for n in (1, 2)]
    by_product = make_record(order_id=other_order, product_id=order_number, download_file_name="poster.png")
    by_name = make_record(order_id=other_order, download_file_name=f"invoice-{order_number}.pdf")
    page = merchant_client.get(reverse("downloads:list"), {"q": str(order_number)}).content.decode()
    own, others = page.split('id="bare-number-order"', 1)[1].split('id="bare-number-others"', 1)
    assert f"Records of order <a href=\"{reverse('orders:list')}?q={order_number}\"" in own
    assert all(f'id="record-{record["download_id"]}"' in own for record in mine)
    assert f"Other records matching “{order_number}”" in others
    for record in (by_product, by_name):
        assert f'id="record-{record["download_id"]}"' in others
        assert f'id="record-{record["download_id"]}"' not in own
    assert 'id="other-records-table"' in others and page.count('id="records-table"') == 1
    labelled = merchant_client.get(reverse("downloads:list"), {"q": f"#{order_number}"}).content.decode()
    assert "bare-number-others" not in labelled and by_product["download_id"] not in labelled


def test_sort_links_keep_the_search_and_page_size_and_page_links_keep_everything(
    merchant_client: Client, make_record: Any, order_number: int
) -> None:
    for count in range(3):
        make_record(download_count=count)
    response = merchant_client.get(
        reverse("downloads:list"), {"q": str(order_number), "sort": "-download_count", "per_page": 50}
    )
    page = response.content.decode()
    count_link = next(link for link in _links(page) if _query(link).get("sort") == ["download_count"])
    # Sorted descending by count: its header offers ascending, and keeps q and per_page.
    assert _query(count_link) == {"q": [str(order_number)], "sort": ["download_count"], "per_page": ["50"]}
    assert 'aria-sort="descending"' in page
    counts = [int(v) for v in re.findall(r'name="count" value="(\d+)"', page)]
    assert counts == [2, 1, 0]

    small = merchant_client.get(
        reverse("downloads:list"), {"q": str(order_number), "sort": "download_count", "per_page": 25}
    ).content.decode()
    assert "page 1 of 1" in small


def test_pagination_links_keep_search_sort_and_page_size(
    merchant_client: Client, make_record: Any, order_number: int, settings: Any
) -> None:
    for count in range(27):
        make_record(download_count=count)
    response = merchant_client.get(
        reverse("downloads:list"), {"q": str(order_number), "sort": "download_count"}
    )
    page = response.content.decode()
    assert "27</strong> records" in page
    assert "page 1 of 2" in page
    next_link = next(link for link in _links(page) if "page=2" in link and "per_page" not in link)
    assert _query(next_link) == {"q": [str(order_number)], "sort": ["download_count"], "page": ["2"]}
    second = merchant_client.get(next_link).content.decode()
    assert re.findall(r'name="count" value="(\d+)"', second) == ["25", "26"]
    assert "page 2 of 2" in second


def test_an_unknown_sort_or_page_size_is_ignored_with_a_note_not_an_error(
    merchant_client: Client, make_record: Any, order_number: int
) -> None:
    make_record()
    response = merchant_client.get(
        reverse("downloads:list"), {"q": str(order_number), "sort": "password", "per_page": "7", "page": "x"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Cannot sort by" in page
    assert "records a page is not offered" in page
    assert "is not a page number" in page


def test_htmx_search_answers_only_the_results_partial(
    merchant_client: Client, make_record: Any, order_number: int
) -> None:
    make_record()
    response = merchant_client.get(reverse("downloads:list"), {"q": str(order_number)}, **HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="record-results"')
    assert "<html" not in page
    assert "HX-Request" in response["Vary"]
    full = merchant_client.get(reverse("downloads:list"), {"q": str(order_number)})
    assert "<html" in full.content.decode()


def test_upstream_down_shows_a_sentence_not_an_error_page(merchant_client: Client, sandbox: Sandbox) -> None:
    sandbox.config(error_rate=1.0)
    response = merchant_client.get(reverse("downloads:list"), {"q": "no-cache-for-this-search"})
    assert response.status_code == 200
    assert b'class="notice notice-error"' in response.content


# --- create ----------------------------------------------------------------------------------------


def _create_payload(order_number: int, **changes: Any) -> dict[str, Any]:
    return {
        "product_id": "31",
        "order_id": str(order_number),
        "download_count": "0",
        "download_file_name": "Spring catalogue.pdf",
        "amazon_key": "",
        "reason": "",
        **changes,
    }


def _create(client: Client, payload: dict[str, Any]) -> Any:
    form = _form_values(client.get(reverse("downloads:create")).content.decode())
    return client.post(reverse("downloads:create"), {"submission": form["submission"], **payload})


def test_create_form_validates_in_the_browser_too(merchant_client: Client) -> None:
    page = merchant_client.get(reverse("downloads:create")).content.decode()
    count = re.search(r'<input[^>]*name="download_count"[^>]*>', page).group(0)
    # A text box with the numeric keyboard: a number box would refuse "1 536" as a French person types it
    # (issue 30; tests/i18n/test_formats.py); the form checks the range.
    assert 'type="text"' in count and 'inputmode="numeric"' in count and "required" in count
    product = re.search(r'<input[^>]*name="product_id"[^>]*>', page).group(0)
    assert 'min="1"' in product and "required" in product
    assert 'name="download_file_name"' in page and 'name="is_amazon"' in page and 'name="amazon_key"' in page


def test_create_lands_on_the_orders_records_with_the_new_id_and_is_audited(
    merchant_client: Client, downloads_api: DownloadsApi, order_number: int
) -> None:
    response = _create(merchant_client, _create_payload(order_number, reason="resold"))
    at_api = downloads_api.for_order(order_number)
    assert len(at_api) == 1
    new_id = at_api[0]["download_id"]
    assert response.status_code == 302
    assert _query(response["Location"]) == {"q": [f"order:{order_number}"], "sort": ["-date_created"]}
    assert response["Location"].endswith(f"#record-{new_id}")  # the new row, highlighted
    listed = merchant_client.get(response["Location"]).content.decode()
    assert f"Created download record {new_id}" in listed
    assert f'id="record-{new_id}"' in listed
    entry = AuditEntry.objects.get(action="download_record_create")
    assert (entry.outcome, entry.download_id, entry.reason) == ("success", new_id, "resold")


def test_create_with_bad_values_keeps_what_was_typed(
    merchant_client: Client, downloads_api: DownloadsApi, order_number: int
) -> None:
    response = _create(
        merchant_client,
        _create_payload(order_number, download_count="-1", product_id="0", is_amazon="on", amazon_key="  "),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "A download count cannot be below 0." in page
    assert "Enter a whole number above 0." in page
    assert "Enter the S3 key" in page
    assert 'value="Spring catalogue.pdf"' in page
    assert 'value="-1"' in page
    assert downloads_api.for_order(order_number) == []
    assert not AuditEntry.objects.exists()


def test_a_count_that_is_not_a_whole_number_is_refused(merchant_client: Client, order_number: int) -> None:
    response = _create(merchant_client, _create_payload(order_number, download_count="2.5"))
    assert response.status_code == 200
    assert "Enter a whole number, 0 or more." in response.content.decode()


def test_the_same_create_form_is_never_sent_twice(
    merchant_client: Client, downloads_api: DownloadsApi, order_number: int
) -> None:
    form = _form_values(merchant_client.get(reverse("downloads:create")).content.decode())
    payload = {"submission": form["submission"], **_create_payload(order_number)}
    assert merchant_client.post(reverse("downloads:create"), payload).status_code == 302
    again = merchant_client.post(reverse("downloads:create"), payload)
    assert again.status_code == 200
    assert "This form was already sent at" in again.content.decode()
    assert len(downloads_api.for_order(order_number)) == 1


def test_create_timeout_says_the_outcome_is_unknown_and_links_to_the_search(
    merchant_client: Client, downloads_api: DownloadsApi, order_number: int, sandbox: Sandbox, settings: Any
) -> None:
    form = _form_values(merchant_client.get(reverse("downloads:create")).content.decode())
    settings.UPSTREAM_READ_TIMEOUT = 1
    sandbox.config(hang_rate=1.0)
    response = merchant_client.post(
        reverse("downloads:create"), {"submission": form["submission"], **_create_payload(order_number)}
    )
    sandbox.reset_faults()
    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot tell whether the record was created" in page
    search = next(link for link in _links(page) if link.startswith(reverse("downloads:list") + "?"))
    assert _query(search) == {"q": [f"order:{order_number}"], "sort": ["-date_created"]}
    assert 'value="Spring catalogue.pdf"' in page
    # Sent once, never repeated: at most one record exists.
    assert len(downloads_api.for_order(order_number)) <= 1
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome) == ("download_record_create", "unknown")
    assert "cannot tell whether the record was created" in entry.error


# --- edit ------------------------------------------------------------------------------------------


def test_edit_saves_at_the_api_and_in_the_trail(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any, order_number: int
) -> None:
    record = make_record(download_file_name="v1.pdf", download_count=4)
    url = reverse("downloads:edit", args=[record["download_id"]])
    form = _form_values(merchant_client.get(url).content.decode())
    assert form["download_file_name"] == "v1.pdf"
    response = merchant_client.post(
        url, {**form, "download_file_name": "v2.pdf", "reason": "renamed upstream"}
    )
    assert response.status_code == 302
    assert downloads_api.get(record["download_id"])["download_file_name"] == "v2.pdf"
    entry = AuditEntry.objects.get(action="download_record_update")
    assert (entry.before["download_file_name"], entry.after["download_file_name"]) == ("v1.pdf", "v2.pdf")
    assert entry.reason == "renamed upstream"
    assert entry.order_number == order_number


def test_two_colleagues_editing_the_same_record_lose_nothing(
    merchant_client: Client,
    second_merchant_client: Client,
    downloads_api: DownloadsApi,
    make_record: Any,
) -> None:
    record = make_record(download_file_name="original.pdf", download_count=3)
    url = reverse("downloads:edit", args=[record["download_id"]])
    mine = _form_values(merchant_client.get(url).content.decode())
    theirs = _form_values(second_merchant_client.get(url).content.decode())

    # The colleague saves first.
    assert second_merchant_client.post(url, {**theirs, "download_file_name": "theirs.pdf"}).status_code == 302
    # My save does not overwrite theirs: I see both versions and am asked.
    response = merchant_client.post(url, {**mine, "download_count": "0"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone changed this record" in page
    assert "Yours" in page and "Now at the API" in page
    assert "changed by someone" in page and "changed by you" in page
    assert "Save mine anyway" in page and "Discard mine" in page
    at_api = downloads_api.get(record["download_id"])
    assert (at_api["download_file_name"], at_api["download_count"]) == ("theirs.pdf", 3)
    # My change is kept in the form; the field I did not touch now holds my colleague's value.
    again = _form_values(page)
    assert (again["download_count"], again["download_file_name"]) == ("0", "theirs.pdf")
    # Saving mine anyway is a deliberate second step, and it keeps their change too.
    assert merchant_client.post(url, again).status_code == 302
    at_api = downloads_api.get(record["download_id"])
    assert (at_api["download_file_name"], at_api["download_count"]) == ("theirs.pdf", 0)
    outcomes = list(AuditEntry.objects.order_by("pk").values_list("actor_name", "outcome"))
    assert outcomes == [("max-merchant", "success"), ("mia-merchant", "failed"), ("mia-merchant", "success")]


def test_a_422_from_the_api_lands_on_its_field(
    merchant_client: Client, make_record: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fileflare_admin.api import downloads as downloads_api_module
    from fileflare_admin.api import errors

    record = make_record()
    url = reverse("downloads:edit", args=[record["download_id"]])
    form = _form_values(merchant_client.get(url).content.decode())

    def refuse(**kwargs: Any) -> Any:
        failure = errors.ValidationFailed("The file name is not allowed. (and 1 more error)")
        failure.field_errors = {
            "download_file_name": ["The file name is not allowed."],
            "colour": ["Unknown field."],
        }
        raise failure

    # The sandbox accepts every well-formed record, so the 422 is faked at the client's edge.
    monkeypatch.setattr(downloads_api_module, "record_update", refuse)
    response = merchant_client.post(url, {**form, "download_file_name": "bad.exe"})
    assert response.status_code == 200
    page = response.content.decode()
    field_block = re.search(r'name="download_file_name".*?</div>', page, re.S).group(0)
    assert "The file name is not allowed." in field_block
    assert "colour: Unknown field." in page
    assert 'value="bad.exe"' in page


def test_a_tampered_snapshot_is_refused(
    merchant_client: Client, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record()
    url = reverse("downloads:edit", args=[record["download_id"]])
    form = _form_values(merchant_client.get(url).content.decode())
    response = merchant_client.post(url, {**form, "loaded": form["loaded"] + "x", "download_count": "9"})
    assert response.status_code == 200
    assert "changed outside the dashboard" in response.content.decode()
    assert downloads_api.get(record["download_id"])["download_count"] == 2


def test_a_stored_value_the_form_would_not_take_never_blocks_saving_another_field(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_file_name="", download_count=1)  # our form requires a file name
    url = reverse("downloads:edit", args=[record["download_id"]])
    form = _form_values(merchant_client.get(url).content.decode())
    response = merchant_client.post(url, {**form, "download_count": "4"})
    assert response.status_code == 302
    at_api = downloads_api.get(record["download_id"])
    assert (at_api["download_count"], at_api["download_file_name"]) == (4, "")
    assert AuditEntry.objects.get().after["download_count"] == 4


def test_the_forms_take_every_id_the_api_documents(
    merchant_client: Client, downloads_api: DownloadsApi, order_number: int
) -> None:
    largest = 2_147_483_647  # int(11), the downloads API's columns
    response = _create(merchant_client, _create_payload(order_number, product_id=str(largest)))
    assert response.status_code == 302
    (created,) = downloads_api.for_order(order_number)
    assert created["product_id"] == largest
    page = merchant_client.get(reverse("downloads:create")).content.decode()
    product = re.search(r'<input[^>]*name="product_id"[^>]*>', page).group(0)
    assert "max=" not in product  # beyond the documented range is the API's to refuse, on the field


def test_an_id_beyond_the_apis_range_gets_the_apis_answer_on_its_field(
    merchant_client: Client, downloads_api: DownloadsApi, order_number: int
) -> None:
    response = _create(merchant_client, _create_payload(order_number, product_id="2147483648"))
    assert response.status_code == 200
    page = response.content.decode()
    field_block = re.search(r'name="product_id".*?</div>', page, re.S).group(0)
    assert 'class="field-error"' in field_block  # the downloads API's own sentence, on the field
    assert 'value="2147483648"' in page and 'value="Spring catalogue.pdf"' in page
    assert downloads_api.for_order(order_number) == []
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.order_number) == ("failed", order_number)


def test_unknown_or_malformed_ids_are_404_pages(merchant_client: Client) -> None:
    for name in ("edit", "delete"):
        assert merchant_client.get(reverse(f"downloads:{name}", args=["abc0123456789"])).status_code == 404
        assert merchant_client.get(reverse(f"downloads:{name}", args=["not-an-id"])).status_code == 404
    assert (
        merchant_client.post(reverse("downloads:count", args=["not-an-id"]), {"count": 1}).status_code == 404
    )


# --- delete ----------------------------------------------------------------------------------------


def test_delete_asks_first_naming_the_record_then_deletes_and_keeps_a_snapshot(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any, order_number: int
) -> None:
    record = make_record(
        download_file_name="to-remove.pdf", download_count=6, is_amazon=True, amazon_key="b/k"
    )
    url = reverse("downloads:delete", args=[record["download_id"]])
    page = merchant_client.get(url).content.decode()
    assert "Delete this download record?" in page
    for fact in ("to-remove.pdf", str(order_number), "6"):
        assert fact in page
    assert downloads_api.get(record["download_id"]) is not None  # asking deletes nothing

    response = merchant_client.post(url, _form_values(page))
    assert response.status_code == 302
    assert downloads_api.get(record["download_id"]) is None
    entry = AuditEntry.objects.get(action="download_record_delete")
    assert entry.succeeded
    assert entry.before["amazon_key"] == "b/k"
    assert entry.before["download_file_name"] == "to-remove.pdf"
    assert "Deleted download record" in merchant_client.get(response["Location"]).content.decode()


# --- in-place count --------------------------------------------------------------------------------


def _count(client: Client, record: dict[str, Any], *, htmx: bool = True, **data: Any) -> Any:
    payload = {"expected": record["download_count"], "context": "list", "next": "/downloads/", **data}
    extra = HTMX if htmx else {}
    return client.post(reverse("downloads:count", args=[record["download_id"]]), payload, **extra)


def test_count_fixed_in_place_answers_the_updated_row(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=9)
    response = _count(merchant_client, record, count="3")
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="record-{record["download_id"]}"')
    assert 'name="count" value="3"' in row
    assert "Saved: download count is 3." in row
    assert downloads_api.get(record["download_id"])["download_count"] == 3
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.before["download_count"], entry.after["download_count"]) == (
        "download_record_count",
        9,
        3,
    )


def test_reset_to_zero_is_one_click(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=9)
    response = _count(merchant_client, record, count="", reset="1")
    assert 'name="count" value="0"' in response.content.decode()
    assert downloads_api.get(record["download_id"])["download_count"] == 0


def test_count_changed_meanwhile_shows_the_current_value_and_saves_nothing(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=4)
    downloads_api.patch(record["download_id"], download_count=5)
    response = _count(merchant_client, record, count="0")
    assert response.status_code == 200
    row = response.content.decode()
    assert 'name="count" value="5"' in row
    assert 'name="expected" value="5"' in row
    assert "from 4 to 5 meanwhile" in row
    assert downloads_api.get(record["download_id"])["download_count"] == 5


def test_count_without_javascript_redirects_back_with_a_message(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any, order_number: int
) -> None:
    record = make_record(download_count=2)
    back = f"/downloads/?q={order_number}"
    response = _count(merchant_client, record, htmx=False, count="1", next=back)
    assert response.status_code == 302
    assert response["Location"] == back
    assert "set to 1" in merchant_client.get(back).content.decode()
    assert downloads_api.get(record["download_id"])["download_count"] == 1
    elsewhere = _count(
        merchant_client, {**record, "download_count": 1}, htmx=False, count="0", next="https://evil.example/"
    )
    assert elsewhere["Location"] == reverse("downloads:list")


def test_count_when_the_api_is_down_says_so_in_the_row(
    merchant_client: Client, make_record: Any, sandbox: Sandbox
) -> None:
    record = make_record(download_count=2)
    sandbox.config(error_rate=1.0)
    response = _count(merchant_client, record, count="0")
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#record-{record['download_id']}-message"
    assert "Not saved:" in response.content.decode()


def test_a_negative_count_is_refused_before_anything_is_sent(
    merchant_client: Client, downloads_api: DownloadsApi, make_record: Any
) -> None:
    record = make_record(download_count=2)
    response = _count(merchant_client, record, count="-3")
    assert "cannot be below 0" in response.content.decode()
    assert downloads_api.get(record["download_id"])["download_count"] == 2
    assert not AuditEntry.objects.exists()


def test_the_order_page_table_posts_with_the_order_context(
    rf: Any, merchant_user: User, make_record: Any
) -> None:
    record = make_record()
    request = rf.get("/orders/some-order/")
    request.user = merchant_user
    fetched = reads.download_records_for_order(order_number=record["order_id"])
    html = render_to_string(
        "downloads/_records_table.html",
        {"records": fetched.value, "show_order": False},  # what this person may do: `may`, from the request
        request=request,
    )
    assert 'id="records-table"' in html
    assert f'id="record-{record["download_id"]}"' in html
    assert 'name="context" value="order"' in html
    assert 'name="next" value="/orders/some-order/"' in html
    assert '<th scope="col">Order</th>' not in html
    assert ">Edit</a>" in html and ">Delete</a>" in html  # a Merchant's row, from `may`
