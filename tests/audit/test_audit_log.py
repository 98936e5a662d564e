"""/audit/: filters (person, action, order number, download id, date range, outcome), 50 entries a page
with links that keep the filters, bad filter values that never break the page, and htmx swaps."""

import re
import time
from datetime import UTC, datetime
from html import unescape
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry
from audit.registry import action_choices
from orders.attachments import ATTACH, DETACH
from orders.replies import REPLY_TEMPLATE_EDIT
from orders.resend import EMAIL_RESEND

pytestmark = pytest.mark.django_db


def _entry(actor: User | None, **fields: Any) -> AuditEntry:
    values = {
        "actor": actor,
        "actor_name": actor.get_username() if actor else "system",
        "action": "email_resend",
        "outcome": "success",
        **fields,
    }
    return AuditEntry.objects.create(**values)


def _entry_at(when: datetime, actor: User, **fields: Any) -> AuditEntry:
    with mock.patch("django.utils.timezone.now", return_value=when):
        return _entry(actor, **fields)


def _shown(client: Client, **params: Any) -> list[int]:
    """The entry ids on the page, in order."""
    html = client.get("/audit/", params).content.decode()
    return [int(pk) for pk in re.findall(r'<tr id="entry-(\d+)"', html)]


def test_each_filter_narrows_the_list(
    merchant_client: Client, merchant_user: User, support_user: User
) -> None:
    resend = _entry(support_user, order_number=5001)
    count = _entry(
        merchant_user,
        action="download_record_count",
        order_number=5002,
        download_id="rec-a",
        before={"download_count": 1},
        after={"download_count": 2},
    )
    failed = _entry(
        merchant_user,
        action="download_record_delete",
        order_number=5002,
        download_id="rec-b",
        outcome="failed",
    )
    system = _entry(None, order_number=5003)

    assert _shown(merchant_client) == [system.pk, failed.pk, count.pk, resend.pk]
    assert _shown(merchant_client, actor=support_user.pk) == [resend.pk]
    assert _shown(merchant_client, actor=merchant_user.pk) == [failed.pk, count.pk]
    assert _shown(merchant_client, action="download_record_count") == [count.pk]
    assert _shown(merchant_client, order_number=5002) == [failed.pk, count.pk]
    assert _shown(merchant_client, download_id="rec-b") == [failed.pk]
    assert _shown(merchant_client, outcome="failed") == [failed.pk]
    assert _shown(merchant_client, outcome="success", order_number=5002) == [count.pk]
    assert _shown(merchant_client, action="download_record_count", outcome="failed") == []


def test_the_person_filter_offers_only_people_with_entries(
    merchant_client: Client, merchant_user: User, support_user: User
) -> None:
    User.objects.create_user("quiet-colleague", password="irrelevant-password-123")
    _entry(support_user)
    html = merchant_client.get("/audit/").content.decode()
    select = html.split('name="actor"')[1].split("</select>")[0]
    assert "sam-support" in select and "quiet-colleague" not in select and "mia-merchant" not in select
    assert "Anyone" in select


@pytest.mark.engine
def test_the_date_range_includes_both_ends(merchant_client: Client, merchant_user: User) -> None:
    march_1 = _entry_at(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), merchant_user)
    march_2 = _entry_at(datetime(2026, 3, 2, 0, 5, tzinfo=UTC), merchant_user)
    march_5 = _entry_at(datetime(2026, 3, 5, 12, 0, tzinfo=UTC), merchant_user)

    assert _shown(merchant_client, date_from="2026-03-02") == [march_5.pk, march_2.pk]
    assert _shown(merchant_client, date_to="2026-03-02") == [march_2.pk, march_1.pk]
    assert _shown(merchant_client, date_from="2026-03-02", date_to="2026-03-02") == [march_2.pk]
    assert _shown(merchant_client, date_from="2026-03-03", date_to="2026-03-04") == []


def test_a_date_range_the_wrong_way_round_says_so(merchant_client: Client, merchant_user: User) -> None:
    html = merchant_client.get(
        "/audit/", {"date_from": "2026-03-05", "date_to": "2026-03-01"}
    ).content.decode()
    assert "“To” is before “From”." in html


