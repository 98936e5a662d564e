"""Readers for deploy/: the Procfile's commands, a systemd unit's, the environment file's variables."""

from __future__ import annotations

import os
import re
import secrets
import shlex
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy"
VENV_BIN = "/srv/fileflare-admin/.venv/bin/"


def procfile() -> dict[str, list[list[str]]]:
    """Each process's commands, in order (a line's `a && exec b` is [a, b])."""
    processes: dict[str, list[list[str]]] = {}
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        steps = [shlex.split(step) for step in command.split("&&")]
        processes[name.strip()] = [step[1:] if step[0] == "exec" else step for step in steps]
    return processes


def unit_commands(unit: str) -> list[list[str]]:
    """ExecStartPre then ExecStart lines of a unit, with the virtualenv's absolute path taken off."""
    lines = (DEPLOY / "systemd" / unit).read_text().splitlines()
    commands = []
    for key in ("ExecStartPre=", "ExecStart="):
        for line in lines:
            if line.startswith(key):
                words = shlex.split(line[len(key) :])
                assert words[0].startswith(VENV_BIN), f"{unit}: {words[0]} is not the virtualenv's"
                commands.append([words[0][len(VENV_BIN) :], *words[1:]])
    return commands


def env_file() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "fileflare-admin.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip('"')
    return values


def env_filled(**changes: str) -> dict[str, str]:
    """The environment file with its CHANGE-ME placeholders filled as an operator would."""
    values = {
        name: value.replace("CHANGE-ME", secrets.token_urlsafe(12)) for name, value in env_file().items()
    }
    values["SECRET_KEY"] = secrets.token_urlsafe(50)
    values.update(changes)
    return values


def variables_read(path: Path) -> set[str]:
    """Environment variable names a Python file reads through django-environ or os.environ."""
    text = path.read_text()
    pattern = r'(?:env(?:\.\w+)?|_env_\w+|_read|environ\.get|getenv)\(\s*"([A-Z][A-Z0-9_]*)"'
    return set(re.findall(pattern, text))


def in_postgres_pass() -> bool:
    """`make test`'s second pass (tests.support.postgres sets it): tests with own servers ran already."""
    return os.environ.get("TEST_DATABASE_ENGINE") == "postgresql"
