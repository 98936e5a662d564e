"""Order-number text, read one way everywhere (fileflare_admin/order_numbers.py states the rule)."""

import pytest

from fileflare_admin.order_numbers import (
    MAX_DIGITS,
    OrderNumberText,
    find_order_number,
    parse_order_number,
    read_order_number,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1050", OrderNumberText(1050, labelled=False)),
        (" 1050 ", OrderNumberText(1050, labelled=False)),
        ("001050", OrderNumberText(1050, labelled=False)),
        ("1,050", OrderNumberText(1050, labelled=False)),
        ("#1050", OrderNumberText(1050, labelled=True)),
        ("# 1050", OrderNumberText(1050, labelled=True)),
        ("#1,050", OrderNumberText(1050, labelled=True)),
        ("order:1050", OrderNumberText(1050, labelled=True)),
        ("order 1050", OrderNumberText(1050, labelled=True)),
        ("Order #1050", OrderNumberText(1050, labelled=True)),
        ("ORDER NO. 1050", OrderNumberText(1050, labelled=True)),
        ("order number: 1050", OrderNumberText(1050, labelled=True)),
        ("nr 1050", OrderNumberText(1050, labelled=True)),
        ("commande n° 1050", OrderNumberText(1050, labelled=True)),  # French
        ("Commande nº1050", OrderNumberText(1050, labelled=True)),
        ("commande numéro 1,050", OrderNumberText(1050, labelled=True)),
        ("ordine n. 1050", OrderNumberText(1050, labelled=True)),  # Italian
        ("Ordine numero 1050", OrderNumberText(1050, labelled=True)),
        ("n° 1050", OrderNumberText(1050, labelled=True)),
        ("order\u00a01050", OrderNumberText(1050, labelled=True)),  # a no-break space pasted from a mail
        ("0", OrderNumberText(0, labelled=False)),
        ("#0", OrderNumberText(0, labelled=True)),
        ("-5", OrderNumberText(-5, labelled=False)),
        ("order -12", OrderNumberText(-12, labelled=True)),
        # digits of any script read as their values (Arabic-Indic, full-width from an IME)
        ("\u0661\u0660\u0665\u0660", OrderNumberText(1050, labelled=False)),
        ("#\uff11\uff10\uff15\uff10", OrderNumberText(1050, labelled=True)),
        # the longest number there is, and one digit more (not an order number: it could not be kept)
        ("9" * MAX_DIGITS, OrderNumberText(int("9" * MAX_DIGITS), labelled=False)),
        ("1" * (MAX_DIGITS + 1), None),
        ("#" + "1" * (MAX_DIGITS + 1), None),
        ("0" * MAX_DIGITS + "7", None),  # leading zeros are digits too
        # anything else
        ("", None),
        (None, None),
        ("#", None),
        ("order", None),
        ("order:abc", None),
        ("#1050.pdf", None),
        ("12.5", None),
        ("1050 1051", None),
        ("10,50", None),  # not thousands
        ("\u00b2", None),  # a superscript two is a digit to str.isdigit, not a number
        ("order #1050 please", None),  # longer text: find_order_number's
    ],
)
def test_the_whole_text_is_read_as_an_order_number_or_not(text: str | None, expected: object) -> None:
    assert read_order_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1050", 1050),
        ("#1050", 1050),
        ("order:1050", 1050),
        ("order 1050", 1050),
        ("  Order #1,050  ", 1050),
        ("0", None),  # no order has the number 0
        ("#0", None),
        ("-3", None),
        ("1" * (MAX_DIGITS + 1), None),
        ("\u0661\u0660\u0665\u0660", 1050),
        ("n/a", None),
        (None, None),
    ],
)
def test_an_order_number_a_person_typed_is_1_or_more(text: str | None, expected: int | None) -> None:
    assert parse_order_number(text) == expected


def test_every_number_the_parser_takes_fits_a_big_integer_field() -> None:
    largest = read_order_number("9" * MAX_DIGITS)
    assert largest is not None and largest.value <= 2**63 - 1
    assert read_order_number("9" * (MAX_DIGITS + 1)) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, order #1013: I can't download the planner!", OrderNumberText(1013, labelled=True)),
        ("my order 1050, bought yesterday", OrderNumberText(1050, labelled=True)),
        ("see #1,050 and #1051", OrderNumberText(1050, labelled=True)),  # the first one
        ("order -12 again", OrderNumberText(-12, labelled=True)),
        ("I bought 1050 things", None),  # digits alone inside text are not an order's
        ("reorder 1050", None),  # "order" as a word only
        ("Bonjour, ma commande n° 1050 : pas reçu", OrderNumberText(1050, labelled=True)),
        ("Salve, ordine n. 1050, file mancante", OrderNumberText(1050, labelled=True)),
        ("sottordine 1050", None),
        ("order #" + "1" * (MAX_DIGITS + 1), None),
        ("order #1050123", OrderNumberText(1050123, labelled=True)),
        ("order #1,050,12", None),  # a number that runs on is not cut short
    ],
)
def test_a_labelled_number_is_found_inside_longer_text(text: str, expected: OrderNumberText | None) -> None:
    assert find_order_number(text) == expected
