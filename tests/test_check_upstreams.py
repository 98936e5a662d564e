"""`python manage.py check_upstreams` and the sentences a wrong address or key gives on a page, against
the in-process sandbox (issue 18)."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from fileflare_admin.api import checks, downloads
from tests.conftest import Sandbox, free_port

PROJECT = Path(__file__).resolve().parent.parent


def run_checks(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("check_upstreams", *args, stdout=out, no_color=True)
    except CommandError as failed:
        return out.getvalue(), failed
    return out.getvalue(), None


def line(output: str, api: str, name: str) -> str:
    found = [text for text in output.splitlines() if f"{api}: {name} — " in text]
    assert len(found) == 1, output
    return found[0]


def test_every_check_passes_against_the_sandbox(sandbox: Sandbox, settings: object) -> None:
    settings.FILEFLARE_BUDGET_PER_MINUTE = 55  # type: ignore[attr-defined]
    sandbox.config(rate_limit=60)
    output, failed = run_checks()
    assert failed is None, output
    for api, names in (
        ("Fileflare", ("configured", "reachable", "key accepted", "routes exist", "answers parse")),
        ("The downloads API", ("configured", "reachable", "key accepted", "routes exist", "answers parse")),
    ):
        for name in (*names, "clock skew", "rate-limit headers"):
            assert line(output, api, name).startswith("OK "), output
    assert "60 requests a minute" in line(output, "Fileflare", "rate-limit headers")
    assert "numbers and booleans as documented" in line(output, "The downloads API", "answers parse")
    assert sandbox.key not in output and sandbox.token not in output


def test_the_rows_dialect_and_a_wrong_time_zone_are_reported(sandbox: Sandbox, settings: object) -> None:
    downloads.record_create(fields={"order_id": 4501, "download_file_name": "now.pdf"})  # the newest record
    sandbox.config(downloads_rows="wpdb", downloads_timezone="+05:00")
    output, failed = run_checks("--api", "downloads")
    assert failed is None, output
    assert "values as strings and the S3 flag as is_amazon_download" in output
    assert line(output, "The downloads API", "time zone").startswith("WARN ")
    assert "created 5.0 h from now" in output and "set it to the API's zone" in output
    settings.DOWNLOADS_API_TIMEZONE = "+05:00"  # type: ignore[attr-defined]
    output, failed = run_checks("--api", "downloads")
    assert failed is None and line(output, "The downloads API", "time zone").startswith("OK "), output
    settings.DOWNLOADS_API_TIMEZONE = "Mars/Olympus"  # type: ignore[attr-defined]
    output, failed = run_checks("--api", "downloads")
    assert failed is not None and "DOWNLOADS_API_TIMEZONE is “Mars/Olympus”" in output


def test_a_wrong_token_and_key_fail_with_what_to_check(sandbox: Sandbox, settings: object) -> None:
    settings.DOWNLOADS_API_TOKEN = "revoked-token"  # type: ignore[attr-defined]
    settings.FILEFLARE_API_KEY = "revoked-key"  # type: ignore[attr-defined]
    output, failed = run_checks()
    assert failed is not None and "2 checks failed" in str(failed)
    assert line(output, "Fileflare", "key accepted") == (
        "FAIL    Fileflare: key accepted — Fileflare refused the dashboard's key. Check FILEFLARE_API_KEY."
    )
    assert line(output, "The downloads API", "key accepted").endswith(
        "The downloads API refused the dashboard's token. Check DOWNLOADS_API_TOKEN."
    )
    assert line(output, "The downloads API", "routes exist").startswith("SKIPPED ")
    assert "revoked" not in output


def test_an_unreachable_api_fails_and_skips_the_rest(settings: object) -> None:
    settings.FILEFLARE_API_URL = f"http://127.0.0.1:{free_port()}/api"  # type: ignore[attr-defined]
    results = checks.check_fileflare()
    by_name = {result.name: result for result in results}
    assert by_name["reachable"].failed and "Could not connect to Fileflare" in by_name["reachable"].detail
    assert {by_name[name].status for name in ("key accepted", "answers parse", "clock skew")} == {"skipped"}


def test_unreachable_names_the_address_tried_and_what_to_set(settings: object) -> None:
    """`check_upstreams` with nothing set tries the sandbox's address: it says so, and what to set."""
    sandbox_url = f"http://127.0.0.1:{free_port()}"
    settings.DEMO_MODE = True  # type: ignore[attr-defined]
    settings.SANDBOX_URL = sandbox_url  # type: ignore[attr-defined]
    settings.FILEFLARE_API_URL = f"{sandbox_url}/api"  # type: ignore[attr-defined]
    output, failed = run_checks("--api", "fileflare")
    assert failed is not None
    assert line(output, "Fileflare", "reachable") == (
        f"FAIL    Fileflare: reachable — Could not connect to Fileflare (tried {sandbox_url}/api). "
        "FILEFLARE_API_URL is not set, so the dashboard uses the sandbox there: start it (make run, or "
        "python manage.py runsandbox), or set FILEFLARE_API_URL, FILEFLARE_API_KEY, DOWNLOADS_API_URL and "
        "DOWNLOADS_API_TOKEN (see .env.example) to use the real APIs."
    )
    settings.DEMO_MODE = False  # type: ignore[attr-defined]
    port = free_port()
    settings.DOWNLOADS_API_URL = f"http://shopadmin:hunter2@127.0.0.1:{port}/easycart?key=s3cr3t"  # type: ignore[attr-defined]
    output, failed = run_checks("--api", "downloads")
    assert failed is not None
    assert line(output, "The downloads API", "reachable").endswith(
        f"Could not connect to the downloads API (tried http://127.0.0.1:{port}/easycart). "
        "Check DOWNLOADS_API_URL, and that the server is up and reachable from here."
    )
    for secret in ("hunter2", "s3cr3t", "shopadmin", settings.DOWNLOADS_API_TOKEN):  # type: ignore[attr-defined]
        assert secret not in output


