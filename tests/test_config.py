"""Issue 25 (4): every setting is declared once (fileflare_admin/config.py), and `.env.example`, the
README, deploy/fileflare-admin.env, the files that read the environment and the Status page tell its
story, not another. Each test fails on drift and says what to change."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.test import override_settings

from fileflare_admin import config
from orders_index.services import OrderSyncProgress
from tests.deploy.files import env_file, variables_read

PROJECT = Path(__file__).resolve().parents[1]
# Every file that reads the environment for the dashboard, its sandbox or its web server.
READERS = (
    PROJECT / "fileflare_admin" / "settings.py",
    PROJECT / "sandbox" / "settings.py",
    PROJECT / "deploy" / "gunicorn.conf.py",
)
REGENERATE = "run `python manage.py settings_doc --write` after changing fileflare_admin/config.py"


def test_env_example_is_the_declaration_word_for_word() -> None:
    assert (PROJECT / ".env.example").read_text() == config.env_example(), REGENERATE


def test_env_example_lists_every_setting_once_and_no_secret_has_a_value() -> None:
    lines = config.env_example().splitlines()
    names = [line.partition("=")[0] for line in lines if line and not line.startswith("#")]
    assert sorted(names) == sorted(config.DECLARED) and len(names) == len(set(names))
    for setting in config.DECLARED.values():
        assert setting.help and "\n" not in setting.help, f"{setting.name}: one line of help"
        if setting.secret:
            assert setting.default == "", f"{setting.name} is a secret: no default to copy"
            assert f"\n{setting.name}=\n" in config.env_example()


def test_every_variable_read_is_declared_and_every_declared_one_is_read() -> None:
    read = set().union(*(variables_read(path) for path in READERS))
    assert read - set(config.DECLARED) == set(), "declare these in fileflare_admin/config.py"
    assert set(config.DECLARED) - read == set(), "declared but read nowhere: remove them"


def _literal_defaults(path: Path) -> dict[str, object]:
    """NAME -> the default written beside it, in `env.kind("NAME", default=…)` and
    `os.environ.get("NAME", …)` calls whose default is a literal."""
    found: dict[str, object] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        name = node.args[0].value
        given = [kw.value for kw in node.keywords if kw.arg == "default"] + node.args[1:2]
        if (
            isinstance(name, str)
            and re.fullmatch(r"[A-Z][A-Z0-9_]*", name)
            and given
            and isinstance(given[0], ast.Constant)
        ):
            found[name] = given[0].value
    return found


@pytest.mark.parametrize("path", READERS, ids=lambda path: path.name)
def test_a_default_written_beside_a_read_is_the_declared_one(path: Path) -> None:
    """A default written "" only asks whether the variable is set (the file then applies the rule its
    declaration's help states); any other written default is the declared one."""
    for name, written in _literal_defaults(path).items():
        if written == "":
            continue
        declared = config.default_value(config.DECLARED[name])
        if isinstance(written, str) and not isinstance(declared, str):
            written = type(declared)(written)  # os.environ.get's defaults are text
        assert written == declared, f"{path.name} reads {name} with the default {written!r}, not {declared!r}"


def test_the_deploy_environment_file_sets_only_declared_settings() -> None:
    assert set(env_file()) - set(config.DECLARED) == set()


def _readme() -> str:
    return (PROJECT / "README.md").read_text()


def test_every_default_the_readme_states_is_the_declared_one() -> None:
    """The README writes a default in brackets after the name: `ORDER_SYNC_REFRESH_SECONDS` (25 s)."""
    stated = re.findall(r"`([A-Z][A-Z0-9_]+)`\s*\((\d[\d,.]*)", _readme())
    assert len(stated) >= 10, "the README's mentions of defaults are found"
    for name, value in stated:
        assert name in config.DECLARED, f"README names {name}, which no setting is"
        declared = config.DECLARED[name].default
        assert float(value.replace(",", "")) == float(declared), (
            f"README says {name} is {value}, not {declared}"
        )


def test_every_setting_the_readme_configuration_tables_name_is_declared() -> None:
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", _readme(), flags=re.M)
    assert rows, "the README's configuration table is found"
    assert set(rows) - set(config.DECLARED) == set()


@override_settings(ORDER_SYNC_FRESH_PAGES=3, ORDER_SYNC_REFRESH_SECONDS=40)
def test_the_status_pages_sentence_on_the_sync_is_made_from_its_settings() -> None:
    progress = OrderSyncProgress(
        indexed=15_608,
        total=15_608,
        walking=False,
        next_page=None,
        last_page=16,
        walk_finished_at=None,
        newest_seen_at=None,
        last_error="oops",
        last_error_at=None,
        next_step_at=None,
        calls=0,
        budget_per_minute=10,
    )
    assert progress.sentence == (
        "All 15,608 of 15,608 orders indexed; the newest 3,000 are re-read every 40 seconds."
    )
