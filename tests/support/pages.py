"""Pages compared as a person reads them: without what each response has of its own."""

import re

# Each response's own values: its CSRF tokens, its CSP nonce, a form's one-time token.
OWN_VALUES = (
    r'csrfmiddlewaretoken" value="[^"]+"',
    r'X-CSRFToken": "[^"]+"',
    r'data-csrf="[^"]+"',
    r'nonce="[^"]*"',
    r'name="submission" value="[^"]*"',
)
FLASHES = re.compile(r'<div role="status"><ul class="flashes".*?</ul></div>', re.DOTALL)


def without_own_values(html: str) -> str:
    """The page with each response's own values (tokens, nonce) replaced by OWN, without its flash
    messages (the first page after a write says what was done), each run of white space one space."""
    for pattern in OWN_VALUES:
        html = re.sub(pattern, "OWN", html)
    return re.sub(r"\s+", " ", FLASHES.sub("", html))