def _link(html: str, words: str) -> str | None:
    """The address of the pager's link with these words ("Older →", "← Newer"), None without one."""
    found = re.search(r'<a class="btn btn-small" href="([^"]*)"[^>]*>' + re.escape(words) + "</a>", html)
    return found and unescape(found.group(1))


def _follow(client: Client, link: str | None) -> str:
    assert link is not None and link.startswith("?")
    return client.get("/audit/" + link).content.decode()


def _ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="entry-(\d+)"', html)]


@pytest.mark.engine
def test_fifty_entries_a_page_and_the_page_links_keep_the_filters(
    merchant_client: Client, merchant_user: User
) -> None:
    made = [_entry(merchant_user, order_number=4242, reason=f"r{index}") for index in range(55)]
    _entry(merchant_user, order_number=4243)  # filtered out

    first = merchant_client.get("/audit/", {"order_number": 4242, "action": "email_resend"}).content.decode()
    assert "Page 1 of 2" in first and "55 entries match the filters." in first
    assert len(re.findall(r'<tr id="entry-', first)) == 50
    older = _link(first, "Older →")
    assert older is not None
    assert re.fullmatch(r"\?action=email_resend&order_number=4242&older_than=\d+-\d+&page=2", older)
    assert _link(first, "← Newer") is None

    second = _follow(merchant_client, older)
    assert _ids(second) == [entry.pk for entry in reversed(made[:5])]
    assert "Page 2 of 2" in second and _link(second, "Older →") is None
    newer = _link(second, "← Newer")
    assert newer is not None and newer.startswith("?action=email_resend&order_number=4242&newer_than=")
    assert _ids(_follow(merchant_client, newer)) == _ids(first)

    # A ?page=N link from before keeps working, its own links now the same cursors.
    old_link = _shown(merchant_client, order_number=4242, action="email_resend", page=2)
    assert old_link == [entry.pk for entry in reversed(made[:5])]
    html = merchant_client.get("/audit/", {"order_number": 4242, "action": "email_resend", "page": 2})
    assert _ids(_follow(merchant_client, _link(html.content.decode(), "← Newer"))) == _ids(first)


@pytest.mark.engine
def test_the_older_and_newer_links_walk_the_whole_log_once_each_way_even_through_equal_times(
    merchant_client: Client, merchant_user: User
) -> None:
    """Keyset paging: each page is the 50 entries after the last one shown, in (created_at, id) order, so
    entries written in the same microsecond (a bulk load) are never repeated nor skipped at a page's edge."""
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    made = [_entry_at(moment, merchant_user) for _ in range(70)]
    made += [_entry_at(datetime(2026, 3, 1, 12, 5, tzinfo=UTC), merchant_user) for _ in range(50)]
    newest_first = [entry.pk for entry in reversed(made)]

    pages, html = [], merchant_client.get("/audit/").content.decode()
    while True:
        pages.append(_ids(html))
        older = _link(html, "Older →")
        if older is None:
            break
        html = _follow(merchant_client, older)
    assert [len(page) for page in pages] == [50, 50, 20]
    assert [pk for page in pages for pk in page] == newest_first
    assert "Page 3 of 3" in html  # the last

    back = []
    while (newer := _link(html, "← Newer")) is not None:
        html = _follow(merchant_client, newer)
        back.append(_ids(html))
    assert back == [pages[1], pages[0]] and "Page 1 of 3" in html


@pytest.mark.engine
def test_an_entry_added_between_two_loads_moves_no_row_across_the_next_page(
    merchant_client: Client, merchant_user: User
) -> None:
    made = [_entry(merchant_user) for _ in range(60)]
    first = merchant_client.get("/audit/").content.decode()
    added = _entry(merchant_user, reason="written meanwhile")

    older = _follow(merchant_client, _link(first, "Older →"))
    # With ?page=2 the 50th entry would show again; the link starts after the last row shown.
    assert _ids(older) == [entry.pk for entry in reversed(made[:10])]
    assert _ids(merchant_client.get("/audit/").content.decode())[0] == added.pk  # the next load shows it
    newer = _follow(merchant_client, _link(older, "← Newer"))
    assert _ids(newer) == [entry.pk for entry in reversed(made[10:])]  # the 50 just above, in order


