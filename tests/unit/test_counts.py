"""A download count is lowered in one way everywhere: by N, never below 0 (downloads.records)."""

from downloads.records import count_change
from fileflare_admin.counts import count_lowered


def test_a_count_is_lowered_by_n_and_never_below_zero() -> None:
    assert count_lowered(5, by=2) == 3
    assert count_lowered(5, by=5) == 0
    assert count_lowered(2, by=10) == 0
    assert count_lowered(0, by=0) == 0


def test_no_limit_on_the_step_lowers_it_to_zero() -> None:
    assert count_lowered(17, by=None) == 0


def test_a_count_change_is_read_from_the_two_sides_of_an_entry() -> None:
    assert count_change({"download_count": 5}, {"download_count": 0, "x": 1}) == (5, 0)
    assert count_change({"download_count": 5}, {"download_count": 5}) is None
    assert count_change(None, {"download_count": 5}) is None
    assert count_change({"download_count": "5"}, {"download_count": 0}) is None
