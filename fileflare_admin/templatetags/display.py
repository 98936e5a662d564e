"""How upstream values are shown. Upstream data is untrusted: it is escaped, links are clickable only
when they are http(s), and long values are shortened in lists (shown whole on detail pages)."""

import unicodedata
from datetime import datetime

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fileflare_admin import clock
from fileflare_admin.numbers import grouped
from fileflare_admin.weblinks import is_http_url

register = template.Library()

register.filter("is_http_url", is_http_url)


@register.filter
def printable(value: object) -> str:
    """The text with control and format characters (bidi overrides, zero-width, NUL) made visible."""
    text = "" if value is None else str(value)
    if text.isprintable():  # no Cc or Cf character in it (the common case, checked in C): as it is
        return text
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" else ch
        for ch in text
    )


@register.filter
def thousands(value: object) -> object:
    """A count as every page and sentence writes it, in the page's language: "15,608", "15 608"
    (fileflare_admin.numbers.grouped). Anything but a whole number is shown as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return grouped(value)
    return value


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
    return format_html(
        '<span class="unsafe-link" title="{}">{}</span>', _("Not a web link, so not clickable"), shown
    )


@register.filter
def hms(value: datetime | None) -> str:
    """A time of day with its zone ("10:42:07 CET") in the person's time zone, for "as of" notes."""
    if value is None:
        return ""
    return clock.clock(value)


@register.filter
def when(value: object, precision: str = "minutes") -> str:
    """`<time>` with a date and time a person reads ("8 Jan 2023, 21:50 CET") in their time zone.

    Takes a datetime or an ISO-8601 text; `when:"seconds"` adds seconds. Empty for no value (so
    `|default:"—"` works)."""
    moment = clock.as_datetime(value)
    if moment is None:
        return ""
    return format_html(
        '<time datetime="{}">{}</time>',
        moment.isoformat(),
        clock.date_time(moment, seconds=precision == "seconds"),
    )


@register.filter
def readable(value: object) -> object:
    """A value from the audit trail as a person reads it: ISO-8601 times become dates with a zone."""
    moment = clock.as_datetime(value)
    return clock.date_time(moment, seconds=True) if moment is not None else value


# The download record's fields as the record form labels them (a test keeps the two the same).
FIELD_LABELS = {
    "download_id": gettext_lazy("Download ID"),
    "date_created": gettext_lazy("Created"),
    "order_id": gettext_lazy("Order number"),
    "product_id": gettext_lazy("Product ID"),
    "download_count": gettext_lazy("Download count"),
    "download_file_name": gettext_lazy("File name"),
    "is_amazon": gettext_lazy("Stored on Amazon S3"),
    "amazon_key": gettext_lazy("S3 key"),
    "amazon_key_digest": gettext_lazy("S3 key (fingerprint)"),
    # What the orders' writes keep (orders.resend, orders.attachments, orders.replies).
    "email_sent_at": gettext_lazy("Download e-mail sent"),
    "assets": gettext_lazy("Files"),
    "requested": gettext_lazy("Files asked for"),
    "situation": gettext_lazy("Situation"),
    "language": gettext_lazy("Language"),
    "body": gettext_lazy("Reply"),
    "edited": gettext_lazy("Edited by the shop"),
}


@register.filter
def visible_field_errors(form: object) -> list[tuple[str, str]]:
    """(label, sentence) for each error on a field the person can see; a hidden field (a page number)
    has no place on the page to show one, and is no choice they made."""
    fields = getattr(form, "visible_fields", None)
    if fields is None:
        return []
    return [(str(field.label or field.name), str(error)) for field in fields() for error in field.errors]


@register.filter
def field_label(name: object) -> str:
    """A field's label for people ("download_count" → "Download count"), never its raw name."""
    text = str(name)
    label = FIELD_LABELS.get(text)
    return str(label) if label is not None else text.replace("_", " ").strip().capitalize()
