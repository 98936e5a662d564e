"""How upstream values are shown. Upstream data is untrusted: it is escaped, links are clickable only
when they are http(s), and long values are shortened in lists (shown whole on detail pages)."""

import unicodedata
from datetime import datetime

from django import template
from django.utils.html import format_html

from fileflare_admin.weblinks import is_http_url

register = template.Library()

register.filter("is_http_url", is_http_url)


@register.filter
def printable(value: object) -> str:
    """The text with control and format characters (bidi overrides, zero-width, NUL) made visible."""
    text = "" if value is None else str(value)
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" else ch
        for ch in text
    )


@register.filter
def shorten(value: object, length: int = 60) -> str:
    """Printable text cut to `length` characters with an ellipsis. Pair with title= for the whole."""
    text = printable(value)
    return text if len(text) <= int(length) else text[: int(length) - 1].rstrip() + "…"


@register.simple_tag
def external_link(url: object, text: object = None, length: int = 0) -> str:
    """A link that opens only http(s) URLs; anything else (javascript:, data:, junk) is plain text."""
    label = text if text not in (None, "") else url
    shown = shorten(label, length) if length else printable(label)
    if is_http_url(url):
        return format_html(
            '<a href="{}" rel="noopener noreferrer nofollow" target="_blank" title="{}">{}</a>',
            str(url).strip(),
            printable(url),
            shown,
        )
    return format_html('<span class="unsafe-link" title="Not a web link, so not clickable">{}</span>', shown)


@register.filter
def hms(value: datetime | None) -> str:
    """A time as HH:MM:SS in the dashboard's time zone, for "as of" notes."""
    if value is None:
        return ""
    from django.utils import timezone

    return timezone.localtime(value).strftime("%H:%M:%S")
