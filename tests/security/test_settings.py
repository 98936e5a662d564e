"""Production settings: `check --deploy` is clean, secrets are real, https is the default; the local demo
stays on plain http. Each case starts a fresh Python with its own environment, as a deploy would."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[2]
REAL_KEY = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY3ODkwYWJjZGVmZ2hpams"

# Variables a developer's shell might carry that would change what is tested here.
_OURS = (
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "FILEFLARE_API_URL", "FILEFLARE_API_KEY", "DOWNLOADS_API_URL",
    "DOWNLOADS_API_TOKEN", "DATABASE_URL", "CACHE_URL", "TRUST_X_FORWARDED_PROTO", "TRUSTED_PROXY_COUNT",
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES",
    "DJANGO_SETTINGS_MODULE",
    # tests/conftest.py sets this for Playwright; a deployment never does (async.E001).
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def production_env(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    """The documented production variables (README, .env.example), plus `changes` (None removes one)."""
    env = {name: value for name, value in os.environ.items() if name not in _OURS}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": REAL_KEY,
            "ALLOWED_HOSTS": "admin.example.com",
            "FILEFLARE_API_URL": "https://app.digital-downloads.com/api",
            "FILEFLARE_API_KEY": "ffsk_live_not_a_real_key",
            "DOWNLOADS_API_URL": "https://shop.example.com/wp-json/easycart",
            "DOWNLOADS_API_TOKEN": "not-a-real-token",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'dashboard.sqlite3'}",
            "CACHE_URL": "locmemcache://deploy-check",
            "TRUST_X_FORWARDED_PROTO": "1",
        }
    )
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def demo_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in _OURS}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )


SHOW = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXY_COUNT",
    "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES", "DEMO_MODE")}))
"""


def settings_under(env: dict[str, str]) -> dict[str, Any]:
    done = run(["-c", SHOW], {**env, "DJANGO_SETTINGS_MODULE": "fileflare_admin.settings"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_deploy_check_reports_nothing_with_the_production_variables(tmp_path: Path) -> None:
    done = run(["manage.py", "check", "--deploy"], production_env(tmp_path))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output and "ERROR" not in output, output


def test_production_defaults_are_https_only(tmp_path: Path) -> None:
    values = settings_under(production_env(tmp_path))
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False  # opt-in only
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["TRUSTED_PROXY_COUNT"] == 1
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["SECURE_CROSS_ORIGIN_OPENER_POLICY"] == "same-origin"
    assert (values["AXES_FAILURE_LIMIT"], values["AXES_COOLOFF_MINUTES"]) == (5, 15)


def test_forwarded_proto_is_trusted_only_when_the_operator_says_a_proxy_sets_it(tmp_path: Path) -> None:
    values = settings_under(production_env(tmp_path, TRUST_X_FORWARDED_PROTO=None))
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["TRUSTED_PROXY_COUNT"] == 0


def test_every_production_default_can_be_set_from_the_environment(tmp_path: Path) -> None:
    values = settings_under(
        production_env(
            tmp_path,
            SECURE_SSL_REDIRECT="0",
            SECURE_HSTS_SECONDS="600",
            SECURE_HSTS_PRELOAD="1",
            TRUSTED_PROXY_COUNT="2",
            AXES_FAILURE_LIMIT="3",
            AXES_COOLOFF_MINUTES="30",
        )
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["TRUSTED_PROXY_COUNT"] == 2
    assert (values["AXES_FAILURE_LIMIT"], values["AXES_COOLOFF_MINUTES"]) == (3, 30)


def test_empty_values_copied_from_env_example_keep_the_secure_defaults(tmp_path: Path) -> None:
    empty = dict.fromkeys(
        ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"), ""
    )
    values = settings_under(production_env(tmp_path, **empty))
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (None, "missing"),
        ("", "empty"),
        ("too-short-a-secret", "short"),
        ("django-insecure-" + "x1y2z3" * 10, "Django's generated placeholder"),
        ("a" * 60, "one character repeated"),
    ],
)
def test_production_refuses_to_start_without_a_real_secret_key(
    tmp_path: Path, key: str | None, why: str
) -> None:
    done = run(["manage.py", "check"], production_env(tmp_path, SECRET_KEY=key))
    assert done.returncode != 0, f"started with a {why} SECRET_KEY"
    assert "ImproperlyConfigured" in done.stderr and "SECRET_KEY" in done.stderr
    if key:
        assert key not in done.stderr  # the refusal does not print the key


def test_the_local_demo_stays_on_plain_http() -> None:
    values = settings_under(demo_env())
    assert values["DEMO_MODE"] is True
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_PROXY_SSL_HEADER"] is None
