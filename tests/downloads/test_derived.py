"""What a page works out from its records alone, once per records answer (downloads.derived; issue 28):
the same records (a warm page gets the objects parsed once from the saved answer) are not worked out
again; a new answer, even one equal to the last, is."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from downloads import derived
from fileflare_admin.api.types import DownloadRecord

RECORD = DownloadRecord(
    download_id="derived1",
    date_created=datetime(2026, 12, 1, tzinfo=UTC),
    product_id=1,
    order_id=1050,
    download_count=2,
    download_file_name="Book.pdf",
    is_amazon=False,
    amazon_key="",
)


def _counting() -> tuple[list[int], Any]:
    calls: list[int] = []

    def work(records: tuple[DownloadRecord, ...]) -> str:
        calls.append(1)
        return "|".join(f"{record.download_id}:{record.download_count}" for record in records)

    return calls, work


def test_the_same_records_are_worked_out_once_and_a_new_answer_afresh() -> None:
    calls, work = _counting()
    answer = [RECORD, dataclasses.replace(RECORD, download_id="derived2")]
    assert derived.of_records("test-counts", answer, work) == "derived1:2|derived2:2"
    assert derived.of_records("test-counts", list(answer), work) == "derived1:2|derived2:2"
    assert len(calls) == 1  # the same objects (another list of them)
    changed = [answer[0], dataclasses.replace(answer[1], download_count=3)]  # a count fixed since
    assert derived.of_records("test-counts", changed, work) == "derived1:2|derived2:3"
    equal = [dataclasses.replace(record) for record in answer]  # parsed again from a new answer
    assert derived.of_records("test-counts", equal, work) == "derived1:2|derived2:2"
    assert derived.of_records("other-name", answer, work) == "derived1:2|derived2:2"
    assert len(calls) == 4


def test_anything_but_download_records_is_worked_out_each_time() -> None:
    calls, work = _counting()

    @dataclasses.dataclass
    class StandIn:  # a test's or a caller's own, which may change
        download_id: str
        download_count: int

    listed = [StandIn("a", 1)]
    derived.of_records("test-stand-in", listed, work)
    listed[0].download_count = 5
    assert derived.of_records("test-stand-in", listed, work) == "a:5"
    assert len(calls) == 2


def test_only_the_newest_answers_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(derived, "KEPT_MAX", 2)
    calls, work = _counting()
    answers = [[dataclasses.replace(RECORD, download_id=f"kept{index}")] for index in range(3)]
    for answer in answers:
        derived.of_records("test-kept", answer, work)
    assert len(derived._kept) <= 2
    derived.of_records("test-kept", answers[0], work)  # the oldest went first: worked out again
    assert len(calls) == 4
