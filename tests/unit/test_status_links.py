"""What is kept of a pasted order-status link: the token, and the link cut right after it."""

import pytest

from orders.links import StatusLink, parse_status_link

TOKEN = "0c732eb6fd9802a0821a9d29888baee8"


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        (f"https://my-store.com/account/orders/{TOKEN}", StatusLink(TOKEN, f"https://my-store.com/account/orders/{TOKEN}")),
        (
            f"https://my-store.com/12345/orders/{TOKEN.upper()}/authenticate?key=secret-key",
            StatusLink(TOKEN, f"https://my-store.com/12345/orders/{TOKEN}"),
        ),
        (f"my-store.com/account/orders/{TOKEN}?key=x#top", StatusLink(TOKEN, f"https://my-store.com/account/orders/{TOKEN}")),
        (f"  “https://my-store.com/account/orders/{TOKEN}”. ", StatusLink(TOKEN, f"https://my-store.com/account/orders/{TOKEN}")),
        (TOKEN, StatusLink(TOKEN, "")),
        ("1050", None),
        ("https://my-store.com/pages/contact", None),
        ("", None),
    ],
)
def test_a_pasted_link_keeps_its_token_and_never_its_key(pasted: str, expected: StatusLink | None) -> None:
    assert parse_status_link(pasted) == expected
