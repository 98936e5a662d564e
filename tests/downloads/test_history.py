"""downloads.history: a record's count noted only when it changes, with its delta; the first sighting; a
staff write lowering a count; sightings the dashboard makes anyway (reads, writes) at no upstream call."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from downloads import edits, history, reads, services
from downloads.models import CountChange
from fileflare_admin.api import types
from orders import services as order_services
from tests.conftest import Sandbox
from tests.downloads.conftest import DownloadsApi

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _record(
    download_id: str = "r1", count: int = 0, order_number: int = 1050, **fields: Any
) -> types.DownloadRecord:
    values: dict[str, Any] = {
        "download_id": download_id,
        "date_created": T0,
        "product_id": 7,
        "order_id": order_number,
        "download_count": count,
        "download_file_name": "handbook.pdf",
        "is_amazon": False,
        "amazon_key": "",
        **fields,
    }
    return types.DownloadRecord(**values)


def _rows(download_id: str = "r1") -> list[tuple[int, int | None, str]]:
    return [
        (row.count, row.delta, row.source)
        for row in CountChange.objects.filter(download_id=download_id).order_by("seen_at", "pk")
    ]


@pytest.mark.engine
def test_only_changes_are_stored_each_with_its_delta() -> None:
    for minutes, count in enumerate([0, 0, 1, 1, 1, 3, 3]):
        history.note_counts(
            [_record(count=count)], seen_at=T0 + timedelta(minutes=minutes), source="snapshot"
        )
    assert _rows() == [(0, 0, "snapshot"), (1, 1, "snapshot"), (3, 2, "snapshot")]
    latest = CountChange.objects.filter(latest=True)
    assert [(row.count, row.seen_at) for row in latest] == [(3, T0 + timedelta(minutes=5))]


@pytest.mark.engine
def test_a_file_name_with_a_nul_is_stored_with_the_unreadable_mark() -> None:
    """A hostile file name (a NUL, which PostgreSQL keeps in no text column) is stored as
    fileflare_admin.storable keeps it, not lost with the whole batch."""
    history.note_counts(
        [_record(count=1, download_file_name="hand\x00book.pdf"), _record("r2", count=2)],
        seen_at=T0,
        source="snapshot",
    )
    assert sorted(CountChange.objects.values_list("download_id", "file_name")) == [
        ("r1", "hand\ufffdbook.pdf"),
        ("r2", "handbook.pdf"),
    ]


def test_a_first_sighting_above_zero_has_no_delta_so_earlier_downloads_are_not_dated_now() -> None:
    written = history.note_counts(
        [_record("a", count=4), _record("b", count=0)], seen_at=T0, source="snapshot"
    )
    assert written == 2
    assert _rows("a") == [(4, None, "snapshot")] and _rows("b") == [(0, 0, "snapshot")]
    assert not CountChange.objects.filter(history.DOWNLOADED).exists()


def test_a_write_lowering_a_count_is_no_download_and_the_next_rise_counts_from_it() -> None:
    history.note_counts([_record(count=2)], seen_at=T0, source="snapshot")
    history.note_counts([_record(count=5)], seen_at=T0 + timedelta(hours=1), source="read")
    history.note_counts([_record(count=0)], seen_at=T0 + timedelta(hours=2), source="write")
    history.note_counts([_record(count=1)], seen_at=T0 + timedelta(hours=3), source="snapshot")
    assert _rows() == [(2, None, "snapshot"), (5, 3, "read"), (0, -5, "write"), (1, 1, "snapshot")]
    downloads = sum(row.delta for row in CountChange.objects.filter(history.DOWNLOADED))
    assert downloads == 4


def test_a_write_raising_a_count_is_not_counted_as_downloads() -> None:
    history.note_counts([_record(count=1)], seen_at=T0, source="snapshot")
    history.note_counts([_record(count=3)], seen_at=T0 + timedelta(minutes=1), source="write")
    assert _rows() == [(1, None, "snapshot"), (3, 2, "write")]
    assert not CountChange.objects.filter(history.DOWNLOADED).exists()


def test_a_sighting_older_than_the_last_known_is_ignored() -> None:
    history.note_counts([_record(count=3)], seen_at=T0 + timedelta(hours=1), source="snapshot")
    assert history.note_counts([_record(count=1)], seen_at=T0, source="read") == 0
    assert history.note_counts([_record(count=5)], seen_at=T0 + timedelta(hours=1), source="read") == 0
    assert _rows() == [(3, None, "snapshot")]


@pytest.mark.engine
def test_a_batch_is_read_in_one_query_and_written_in_one_insert(django_assert_num_queries: Any) -> None:
    history.note_counts([_record(f"r{n}", count=1) for n in range(50)], seen_at=T0, source="snapshot")
    changed = [_record(f"r{n}", count=2 if n % 2 else 1) for n in range(50)] + [_record("new", count=0)]
    # the last known counts; the UPDATE of the unchanged ones' confirmation; savepoint, the UPDATE of the
    # superseded rows, the INSERT, release
    with django_assert_num_queries(6):
        written = history.note_counts(changed, seen_at=T0 + timedelta(hours=1), source="snapshot")
    assert written == 26
    downloads = CountChange.objects.filter(history.DOWNLOADED)  # read from its own index (the Reports page)
    assert downloads.count() == 25 and sum(row.delta for row in downloads) == 25
    assert CountChange.objects.filter(latest=True).count() == 51


def test_counts_read_while_the_records_were_on_their_way_spare_the_query_when_nothing_changed(
    django_assert_num_queries: Any,
) -> None:
    """A cold order page reads its records' last counts (counts_of_order) while their answer is on its
    way: an answer with the same counts then costs no query after it."""
    history.note_counts([_record("a", count=1), _record("b", count=2)], seen_at=T0, source="snapshot")
    known = history.counts_of_order(1050)
    assert set(known) == {"a", "b"}
    same = [_record("a", count=1), _record("b", count=2)]
    with django_assert_num_queries(0):
        assert history.note_counts(same, seen_at=T0 + timedelta(hours=1), source="read", known=known) == 0
    assert _rows("a") == [(1, None, "snapshot")]


def test_a_change_seen_with_counts_read_earlier_is_read_again_and_stored_with_its_delta() -> None:
    """What was read while the answer was on its way only spares a query: a change, or a record it does
    not hold (last seen on another order), is compared with the counts read again, as without it."""
    history.note_counts(
        [_record("a", count=1), _record("moved", count=4, order_number=1049)], seen_at=T0, source="snapshot"
    )
    known = history.counts_of_order(1050)
    assert set(known) == {"a"}
    history.note_counts([_record("a", count=2)], seen_at=T0 + timedelta(minutes=1), source="write")
    answer = [_record("a", count=3), _record("moved", count=4)]
    assert history.note_counts(answer, seen_at=T0 + timedelta(hours=1), source="read", known=known) == 1
    assert _rows("a") == [(1, None, "snapshot"), (2, 1, "write"), (3, 1, "read")]  # from the write's 2
    assert _rows("moved") == [(4, None, "snapshot")]  # the same count: not a new record of this order


@pytest.mark.engine
def test_last_counts_give_each_records_latest_count_and_when_it_was_seen() -> None:
    history.note_counts([_record("a", count=1), _record("b", count=2)], seen_at=T0, source="snapshot")
    history.note_counts([_record("a", count=3)], seen_at=T0 + timedelta(hours=1), source="read")
    history.note_counts(
        [_record("a", count=3), _record("b", count=2)], seen_at=T0 + timedelta(hours=2), source="snapshot"
    )
    known = history.last_counts()
    assert {key: (value.count, value.seen_at) for key, value in known.items()} == {
        "a": (3, T0 + timedelta(hours=1)),
        "b": (2, T0),
    }
    assert known["a"].order_number == 1050 and known["a"].file_name == "handbook.pdf"
    assert set(history.last_counts(["b", "missing"])) == {"b"}


def test_changes_of_order_are_that_orders_oldest_first() -> None:
    history.note_counts(
        [_record("a", count=1), _record("x", count=0, order_number=2000)], seen_at=T0, source="snapshot"
    )
    history.note_counts([_record("a", count=4)], seen_at=T0 + timedelta(minutes=3), source="snapshot")
    assert [(row.download_id, row.count, row.delta) for row in history.changes_of_order(1050)] == [
        ("a", 1, None),
        ("a", 4, 3),
    ]


def test_an_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError):
        history.note_counts([_record()], seen_at=T0, source="guess")


def test_a_sighting_the_database_cannot_store_never_fails_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("database is locked")

    monkeypatch.setattr(CountChange.objects, "bulk_create", busy)
    assert history.note_seen([_record(count=1)], seen_at=T0, source="read") == 0
    assert not CountChange.objects.exists()


def test_a_count_write_notes_the_count_read_before_it_and_the_count_it_left(
    merchant_user: User, make_record: Any, downloads_api: DownloadsApi
) -> None:
    record = make_record(download_count=2)
    download_id = record["download_id"]
    downloads_api.patch(download_id, download_count=4)  # the customer downloaded twice, unseen by us
    reads.download_record_get(download_id=download_id, fresh=True)
    edits.download_record_count_set(actor=merchant_user, download_id=download_id, count=1, expected=4)
    assert _rows(download_id) == [(4, None, "read"), (1, -3, "write")]


def _calls(sandbox: Sandbox) -> int:
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()
    return sum(value for value in stats.values() if isinstance(value, int))


def test_the_records_list_notes_counts_without_another_upstream_call(
    merchant_client: Client, make_record: Any, order_number: int, sandbox: Sandbox
) -> None:
    first = make_record(download_count=0)
    second = make_record(download_count=3, download_file_name="extras.zip")
    before = _calls(sandbox)
    response = merchant_client.get("/downloads/", {"q": f"order:{order_number}"})
    assert response.status_code == 200
    assert _calls(sandbox) - before == 1
    known = history.last_counts([first["download_id"], second["download_id"]])
    assert {key: value.count for key, value in known.items()} == {
        first["download_id"]: 0,
        second["download_id"]: 3,
    }


def test_the_order_page_notes_its_records_counts(support_client: Client, downloads_api: DownloadsApi) -> None:
    response = support_client.get("/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/")
    assert response.status_code == 200
    at_api = {item["download_id"]: item["download_count"] for item in downloads_api.for_order(1050)}
    assert at_api
    assert {key: value.count for key, value in history.last_counts().items()} == at_api


def test_a_cold_order_page_reads_its_records_counts_while_they_are_on_their_way(
    support_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records answer after the order (as at 50 ms latency, where they are the slower call): their
    last counts are read meanwhile, so noting the same counts costs no query once they are in."""
    url = "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/"
    assert support_client.get(url).status_code == 200  # the first sighting: the counts are noted
    records = order_services.download_records_for_order

    def slower(**kwargs: Any) -> Any:
        time.sleep(0.3)
        return records(**kwargs)

    monkeypatch.setattr(order_services, "download_records_for_order", slower)
    cache.clear()  # the shared cache emptied, the database kept: a cold page
    with CaptureQueriesContext(connection) as captured:
        assert support_client.get(url).status_code == 200
    latest = [query["sql"] for query in captured if '"downloads_countchange"."latest"' in query["sql"]]
    assert len(latest) == 1 and '"downloads_countchange"."order_number" = 1050' in latest[0]
    assert not [query for query in captured if query["sql"].startswith(("INSERT", 'UPDATE "downloads'))]


