"""fileflare_admin.days: the one reader of a typed day, used by every "from … to …" filter."""

from datetime import date

import pytest
from django import forms

from fileflare_admin.days import LAST_DAY, day_parsed


def test_a_day_as_the_date_box_sends_it_is_read() -> None:
    assert day_parsed("2026-03-31", "From") == date(2026, 3, 31)
    assert day_parsed("", "From") is None


@pytest.mark.parametrize("typed", ["9999-12-31", "0226-03-01", "3000-01-01"])
def test_a_day_past_the_years_a_filter_takes_is_a_sentence_naming_the_box(typed: str) -> None:
    with pytest.raises(forms.ValidationError) as refused:
        day_parsed(typed, "Created until")
    shown = date.fromisoformat(typed)
    assert refused.value.messages == [
        f"The “Created until” day is {shown.day} {shown:%b %Y}: choose a day between 1 Jan 1970 and "
        "31 Dec 2999 (check the year)."
    ]
    assert refused.value.code == "out_of_range"


def test_the_last_day_a_filter_takes_still_has_a_next_day() -> None:
    assert day_parsed(LAST_DAY.isoformat(), "To") == LAST_DAY
    assert date.fromordinal(LAST_DAY.toordinal() + 1).year == 3000  # "+ 1 day" for an end bound holds


def test_text_that_is_not_a_day_is_said_with_what_was_typed() -> None:
    with pytest.raises(forms.ValidationError) as refused:
        day_parsed("31/12/2026", "From")
    assert refused.value.messages == [
        "“31/12/2026” in the “From” box is not a date. Pick a day from the calendar, or type it as "
        "year-month-day, for example 2026-03-31."
    ]