@pytest.mark.outer  # another process is given the sandbox's address
def test_a_wrong_address_fails_the_command_with_its_exit_status(sandbox: Sandbox) -> None:
    """As a person runs it: a process with the settings from the environment, the address mistyped
    (with a password and a query that must not be shown)."""
    host = sandbox.url.removeprefix("http://")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FILEFLARE_", "DOWNLOADS_", "DJANGO_SETTINGS"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "fileflare_admin.settings",
        "SECRET_KEY": "check-upstreams-test-secret-key-not-used-for-anything",
        "FILEFLARE_API_URL": sandbox.fileflare_url,
        "FILEFLARE_API_KEY": sandbox.key,
        "DOWNLOADS_API_URL": f"http://shopadmin:hunter2@{host}/easycart/v2?key=s3cr3t",
        "DOWNLOADS_API_TOKEN": sandbox.token,
    }
    ran = subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), "check_upstreams", "--no-color"],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert f"The downloads API address looks wrong: http://{host}/easycart/v2 has no /downloads route." in (
        ran.stdout
    )
    assert "Check DOWNLOADS_API_URL." in ran.stdout and "1 check failed" in ran.stderr
    assert line(ran.stdout, "Fileflare", "routes exist").startswith("OK ")
    for secret in ("hunter2", "s3cr3t", "shopadmin", sandbox.token, sandbox.key):
        assert secret not in ran.stdout + ran.stderr


@pytest.mark.django_db
def test_the_records_page_says_the_address_looks_wrong(
    sandbox: Sandbox, merchant_client: Client, settings: object
) -> None:
    settings.DOWNLOADS_API_URL = f"{sandbox.url}/easycart/v2"  # type: ignore[attr-defined]
    page = merchant_client.get(reverse("downloads:list"))
    assert page.status_code == 200
    assert (
        f"The downloads API address looks wrong: {sandbox.url}/easycart/v2 has no /downloads route."
        in page.content.decode()
    )


@pytest.mark.django_db
def test_the_records_page_says_to_check_the_token(
    sandbox: Sandbox, merchant_client: Client, settings: object
) -> None:
    settings.DOWNLOADS_API_TOKEN = "revoked-token"  # type: ignore[attr-defined]
    page = merchant_client.get(reverse("downloads:list"))
    text = page.content.decode()
    assert page.status_code == 200 and "The downloads API refused the dashboard" in text
    assert "Check DOWNLOADS_API_TOKEN." in text and "revoked-token" not in text
