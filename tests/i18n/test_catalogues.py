"""The French and Italian catalogues are whole (issue 30, item 5): every msgstr written and not fuzzy,
every committed .mo the compiled twin of its .po (a newcomer's `make run` needs no GNU gettext), and,
in the outer ring, makemessages finds no marked string the catalogues lack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("fr", "it")
# python-format placeholders: a translation keeps every one of its msgid's.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")


def _po(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _translations(entry: polib.POEntry | polib.MOEntry) -> tuple[str, ...]:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
    return (entry.msgstr,)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_msgstr_is_written_and_none_is_fuzzy(language: str) -> None:
    po = _po(language)
    assert not po.metadata_is_fuzzy, f"{language}: the header is marked fuzzy (remove '#, fuzzy' above it)"
    assert po.metadata.get("Language") == language and po.metadata.get("Plural-Forms", "").startswith(
        "nplurals=2;"
    )
    entries = [entry for entry in po if not entry.obsolete]
    assert len(entries) >= 10  # base.html and the language picker at least
    empty = [entry.msgid for entry in entries if not all(text.strip() for text in _translations(entry))]
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    assert empty == [], f"{language}: untranslated msgids (make messages, then translate): {empty}"
    assert fuzzy == [], f"{language}: fuzzy msgids (check the translation, remove '#, fuzzy'): {fuzzy}"
    for entry in entries:
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in _translations(entry):
            # A singular translation may say "une" instead of %(count)s; the others keep every placeholder.
            got = sorted(PLACEHOLDER.findall(text))
            assert set(got) <= set(wanted) | set(PLACEHOLDER.findall(entry.msgid_plural or "")), entry.msgid
            if not entry.msgid_plural:
                assert got == wanted, f"{language}: {entry.msgid!r} → {text!r} loses or adds a placeholder"


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_committed_mo_is_its_po_compiled(language: str) -> None:
    folder = ROOT / "locale" / language / "LC_MESSAGES"
    assert (folder / "django.mo").is_file(), f"{language}: django.mo is missing: run make messages"
    mo = polib.mofile(str(folder / "django.mo"))
    compiled = {_key(entry): _translations(entry) for entry in mo if entry.msgid}
    written = {
        _key(entry): _translations(entry)
        for entry in _po(language)
        if not entry.obsolete and "fuzzy" not in entry.flags and entry.msgid
    }
    assert compiled == written, f"{language}: django.mo is older than django.po: run make messages"
    assert "Plural-Forms" in mo.metadata  # the header was compiled (not fuzzy): plurals work


def _ignored_by_make() -> list[str]:
    """The -i patterns of `make messages` (the Makefile's MESSAGES_IGNORE), so the two never differ."""
    line = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("MESSAGES_IGNORE")
    )
    return line.split(":=", 1)[1].split()


@pytest.mark.outer
def test_makemessages_finds_no_marked_string_missing_from_the_catalogues(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is not installed: `make test` installs it (Debian's gettext).")
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "__pycache__", "*.sqlite3*", "staticfiles", "*.png",
            "test-artifacts",
        ),
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fileflare_admin.settings", "PYTHONPATH": str(copy)}
    command = [sys.executable, "manage.py", "makemessages", *[f"-l{lang}" for lang in LANGUAGES]]
    command += ["--no-location", "--no-obsolete", *_ignored_by_make()]
    result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    for language in LANGUAGES:
        extracted = polib.pofile(str(copy / "locale" / language / "LC_MESSAGES" / "django.po"))
        committed = {_key(entry) for entry in _po(language) if not entry.obsolete}
        missing = [entry.msgid for entry in extracted if entry.msgid and _key(entry) not in committed]
        assert missing == [], f"{language}: marked but not in the catalogue (run make messages): {missing}"
        stale = committed - {_key(entry) for entry in extracted}
        assert not stale, f"{language}: in the catalogue but marked nowhere (run make messages): {stale}"
