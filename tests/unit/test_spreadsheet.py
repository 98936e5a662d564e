"""fileflare_admin.spreadsheet: no CSV cell a spreadsheet could run as a formula (every CSV export)."""

import csv
import io

import pytest

from fileflare_admin.spreadsheet import csv_cell, csv_lines


@pytest.mark.parametrize(
    "text",
    [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        " =1+1",  # a space before the formula
        "   @SUM(A1)",
        "\n\n+1",  # new lines before it
        "\u00a0=1+1",  # a no-break space
        "\u3000=1+1",  # an ideographic (full-width) space
        "\u200b=1+1",  # a zero-width space
        "\ufeff=1+1",  # a byte-order mark
        "\uff1dHYPERLINK(\"http://evil.example\")",  # full-width equals
        "\uff0b1+1",  # full-width plus
        "\uff0d1+1",  # full-width minus
        "\uff20SUM(A1)",  # full-width at
        "\ufe66 1+1",  # small equals sign
        " \u00a0\uff1d1+1",  # a space, a no-break space, then a full-width equals
    ],
)
def test_a_cell_a_spreadsheet_could_run_is_shown_as_typed_behind_an_apostrophe(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    ["report.pdf", " report.pdf", "a=b", "1-2", "user@example.com", "\u00a0", "", 42, "\uff32eport"],
)
def test_a_cell_that_cannot_run_is_left_as_it_is(value: object) -> None:
    assert csv_cell(value) == str(value)


def test_an_empty_value_is_an_empty_cell() -> None:
    assert csv_cell(None) == ""


def test_each_row_is_one_csv_line_with_every_cell_neutralised() -> None:
    lines = list(csv_lines([["name", "count"], [" =1+1", 3], ["a,b", None]]))
    assert len(lines) == 3
    assert list(csv.reader(io.StringIO("".join(lines)))) == [["name", "count"], ["' =1+1", "3"], ["a,b", ""]]
