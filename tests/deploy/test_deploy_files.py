"""deploy/ as a shop installs it: systemd runs exactly the Procfile's commands, every variable of the
environment file is one the dashboard (or gunicorn's config) reads, and Django's deploy check passes
with it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from background.management.commands.background_worker import WORKERS
from tests.deploy.files import (
    DEPLOY,
    PROJECT,
    env_file,
    env_filled,
    in_postgres_pass,
    procfile,
    unit_commands,
    variables_read,
)

pytestmark = pytest.mark.skipif(in_postgres_pass(), reason="no database here: the first pass ran these")

UNITS = {
    "release": "fileflare-admin-release.service",
    "web": "fileflare-admin-web.service",
    "worker": "fileflare-admin-worker@.service",
}


def test_each_systemd_unit_runs_the_procfile_commands_from_the_project_with_the_environment_file() -> None:
    processes = procfile()
    assert set(processes) == set(UNITS)
    for name, unit in UNITS.items():
        assert unit_commands(unit) == processes[name], unit
        text = (DEPLOY / "systemd" / unit).read_text()
        assert "EnvironmentFile=/etc/fileflare-admin.env" in text
        assert "WorkingDirectory=/srv/fileflare-admin" in text
        assert "User=fileflare-admin" in text  # never root
    assert processes["web"] == [["gunicorn", "--config", "deploy/gunicorn.conf.py", "fileflare_admin.wsgi"]]
    assert processes["worker"] == [["python", "manage.py", "background_worker"]]
    # which, with the environment file's TASKS_BACKEND=rq, runs the RQ worker with its scheduler
    assert WORKERS["rq"][:1] == ["rqworker"] and "--with-scheduler" in WORKERS["rq"]


def test_the_daily_digests_links_lead_to_the_production_dashboard() -> None:
    values = env_file()
    assert values["DASHBOARD_URL"] == f"https://{values['ALLOWED_HOSTS']}"  # not the demo's 127.0.0.1


def test_every_variable_of_the_environment_file_is_read_by_the_dashboard_or_gunicorn() -> None:
    read = variables_read(PROJECT / "fileflare_admin" / "settings.py") | variables_read(
        DEPLOY / "gunicorn.conf.py"
    )
    values = env_file()
    assert set(values) - read == set()
    # What the README and the nginx site rely on.
    assert values["TRUST_X_FORWARDED_PROTO"] == "1"
    assert values["TRUSTED_PROXY_COUNT"] == "1" and values["TRUSTED_PROXIES"] == "127.0.0.1"
    assert values["TASKS_BACKEND"] == "rq"
    assert values["DATABASE_URL"].startswith("postgres://") and values["CACHE_URL"].startswith("redis://")


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    ours = ("DJANGO_", "SANDBOX_")
    clean = {name: value for name, value in os.environ.items() if not name.startswith(ours)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "fileflare_admin.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_django_deploy_check_passes_with_the_environment_file_and_takes_its_values() -> None:
    env = env_filled()
    checked = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout
    shown = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], "
        "s.CACHES['default']['BACKEND'], s.TASKS['default']['BACKEND'], s.SECURE_PROXY_SSL_HEADER, "
        "s.TRUSTED_PROXIES, s.TRUSTED_PROXY_COUNT, s.UPSTREAM_WORKER_COUNT, s.DEMO_MODE, s.DEBUG)",
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1].split() == [
        "django.db.backends.postgresql",
        "fileflare_admin.sharedcache.ResilientRedisCache",
        "django_tasks_rq.RQBackend",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "['127.0.0.1']",
        "1",
        "4",
        "False",
        "False",
    ]
    assert env["SECRET_KEY"] not in checked.stdout + checked.stderr + shown.stdout + shown.stderr


def test_gunicorn_takes_the_config_file_with_the_environment_file() -> None:
    env = {**os.environ, **env_filled(), "DJANGO_SETTINGS_MODULE": "fileflare_admin.settings"}
    command = procfile()["web"][0]
    checked = subprocess.run(
        [sys.executable, "-m", *command, "--check-config"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    printed = subprocess.run(
        [sys.executable, "-m", *command, "--print-config"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    config = dict(
        (line.split("=", 1)[0].strip(), line.split("=", 1)[1].strip())
        for line in printed.stdout.splitlines()
        if "=" in line
    )
    assert config["workers"] == "2" and config["threads"] == "4" and config["worker_class"] == "gthread"
    assert config["bind"] == "['127.0.0.1:8000']"
