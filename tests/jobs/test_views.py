"""The bulk-fix pages through the test client: what a mistake says, what is kept (who may: tests/staff)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import services
from jobs.models import BulkJob, BulkJobItem
from jobs.selection import Selection
from tests.jobs.conftest import reset_plan

Kind = BulkJob.Kind


def _form(**values: object) -> dict[str, object]:
    return {"order_numbers": "", "action": Kind.COUNT_RESET, "reason": "Bot storm", **values}


def test_a_form_without_any_filter_says_so_and_keeps_what_was_typed(merchant_client: Client) -> None:
    response = merchant_client.post(reverse("jobs:new"), _form(reason="Keep this reason"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Choose at least one filter" in page
    assert "Keep this reason" in page
    assert not BulkJob.objects.exists()


def test_pasted_text_that_is_not_an_order_number_is_named_and_kept(merchant_client: Client) -> None:
    response = merchant_client.post(
        reverse("jobs:new"), _form(order_numbers="#1050, 1051, Refund please", action=Kind.COUNT_SET)
    )
    page = response.content.decode()
    assert "These are not order numbers: “Refund”, “please”." in page
    assert "Say how many (N) for this action." in page
    assert "#1050, 1051, Refund please" in page


def test_an_upstream_failure_during_the_dry_run_is_a_sentence_and_nothing_is_kept(
    merchant_client: Client, sandbox
) -> None:
    sandbox.config(error_rate=1)
    response = merchant_client.post(reverse("jobs:new"), _form(order_numbers="1050"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "The downloads API had a problem on its side (error 50" in page
    assert "1050" in page
    assert not BulkJob.objects.exists()


@pytest.mark.engine
def test_the_dry_run_page_lists_each_change_and_run_queues_it_once(
    merchant_client: Client, make_records, new_order_number
) -> None:
    number = new_order_number()
    records = make_records(number, [5, 2])
    response = merchant_client.post(reverse("jobs:new"), _form(order_numbers=f"#{number}"))
    job = BulkJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", kwargs={"pk": job.pk})

    page = merchant_client.get(response["Location"]).content.decode()
    assert "2 records to change" in page and "the run takes <strong>under a minute</strong>" in page
    assert records[0]["download_id"] in page and "5 → <strong>0</strong>" in page
    merchant_client.post(reverse("jobs:run", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    assert job.state == BulkJob.State.QUEUED and job.step_token
    again = merchant_client.post(reverse("jobs:run", kwargs={"pk": job.pk}), follow=True)
    assert f"Bulk fix #{job.pk} was already started (waiting for a worker)." in again.content.decode()


def test_the_progress_partial_polls_while_the_job_runs_and_reloads_the_page_once_it_finished(
    merchant_client: Client, merchant_user: User
) -> None:
    job = BulkJob.objects.create(
        kind=Kind.COUNT_RESET, reason="r", created_by=merchant_user, created_by_name="m", state="running"
    )
    BulkJobItem.objects.create(job=job, position=1, download_id="a1", count_before=3, count_after=0)
    url = reverse("jobs:progress", kwargs={"pk": job.pk})
    running = merchant_client.get(url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in running.content.decode() and "HX-Refresh" not in running
    assert '<progress class="job-bar" id="job-bar" max="1" value="0"' in running.content.decode()

    BulkJob.objects.filter(pk=job.pk).update(state="done", finished_at=timezone.now())
    finished = merchant_client.get(url, headers={"HX-Request": "true"})
    assert finished["HX-Refresh"] == "true" and "every 2s" not in finished.content.decode()


def test_a_job_no_worker_takes_says_so(merchant_client: Client, merchant_user: User) -> None:
    job = BulkJob.objects.create(
        kind=Kind.COUNT_RESET,
        reason="r",
        created_by=merchant_user,
        created_by_name="m",
        state="queued",
        step_token="x",
        step_due_at=timezone.now() - timedelta(seconds=45),
    )
    page = merchant_client.get(reverse("jobs:detail", kwargs={"pk": job.pk})).content.decode()
    assert "No task worker has taken this job since" in page and "Is the worker running?" in page


def test_the_result_downloads_as_csv_and_no_cell_runs_as_a_formula(
    merchant_client: Client, merchant_user: User, make_records, new_order_number
) -> None:
    number = new_order_number()
    make_records(number, [3], download_file_name='=HYPERLINK("http://evil.example","x").pdf')
    job = services.job_plan(
        actor=merchant_user,
        selection=Selection(order_numbers=(number,)),
        kind=Kind.COUNT_RESET,
        amount=None,
        reason="r",
    )
    response = merchant_client.get(reverse("jobs:csv", kwargs={"pk": job.pk}))
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="bulk-fix-{job.pk}.csv"'
    assert "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\").pdf\"" in body


class _Regions(HTMLParser):
    """The visible text of each element with an id, and of each `data-label="Outcome"` cell, in order."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "col", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, list[str]] = {}
        self.outcomes: list[str] = []
        self._open: list[tuple[str | None, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        found = dict(attrs)
        key = found.get("id")
        if key:
            self.by_id.setdefault(key, [])
        outcome = found.get("data-label") == "Outcome"
        if outcome:
            self.outcomes.append("")
        self._open.append((key, outcome))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for key, outcome in self._open:
            if key:
                self.by_id[key].append(data)
            if outcome:
                self.outcomes[-1] += data

    def text(self, key: str) -> str:
        return " ".join(" ".join(self.by_id[key]).split())

    def rows(self) -> list[str]:
        return [" ".join(outcome.split()) for outcome in self.outcomes]


def _regions(html: str) -> _Regions:
    parser = _Regions()
    parser.feed(html)
    return parser


@pytest.mark.parametrize(
    ("job_state", "item_states", "badge", "counted"),
    [
        ("queued", ["pending", "pending", "pending"], "Waiting for a worker", "0 of 3 processed"),
        ("running", ["done", "failed", "in_flight"], "Running", "2 of 3 processed"),
        ("done", ["done", "done", "failed"], "Finished", "3 of 3 processed"),
    ],
)
def test_a_jobs_page_its_progress_poll_and_the_jobs_list_tell_one_story(
    merchant_client: Client,
    merchant_user: User,
    job_state: str,
    item_states: list[str],
    badge: str,
    counted: str,
) -> None:
    """Issue 25 (2): the poll refreshes the badge and the rows with the bar, and the list counts alike."""
    job = BulkJob.objects.create(
        kind=Kind.COUNT_RESET, reason="r", created_by=merchant_user, created_by_name="m", state="queued"
    )
    for position in (1, 2, 3):
        BulkJobItem.objects.create(job=job, position=position, download_id=f"r{position}", count_before=3)
    page = _regions(merchant_client.get(reverse("jobs:detail", kwargs={"pk": job.pk})).content.decode())
    assert page.text("job-state") == "Waiting for a worker" and page.rows() == ["Waiting"] * 3

    # The worker moves on while the page stays open: only the poll is asked again.
    BulkJob.objects.filter(pk=job.pk).update(state=job_state)
    for item, state in zip(job.items.order_by("position"), item_states, strict=True):
        BulkJobItem.objects.filter(pk=item.pk).update(state=state)
    url = reverse("jobs:progress", kwargs={"pk": job.pk})
    poll_html = merchant_client.get(f"{url}?page=1&state=", headers={"HX-Request": "true"}).content.decode()
    poll = _regions(poll_html)
    page = _regions(merchant_client.get(reverse("jobs:detail", kwargs={"pk": job.pk})).content.decode())
    listed = _regions(merchant_client.get(reverse("jobs:list")).content.decode())
    labels = dict(BulkJobItem.State.choices)
    shown = [labels[state] for state in item_states]

    assert 'id="job-state" hx-swap-oob="true"' in poll_html
    assert 'id="job-items" hx-swap-oob="true"' in poll_html
    for reading in (page, poll):
        assert reading.text("job-state") == badge
        assert reading.text("job-counts").startswith(counted)
        assert reading.rows() == shown
    assert counted in listed.text("job-list") and badge in listed.text("job-list")
    done = item_states.count("done")
    if done:
        assert "Waiting" not in poll.text("job-state") and f"{done} done" in poll.text("job-counts")


@pytest.mark.parametrize("field", ["created_from", "created_to"])
def test_a_day_past_the_calendars_end_is_a_sentence_and_what_was_typed_is_kept(
    merchant_client: Client, field: str
) -> None:
    response = merchant_client.post(reverse("jobs:new"), _form(**{field: "9999-12-31"}, reason="Keep me"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "day is 31 Dec 9999: choose a day between 1 Jan 1970 and 31 Dec 2999 (check the year)." in page
    assert 'value="9999-12-31"' in page and "Keep me" in page
    assert not BulkJob.objects.exists()


def test_ten_thousand_pasted_order_numbers_are_refused_with_the_limit_and_no_request(
    merchant_client: Client, sandbox
) -> None:
    pasted = "\n".join(f"#{number}" for number in range(1_000_000_000, 1_000_010_000))  # 120,000 characters
    before = sandbox.stats()["downloads"]
    response = merchant_client.post(reverse("jobs:new"), _form(order_numbers=pasted))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Paste at most 500 order numbers at a time; you pasted 10,000. Run the fix in parts" in page
    assert "#1000009999" in page  # what was pasted is kept
    assert sandbox.stats()["downloads"] == before
    assert not BulkJob.objects.exists()


def test_no_cell_of_the_csv_runs_as_a_formula_hidden_behind_spaces_or_full_width_characters(
    merchant_client: Client, merchant_user: User, make_records, new_order_number
) -> None:
    number = new_order_number()
    hidden = [" =1+1.pdf", "\n=1+1.pdf", "\u00a0=1+1.pdf", "\uff1d1+1.pdf", "\uff20SUM(A1).pdf"]
    for name in hidden:
        make_records(number, [3], download_file_name=name)
    job = reset_plan(merchant_user, (number,))
    response = merchant_client.get(reverse("jobs:csv", kwargs={"pk": job.pk}))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(row["file_name"] for row in rows) == sorted("'" + name for name in hidden)
