"""Whether a value is a web address a person can open: the one rule, used by pages and services alike."""

import unicodedata
from urllib.parse import urlsplit


def is_http_url(value: object) -> bool:
    """An http(s) URL with a host and no control or format characters (bidi overrides, NUL…)."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
