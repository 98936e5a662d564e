"""Checks over the template files themselves, before any page is rendered.

Django's `{# … #}` comment ends at the end of its line: one spread over two lines is not a comment at
all, and the page shows it as text (an order page once opened with a developer's note). Longer notes
use `{% comment %}…{% endcomment %}`.
"""

import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE_FILES = sorted(
    path
    for folder in [PROJECT / "templates", *PROJECT.glob("*/templates")]
    for path in folder.rglob("*")
    if path.is_file() and path.suffix in (".html", ".txt", ".xml")
)
UNCLOSED_COMMENT = re.compile(r"\{#(?:(?!#\}).)*$", re.MULTILINE)


def multi_line_comments(text: str) -> list[int]:
    """Line numbers where a `{#` opens and its line ends before a `#}` closes it."""
    return [text.count("\n", 0, found.start()) + 1 for found in UNCLOSED_COMMENT.finditer(text)]


def test_the_check_finds_a_comment_spread_over_two_lines() -> None:
    assert multi_line_comments("<p>{# one line #}</p>\n{# first\n   second #}\n") == [2]
    assert multi_line_comments("{# a #}{# b #}\n{% comment %}\nlong\n{% endcomment %}") == []


def test_there_are_templates_to_check() -> None:
    assert PROJECT / "templates" / "base.html" in TEMPLATE_FILES


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda path: str(path.relative_to(PROJECT)))
def test_no_template_has_a_multi_line_short_comment(path: Path) -> None:
    lines = multi_line_comments(path.read_text())
    assert lines == [], (
        f"{path.relative_to(PROJECT)} line(s) {lines}: a {{# … #}} comment must close on its own line "
        "(use {% comment %}…{% endcomment %} for a longer note), or the page shows it as text."
    )


def test_templates_are_compiled_once_per_process_by_the_cached_loader() -> None:
    """TEMPLATES names no `loaders`, so Django wraps the file and app loaders in its cached loader in
    every setting (DEBUG too, where it reloads a changed file): no page parses its templates again."""
    from django.template import engines
    from django.template.loaders.cached import Loader as CachedLoader

    engine = engines["django"].engine
    assert [type(loader) for loader in engine.template_loaders] == [CachedLoader]


# `|when` writes a <time> element: inside an attribute's quotes it breaks the tag open and the page shows
# the rest as text (the records list's limit line once read `10:18 UTC">limit seen on…`). In an attribute,
# `|readable` writes the same moment as plain text.
TIME_IN_ATTRIBUTE = re.compile(r'[\w-]+="[^"<>]*\{\{[^}]*\|\s*when\b')


def test_the_check_finds_a_time_element_inside_an_attribute() -> None:
    assert TIME_IN_ATTRIBUTE.search('<span title="{{ seen_at|when }}">')
    assert TIME_IN_ATTRIBUTE.search('<span class="x" title="Seen {{ seen_at | when:"seconds" }}">')
    assert not TIME_IN_ATTRIBUTE.search('<span title="{{ seen_at|readable }}">{{ seen_at|when }}</span>')


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda path: str(path.relative_to(PROJECT)))
def test_no_template_puts_a_time_element_inside_an_attribute(path: Path) -> None:
    found = [match.group(0) for match in TIME_IN_ATTRIBUTE.finditer(path.read_text())]
    assert found == [], f"{path.relative_to(PROJECT)}: {found} (use |readable inside an attribute)"