def test_the_same_answer_read_again_from_the_cache_costs_no_query(
    django_assert_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    answer = [_record("a", count=1), _record("b", count=2)]
    with django_capture_on_commit_callbacks(execute=True):
        assert history.note_seen(answer, seen_at=T0, source="read") == 2
    with django_assert_num_queries(0):
        assert history.note_seen(answer, seen_at=T0, source="read") == 0
    newer = [_record("a", count=1), _record("b", count=3)]
    assert history.note_seen(newer, seen_at=T0 + timedelta(minutes=1), source="read") == 1


def test_a_saved_copy_shown_as_of_tells_nothing_new() -> None:
    assert history.note_seen([_record(count=4)], seen_at=T0, source="read", stale=True) == 0
    assert not CountChange.objects.exists()


def test_a_record_deleted_by_the_dashboard_leaves_the_latest_counts_but_keeps_its_changes(
    merchant_user: User, make_record: Any
) -> None:
    download_id = make_record(download_count=3)["download_id"]
    reads.download_record_get(download_id=download_id, fresh=True)
    assert download_id in history.last_counts()
    services.download_record_delete(actor=merchant_user, download_id=download_id)
    assert download_id not in history.last_counts()
    assert _rows(download_id) == [(3, None, "read")]


@pytest.mark.engine
def test_records_a_full_snapshot_neither_saw_change_nor_found_unchanged_are_forgotten() -> None:
    history.note_counts([_record("kept"), _record("changed"), _record("gone")], seen_at=T0, source="read")
    started = T0 + timedelta(days=1)
    later = started + timedelta(minutes=5)
    history.note_counts([_record("kept"), _record("changed", count=2)], seen_at=later, source="snapshot")
    assert history.forget_unseen(since=started) == 1
    assert set(history.last_counts()) == {"kept", "changed"}
    assert _rows("gone") == [(0, 0, "read")]


def _random_history(rng: Any, order_number: int, records: int) -> None:
    """Sightings of `records` records over two days, some quiet, some in bursts, a few staff writes."""
    rows = []
    for index in range(records):
        moment, count = T0 + timedelta(minutes=rng.randrange(0, 600)), None
        for _ in range(rng.randrange(1, 12)):
            moment += timedelta(minutes=rng.choice([1, 3, 7, 20, 45, 70, 200]))
            new = (count or 0) + rng.choice([-1, 1, 1, 2, 3, 4])
            source = "write" if rng.random() < 0.1 else rng.choice(["snapshot", "read"])
            rows.append(
                CountChange(
                    download_id=f"h{order_number}-{index}",
                    order_number=order_number,
                    product_id=7,
                    file_name="handbook.pdf",
                    count=max(new, 0),
                    delta=None if count is None else max(new, 0) - count,
                    seen_at=moment,
                    hour=moment.replace(minute=0, second=0, microsecond=0),
                    source=source,
                )
            )
            count = max(new, 0)
    CountChange.objects.bulk_create(rows)


@pytest.mark.engine  # its SQL is written by hand
def test_the_suspect_rule_finds_in_the_rows_read_what_it_finds_in_the_whole_history() -> None:
    import random

    from downloads.suspects import Thresholds, record_suspects

    rng = random.Random(28)
    limits = Thresholds()
    rules: list[str] = []
    for order_number in range(3000, 3030):
        _random_history(rng, order_number, records=rng.randrange(1, 6))
        emails = sorted(T0 + timedelta(minutes=rng.randrange(0, 900)) for _ in range(rng.randrange(0, 3)))

        def suspects(changes: list[CountChange], emails: list[datetime] = emails) -> list[Any]:
            by_record: dict[str, list[CountChange]] = {}
            for change in changes:
                by_record.setdefault(change.download_id, []).append(change)
            found = [
                s for rows in by_record.values() for s in record_suspects(rows, emails=emails, limits=limits)
            ]
            return sorted(found, key=lambda found: (found.last_seen, found.download_id))

        everything = history.changes_of_order(order_number)
        read = history.suspect_changes_of_order(
            order_number, emails=emails, window=limits.window, per_hour=limits.per_hour
        )
        assert suspects(read) == suspects(everything)
        assert len(read) <= len(everything)
        rules += [each.rule for each in suspects(everything)]
    assert rules.count("email") >= 3 and rules.count("hour") >= 3  # both rules were put to the test


def test_the_suspect_rows_read_do_not_grow_with_the_orders_quiet_records(
    django_assert_max_num_queries: Any,
) -> None:
    """An order's quiet records (a download now and then) are never read for its suspect line: 200 of them
    read as many rows, in as many queries, as one."""
    emailed = T0 + timedelta(days=1)

    def quiet(order_number: int, records: int) -> None:
        CountChange.objects.bulk_create(
            CountChange(
                download_id=f"q{order_number}-{index}-{hours}",
                order_number=order_number,
                product_id=7,
                file_name="handbook.pdf",
                count=hours,
                delta=1,
                seen_at=T0 + timedelta(hours=hours),
                hour=T0 + timedelta(hours=hours),
                source="snapshot",
            )
            for index in range(records)
            for hours in range(1, 4)
        )

    quiet(4001, 1)
    quiet(4200, 200)
    for order_number in (4001, 4200):
        with django_assert_max_num_queries(1):
            read = history.suspect_changes_of_order(
                order_number, emails=[emailed], window=timedelta(minutes=60), per_hour=5
            )
        assert read == []
