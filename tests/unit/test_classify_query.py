"""What the search box makes of ticket text, without any upstream: a table of snippets as tickets have
them (orders/classify.py states the rule)."""

import pytest

from orders.classify import Query, classify_query

ORDER_ID = "82664d96-6dfd-4343-aaaa-05c46f412a5b"
TOKEN = "0c732eb6fd9802a0821a9d29888baee8"  # the documented example: not a UUID's version digits
# A token that happens to carry a UUID v4's version (4) and variant (a) digits: context must decide.
UUID_SHAPED_HEX = "82664d966dfd4343aaaa05c46f412a5b"
DOWNLOAD_ID = "1bb6bc18a22aa85687e0db40739b6607677533f848997"


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        # order numbers, as people write them
        ("1050", Query("number", "1050")),
        ("#1050", Query("number", "1050")),
        (" #1050 ", Query("number", "1050")),
        ("Order #1050", Query("number", "1050")),
        ("order 1050", Query("number", "1050")),
        ("ORDER NO. 1050", Query("number", "1050")),
        ("order number: 1050", Query("number", "1050")),
        ("#1,050", Query("number", "1050")),
        ("1,050", Query("number", "1050")),
        ("1050.", Query("number", "1050")),
        ('"1050"', Query("number", "1050")),
        ("“#1050”", Query("number", "1050")),
        ("(order #1050)", Query("number", "1050")),
        ("Hi, order #1013: I can't download the planner!", Query("number", "1013")),
        ("my order 1050, bought yesterday", Query("number", "1050")),
        ("001050", Query("number", "1050")),
        # numbers no order has
        ("0", Query("no_such_number", "0")),
        ("#0", Query("no_such_number", "0")),
        ("-5", Query("no_such_number", "-5")),
        ("order -12", Query("no_such_number", "-12")),
        # Fileflare order IDs, any case, with or without dashes when the ticket says so
        (ORDER_ID, Query("order_id", ORDER_ID)),
        (ORDER_ID.upper(), Query("order_id", ORDER_ID)),
        (f"'{ORDER_ID}'", Query("order_id", ORDER_ID)),
        (f"order id: {UUID_SHAPED_HEX}", Query("order_id", ORDER_ID)),
        (f"UUID {UUID_SHAPED_HEX.upper()}", Query("order_id", ORDER_ID)),
        (f"https://app.digital-downloads.com/orders/{ORDER_ID}", Query("order_id", ORDER_ID)),
        (f"/orders/{ORDER_ID}/", Query("order_id", ORDER_ID)),
        # customer order-status links and tokens, any suffix or query
        (f"https://my-store.com/account/orders/{TOKEN}", Query("token", TOKEN)),
        (f"https://my-store.com/account/orders/{TOKEN}/", Query("token", TOKEN)),
        (f"https://my-store.com/account/orders/{TOKEN}?key=abc#top", Query("token", TOKEN)),
        (f"https://my-store.com/12345/orders/{TOKEN}/authenticate?key=9f8e7d", Query("token", TOKEN)),
        (f"my-store.com/account/orders/{TOKEN.upper()}", Query("token", TOKEN)),
        (f"<https://my-store.com/account/orders/{TOKEN}>.", Query("token", TOKEN)),
        (f"Here is my link: https://my-store.com/account/orders/{TOKEN} thanks", Query("token", TOKEN)),
        (TOKEN, Query("token", TOKEN)),
        (TOKEN.upper(), Query("token", TOKEN)),
        # a 32-hex token is not a dashless UUID: with UUID digits and no word around it, both are tried
        (UUID_SHAPED_HEX, Query("order_id_or_token", UUID_SHAPED_HEX)),
        (f"status token {UUID_SHAPED_HEX}", Query("token", UUID_SHAPED_HEX)),
        (f"https://my-store.com/account/orders/{UUID_SHAPED_HEX}", Query("token", UUID_SHAPED_HEX)),
        # download record IDs, any case
        (DOWNLOAD_ID, Query("download_id", DOWNLOAD_ID)),
        (DOWNLOAD_ID.upper(), Query("download_id", DOWNLOAD_ID)),
        (f"download id {DOWNLOAD_ID}.", Query("download_id", DOWNLOAD_ID)),
        ("AbC123", Query("download_id", "abc123")),  # hex: the API makes them lower case
        ("Xy12Zq", Query("download_id", "Xy12Zq")),  # any other ID stays as typed
        # nothing search can take keeps its sentence
        ("", Query("empty", "")),
        ("   ", Query("empty", "")),
        (None, Query("empty", "")),
        ("can't download!!", Query("unknown", "can't download")),
        ("refund", Query("unknown", "refund")),
        ("https://my-store.com/pages/contact", Query("unknown", "https://my-store.com/pages/contact")),
        ("x" * 2500, Query("unknown", "x" * 2500)),
    ],
)
def test_ticket_text_is_classified(ticket: str | None, expected: Query) -> None:
    assert classify_query(ticket) == expected


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        # a download link or a file name (issue 26.3): the orders and records holding the file
        (
            "https://www.my-website.com/download/my-book.pdf",
            Query("file", "https://www.my-website.com/download/my-book.pdf"),
        ),
        (
            "www.my-website.com/download/my-book.pdf.",
            Query("file", "www.my-website.com/download/my-book.pdf"),
        ),
        (
            "see https://cdn.shop.com/files/Planner.ZIP, thanks",
            Query("file", "https://cdn.shop.com/files/Planner.ZIP"),
        ),
        ("https://shop.example/downloads/abc", Query("file", "https://shop.example/downloads/abc")),
        ("my-book.pdf", Query("file", "my-book.pdf")),
        ("My new book - part 2.pdf", Query("file", "My new book - part 2.pdf")),
        ("“Budget  Planner.epub”", Query("file", "Budget Planner.epub")),
        ("I got Planner-2026.pdf twice", Query("file", "Planner-2026.pdf")),
        ("see the file (book.epub).", Query("file", "book.epub")),
        ("C:\\Users\\me\\book.pdf", Query("file", "book.pdf")),
        # an e-mail address or a name: Fileflare's API cannot search by them
        ("jane.doe@example.com", Query("email", "jane.doe@example.com")),
        ("From: Jane <jane.doe+shop@example.co.uk>", Query("email", "jane.doe+shop@example.co.uk")),
        ("Jane Doe", Query("person_name", "Jane Doe")),
        ("Seán O\u2019Brien", Query("person_name", "Seán O\u2019Brien")),
        ("Marie-Claire Dupont", Query("person_name", "Marie-Claire Dupont")),
        # still not a file, a name or an id
        ("version 1.2 of the app", Query("unknown", "version 1.2 of the app")),
        ("Thanks.Bye", Query("unknown", "Thanks.Bye")),
        ("jane doe", Query("unknown", "jane doe")),
        ("Please Help Me Now Today", Query("unknown", "Please Help Me Now Today")),
    ],
)
def test_pasted_files_addresses_and_names_are_classified(ticket: str, expected: Query) -> None:
    assert classify_query(ticket) == expected


def test_the_number_wins_over_a_file_or_an_address_in_the_same_ticket() -> None:
    assert classify_query("order #1050, jane@example.com").kind == "number"
    assert classify_query("Order #1050: my-book.pdf limit reached") == Query("number", "1050")
