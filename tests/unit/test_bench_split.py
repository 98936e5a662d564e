"""`make bench`'s throughput runs say how evenly gunicorn's workers shared the work (issue 28): wrk's
connections sometimes all land on one worker, and such a run measures one worker, not the server."""

from bench.__main__ import SPLIT_LEAST, _least_share
from bench.report import split_line


def test_the_least_share_is_the_idlest_workers_part_of_the_runs_cpu() -> None:
    assert _least_share({1: 100, 2: 100}, {1: 200, 2: 200}) == 0.5  # an even split
    assert _least_share({1: 100, 2: 100}, {1: 290, 2: 110}) == 0.05  # one worker took nearly all
    assert _least_share({1: 100, 2: 100}, {1: 190, 2: 110}) < SPLIT_LEAST <= 0.25
    assert _least_share({1: 100}, {1: 150}) == 1.0  # one worker: nothing to split
    assert _least_share({1: 100, 2: 100}, {1: 100, 2: 100}) == 1.0  # no work at all


def test_the_report_gives_each_runs_split_and_says_nothing_for_an_older_result() -> None:
    result = {
        "order_page": {"requests_per_second": 300.0, "runs_least_worker_share": [0.02, 0.46]},
        "trivial_view": {"requests_per_second": 1900.0, "runs_least_worker_share": [0.49]},
    }
    [line] = split_line(result)
    assert "order page 0.02, 0.46; trivial view 0.49" in line
    assert split_line({"order_page": {}, "trivial_view": {}}) == []
