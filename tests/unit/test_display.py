"""Upstream text renders inert: links only for http(s), control characters visible, lists shortened."""

import sys
import unicodedata

from django.template import Context, Template

from fileflare_admin.templatetags.display import is_http_url, printable, shorten


def render(source: str, **context: object) -> str:
    return Template("{% load display %}" + source).render(Context(context))


def test_only_http_and_https_urls_are_links() -> None:
    assert is_http_url("https://example.com/file.pdf")
    assert is_http_url("HTTP://example.com")
    for hostile in [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "//evil.example",
        "ftp://x/y",
        "",
        None,
        "https://exa\u202emple.com",
        " javascript:alert(1)",
        "http:///nohost",
    ]:
        assert not is_http_url(hostile), hostile


def test_external_link_renders_hostile_values_as_escaped_text() -> None:
    html = render("{% external_link url name %}", url="javascript:alert(1)", name="<script>x</script>")
    assert "<a" not in html and "<script>" not in html and "&lt;script&gt;" in html
    html = render("{% external_link url %}", url='https://ok.example/a"b')
    assert 'href="https://ok.example/a&quot;b"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_control_characters_are_shown_not_obeyed() -> None:
    assert printable("a\u202eb\x00c") == "a\\u202eb\\u0000c"


def test_long_values_are_shortened_for_lists() -> None:
    assert shorten("x" * 10_000, 40) == "x" * 39 + "…"
    assert shorten("short", 40) == "short"


def test_printable_text_has_no_control_or_format_character_anywhere_in_unicode() -> None:
    """`printable` returns text that str.isprintable() accepts as it is: no code point it accepts is a
    control (Cc) or format (Cf) character, which are the ones shown as \\uXXXX."""
    accepted_yet_hidden = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if chr(code).isprintable() and unicodedata.category(chr(code)) in ("Cc", "Cf")
    ]
    assert accepted_yet_hidden == []
    assert (
        printable("report\u202e.pdf") == "report\\u202e.pdf"
        and printable("plain name.pdf") == "plain name.pdf"
    )
