#!/usr/bin/env python3
"""Fill a .po file's empty or fuzzy translations from other .po files (resolving a catalogue conflict).

    python -m tests.support.pofill TARGET.po SOURCE.po [SOURCE.po ...]

For every entry of TARGET whose msgstr is empty (any plural form empty) or that is marked fuzzy, the
first SOURCE holding an entry with the same msgctxt, msgid and msgid_plural, translated and not fuzzy,
gives its translation; the fuzzy mark goes (with the previous-msgid comments msgmerge leaves). Entries
TARGET already translated are left as they are (TARGET wins: it is main's), and a SOURCE's entries
TARGET does not have are not added (`make messages` decides which msgids exist). Prints what it filled
and what is still empty; exits 1 when something is still empty or fuzzy, so a forgotten string is seen.

Needs polib (`pip install polib`; in the project's dev requirements). Run `make messages` afterwards: it
re-wraps the file as gettext does and compiles the .mo.
"""

from __future__ import annotations

import sys

import polib

Key = tuple[str, str, str]


def _key(entry: polib.POEntry) -> Key:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _done(entry: polib.POEntry) -> bool:
    """Translated (every plural form) and not fuzzy."""
    if "fuzzy" in entry.flags or entry.obsolete:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(text.strip() for text in entry.msgstr_plural.values())
    return bool(entry.msgstr.strip())


def fill(target: polib.POFile, sources: list[polib.POFile]) -> tuple[list[str], list[str]]:
    """(msgids filled, msgids still empty or fuzzy)."""
    known: dict[Key, polib.POEntry] = {}
    for source in sources:
        for entry in source:
            if _done(entry):
                known.setdefault(_key(entry), entry)
    filled, missing = [], []
    for entry in target:
        if entry.obsolete or not entry.msgid or _done(entry):
            continue
        found = known.get(_key(entry))
        if found is None:
            missing.append(entry.msgid)
            continue
        if entry.msgid_plural:
            entry.msgstr_plural = dict(found.msgstr_plural)
        else:
            entry.msgstr = found.msgstr
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
        if "python-format" in found.flags and "python-format" not in entry.flags:
            entry.flags.append("python-format")
        filled.append(entry.msgid)
    return filled, missing


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    target_path, source_paths = argv[0], argv[1:]
    target = polib.pofile(target_path, wrapwidth=79)
    sources = [polib.pofile(path) for path in source_paths]
    filled, missing = fill(target, sources)
    target.save(target_path)
    print(f"{target_path}: filled {len(filled)} translation(s) from {', '.join(source_paths)}")
    for msgid in missing:
        print(f"  still to translate: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
