"""Reading a rendered page the way a browser would, to prove upstream data in it is inert text."""

import re
from html.parser import HTMLParser

# Elements no upstream value may ever become.
ACTIVE_ELEMENTS = {"img", "iframe", "object", "embed", "svg", "math", "base", "video", "audio"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "hx-get", "hx-post", "poster", "xlink:href"}
INVISIBLE = re.compile("[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
DANGEROUS_SCHEME = re.compile(r"^(javascript|data|vbscript):", re.IGNORECASE)


class Page(HTMLParser):
    """Tags with their attributes, and the text a person reads (outside script, style and form fields)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_parts: list[str] = []
        self._skip = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag in ("script", "style", "textarea", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "textarea", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text_parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def links(self) -> list[str]:
        return [attrs["href"] for tag, attrs in self.tags if tag == "a" and "href" in attrs]


def _normalised_url(value: str) -> str:
    """What a browser would make of an attribute URL: no whitespace or control characters anywhere."""
    return re.sub(r"[\u0000-\u0020\u007f]", "", value)


def assert_inert(html: str, where: str) -> Page:
    """No markup, event handler or dangerous link came out of the data; invisible characters are shown."""
    page = Page(html)
    for tag, attrs in page.tags:
        assert tag not in ACTIVE_ELEMENTS, f"{where}: <{tag}> element from data: {attrs}"
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), f"{where}: inline or foreign script {attrs}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{where}: event handler attribute {name}={value!r} on <{tag}>"
            if name in URL_ATTRIBUTES:
                assert not DANGEROUS_SCHEME.match(_normalised_url(value)), f"{where}: {name}={value!r}"
            if name == "title":
                assert not INVISIBLE.search(value), f"{where}: raw control character in title={value!r}"
        if tag == "a" and "href" in attrs:
            href = attrs["href"]
            assert href.startswith(("/", "?", "#", "http://", "https://")) and not href.startswith("//"), (
                f"{where}: link that is neither ours nor http(s): {href!r}"
            )
            if href.startswith(("http://", "https://")):
                assert "noreferrer" in attrs.get("rel", ""), f"{where}: external link without rel=noreferrer"
    assert not INVISIBLE.search(page.text), f"{where}: raw control/bidi character in the page text"
    return page