@pytest.mark.engine
@pytest.mark.parametrize(
    "place", ["older_than=nonsense", "newer_than=-1-2", "older_than=99999999999999999-1"]
)
def test_a_page_link_that_does_not_parse_shows_the_newest_page(
    merchant_client: Client, merchant_user: User, place: str
) -> None:
    made = [_entry(merchant_user) for _ in range(3)]
    response = merchant_client.get(f"/audit/?{place}")
    assert response.status_code == 200
    assert _ids(response.content.decode()) == [entry.pk for entry in reversed(made)]


@pytest.mark.engine
def test_a_page_past_the_oldest_entry_shows_the_newest_page(
    merchant_client: Client, merchant_user: User
) -> None:
    made = [_entry(merchant_user) for _ in range(3)]
    html = merchant_client.get("/audit/", {"older_than": f"1-{made[0].pk}", "page": 7}).content.decode()
    assert _ids(html) == [entry.pk for entry in reversed(made)] and "Page 1 of 1" in html


def test_a_day_past_the_calendars_end_is_a_sentence_beside_the_box_that_keeps_it(
    merchant_client: Client, merchant_user: User
) -> None:
    entry = _entry_at(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), merchant_user)
    response = merchant_client.get("/audit/", {"date_to": "9999-12-31"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The “To” day is 31 Dec 9999: choose a day between 1 Jan 1970 and 31 Dec 2999" in html
    assert 'value="9999-12-31"' in html
    assert "No entries are listed while a filter is not valid." in html
    assert _shown(merchant_client, date_to="2999-12-31") == [entry.pk]  # the last day it takes


@pytest.mark.parametrize(
    "params",
    [
        {"page": "x"},
        {"page": "999999"},
        {"page": "-1"},
        {"date_from": "not-a-date"},
        {"order_number": "12abc"},
        {"order_number": "99999999999999999999999999"},
        {"actor": "999999"},
        {"actor": "<script>"},
        {"action": "drop_table"},
        {"outcome": "maybe"},
        {"download_id": "x" * 500},
    ],
    ids=lambda params: ",".join(params),
)
@pytest.mark.engine
def test_a_filter_value_that_does_not_parse_lists_nothing_and_says_why(
    merchant_client: Client, merchant_user: User, params: dict[str, str]
) -> None:
    # A list under a filter that was dropped would look filtered while it is not (issue 17). An odd
    # page number is no filter: page 1 (or the last page) of the filtered list.
    kept = _entry(merchant_user, order_number=6001)
    _entry(merchant_user, order_number=6002)
    query = {"order_number": 6001, **params}
    response = merchant_client.get("/audit/", query)
    assert response.status_code == 200
    html = response.content.decode()
    if "page" in params:
        assert _shown(merchant_client, **query) == [kept.pk]
        assert 'id="audit-filter-problem"' not in html
    else:
        assert _shown(merchant_client, **query) == []
        assert 'id="audit-filter-problem"' in html
        assert "No entries are listed while a filter is not valid." in html


def test_the_broken_filter_is_left_out_of_the_link_that_lists_without_it(
    merchant_client: Client, merchant_user: User
) -> None:
    for _ in range(51):
        _entry(merchant_user, order_number=6101)
    html = merchant_client.get("/audit/", {"order_number": 6101, "date_from": "nope"}).content.decode()
    assert '<a href="?order_number=6101">list the entries without it</a>' in html
    # (every filter reads its days in fileflare_admin.days: the sentence says what was typed)
    assert "“From”: “nope” in the “From” box is not a date. Pick a day from the calendar" in html
    assert _shown(merchant_client, order_number=6101)[:1] != []


def test_each_row_links_to_the_order_and_to_the_records_history(
    merchant_client: Client, merchant_user: User
) -> None:
    _entry(merchant_user, action="download_record_count", order_number=7007, download_id="abc123")
    html = merchant_client.get("/audit/").content.decode()
    assert 'href="/orders/?q=7007"' in html and 'href="/audit/?download_id=abc123"' in html


def test_htmx_gets_only_the_results_and_a_plain_request_the_whole_page(
    merchant_client: Client, merchant_user: User
) -> None:
    _entry(merchant_user, order_number=8008)
    full = merchant_client.get("/audit/", {"order_number": 8008})
    assert "<html" in full.content.decode() and 'id="audit-filters"' in full.content.decode()
    assert "HX-Request" in full["Vary"]
    partial = merchant_client.get("/audit/", {"order_number": 8008}, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="audit-results">') and "<html" not in partial
    restore = merchant_client.get(
        "/audit/", {"order_number": 8008}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    ).content.decode()
    assert "<html" in restore


def test_the_filters_work_without_javascript(merchant_client: Client) -> None:
    html = merchant_client.get("/audit/").content.decode()
    form = html.split('id="audit-filters"')[0].rsplit("<form", 1)[1] + html.split('id="audit-filters"')[1]
    assert 'method="get"' in form and 'action="/audit/"' in form
    assert "Nothing recorded yet." in html


def test_the_page_needs_a_handful_of_queries_whatever_the_number_of_rows(
    merchant_client: Client, merchant_user: User, django_assert_max_num_queries: Any
) -> None:
    for index in range(50):
        _entry(
            merchant_user,
            action="download_record_count",
            download_id=f"rec{index}",
            before={"download_count": 1},
            after={"download_count": 2},
        )
    with django_assert_max_num_queries(12):
        merchant_client.get("/audit/")


def test_the_bulk_fix_filter_lists_that_jobs_entries_and_each_links_to_its_job(
    merchant_client: Client, merchant_user: User
) -> None:
    first = _entry(merchant_user, action="download_record_count", job_id="7", download_id="r1")
    second = _entry(merchant_user, action="download_record_count", job_id="7", download_id="r2")
    _entry(merchant_user, action="download_record_count", job_id="17", download_id="r3")
    by_hand = _entry(merchant_user, action="download_record_count", download_id="r4")

    assert _shown(merchant_client, job_id="7") == [second.pk, first.pk]
    assert _shown(merchant_client, job_id="#7") == [second.pk, first.pk]  # as the jobs pages write it
    page = merchant_client.get("/audit/").content.decode()
    assert 'href="/audit/?job_id=7"' in page and ">bulk fix #7</a>" in page
    row = page.split(f'id="entry-{by_hand.pk}"')[1].split("</tr>")[0]
    assert "bulk fix #" not in row


def test_attached_and_detached_files_read_as_file_names(merchant_client: Client, merchant_user: User) -> None:
    manual = {"id": "0b1c7a52-0000-4000-8000-000000000001", "filename": "Manual.pdf"}
    part2 = {"id": "0b1c7a52-0000-4000-8000-000000000002", "filename": "Course part 2.zip"}
    attach = _entry(
        merchant_user,
        action="order_assets_attach",
        order_number=5101,
        before={"assets": [manual]},
        after={"assets": [manual, part2], "attached": [part2]},
    )
    detach = _entry(
        merchant_user,
        action="order_assets_detach",
        order_number=5101,
        before={"assets": [manual]},
        after={"assets": [], "detached": [manual]},
    )
    page = merchant_client.get("/audit/").content.decode()
    attached = page.split(f'id="entry-{attach.pk}"')[1].split("</tr>")[0]
    assert "Attached files to order" in attached
    both = "Manual.pdf, Course part 2.zip"
    assert f'<del title="Manual.pdf">Manual.pdf</del> → <ins title="{both}">' in attached
    detached = page.split(f'id="entry-{detach.pk}"')[1].split("</tr>")[0]
    assert "Detached files from order" in detached and "(none)" in detached
    for row in (attached, detached):
        assert "{" not in row and "[" not in row and "filename" not in row and part2["id"] not in row


def test_the_orders_apps_actions_are_named_in_the_log() -> None:
    # orders writes them by these codes and registers them; the log must know each (its filter offers
    # them, rows name them).
    labels = dict(action_choices())
    assert labels[ATTACH] == "Attached files to order"
    assert labels[DETACH] == "Detached files from order"
    assert labels[REPLY_TEMPLATE_EDIT] == "Changed a support reply"
    assert labels[EMAIL_RESEND] == "Resent download e-mail"


def test_long_values_alike_at_the_start_are_cut_where_they_differ(
    merchant_client: Client, merchant_user: User
) -> None:
    before = "Deluxe Guitar Tabs, Guitar Tabs - Commercial Licence (single seat).pdf"
    after = "Deluxe Guitar Tabs, Guitar Tabs - Commercial Licence (five seats).pdf"
    entry = _entry(
        merchant_user,
        action="download_record_update",
        download_id="rec-long",
        before={"download_file_name": before},
        after={"download_file_name": after},
    )
    row = merchant_client.get("/audit/").content.decode().split(f'id="entry-{entry.pk}"', 1)[1]
    row = row.split("</tr>", 1)[0]
    shown_before = re.search(r"<del [^>]*>([^<]*)</del>", row)
    shown_after = re.search(r"<ins [^>]*>([^<]*)</ins>", row)
    assert shown_before and shown_after, row
    assert shown_before.group(1) != shown_after.group(1)
    assert "single seat" in shown_before.group(1) and "five seats" in shown_after.group(1)
    assert shown_before.group(1).startswith("…") and len(shown_before.group(1)) <= 40
    assert f'title="{before}"' in row and f'title="{after}"' in row  # the whole of each on hover


def test_the_count_of_entries_is_right_the_moment_an_entry_is_added(
    merchant_client: Client, merchant_user: User, support_user: User
) -> None:
    """The unfiltered count is kept in the cache under the newest entry's id (issue 28): a new entry is
    counted on the very next load, and the people filter offers its author at once."""
    for _ in range(3):
        _entry(merchant_user)
    assert "3 entries." in merchant_client.get("/audit/").content.decode()
    assert "3 entries." in merchant_client.get("/audit/").content.decode()  # the kept count
    _entry(support_user)
    page = merchant_client.get("/audit/").content.decode()
    assert "4 entries." in page
    assert f'<option value="{support_user.pk}">{support_user.username}</option>' in page
    filtered = merchant_client.get("/audit/", {"actor": support_user.pk}).content.decode()
    assert "1 entry matches the filters." in filtered


def test_the_kept_count_is_counted_again_after_its_time(merchant_client: Client, merchant_user: User) -> None:
    """An entry committed out of id order (PostgreSQL, two writes at once) is missed by the kept count at
    most TRAIL_RECOUNT_SECONDS: then the whole trail is counted again."""
    from django.core.cache import cache

    from audit import selectors

    newest = _entry(merchant_user)
    cache.set(selectors.TRAIL_COUNT_KEY, (newest.pk, 7, time.time()))  # as if 6 entries had been missed
    assert "7 entries." in merchant_client.get("/audit/").content.decode()
    past = time.time() - selectors.TRAIL_RECOUNT_SECONDS - 1
    cache.set(selectors.TRAIL_COUNT_KEY, (newest.pk, 7, past))
    assert "1 entry." in merchant_client.get("/audit/").content.decode()


def test_the_kept_count_takes_in_more_new_entries_than_it_counts_at_once(
    merchant_client: Client, merchant_user: User
) -> None:
    """The entries after the kept count are counted TRAIL_ADDED_AT_ONCE at most by the primary key's index;
    a bulk load of more is counted whole."""
    from audit import selectors

    for _ in range(3):
        _entry(merchant_user)
    assert "3 entries." in merchant_client.get("/audit/").content.decode()
    added = selectors.TRAIL_ADDED_AT_ONCE + 50
    AuditEntry.objects.bulk_create(
        AuditEntry(actor=merchant_user, actor_name="bulk", action="email_resend", outcome="success")
        for _ in range(added)
    )
    assert f"{3 + added} entries." in merchant_client.get("/audit/").content.decode()
    _entry(merchant_user)
    assert f"{4 + added} entries." in merchant_client.get("/audit/").content.decode()
