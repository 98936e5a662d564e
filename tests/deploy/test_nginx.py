"""deploy/nginx/fileflare-admin.conf in front of the Procfile's gunicorn, as on a machine: a real nginx
(Debian's package) with a self-signed certificate, ports moved to free ones. HTTPS answers, plain HTTP
is sent to HTTPS, and an X-Forwarded-For a client makes up does not dodge the sign-in lockout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.stack import procfile_command, wait_until_answers
from sandbox.launcher import free_port
from tests.conftest import Sandbox
from tests.deploy.files import DEPLOY, PROJECT, env_filled, in_postgres_pass

pytestmark = pytest.mark.skipif(in_postgres_pass(), reason="the first pass ran these (their own database)")

PASSWORD = "correct horse battery staple"
LOCKED = "Too many failed sign-ins for this account"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sandbox_process: Sandbox) -> Iterator[str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.path.exists(nginx), "`make test` installs Debian's nginx"
    folder = tmp_path_factory.mktemp("nginx")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )
    web_port, http_port, https_port = free_port(), free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SANDBOX_"))},
        **env_filled(
            DATABASE_URL=f"sqlite:///{folder / 'dashboard.sqlite3'}",
            STATIC_ROOT=str(folder / "static"),
            CACHE_URL="locmemcache://nginx-test",
            TASKS_BACKEND="database",
            FILEFLARE_API_URL=sandbox_process.fileflare_url,
            FILEFLARE_API_KEY=sandbox_process.key,
            DOWNLOADS_API_URL=sandbox_process.downloads_url,
            DOWNLOADS_API_TOKEN=sandbox_process.token,
            ALLOWED_HOSTS="localhost,127.0.0.1",
            GUNICORN_BIND=f"127.0.0.1:{web_port}",
            WEB_CONCURRENCY="1",
            EMAIL_URL="consolemail://",
        ),
        "DJANGO_SETTINGS_MODULE": "fileflare_admin.settings",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=PROJECT, env=env, check=True)
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from django.contrib.auth.models import User, Group; import os; "
         "User.objects.create_user('nia', password=os.environ['P'])"
         ".groups.add(Group.objects.get(name='Support'))"],
        cwd=PROJECT, env={**env, "P": PASSWORD}, check=True, capture_output=True,
    )
    conf = (DEPLOY / "nginx" / "fileflare-admin.conf").read_text()
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
    conf = re.sub(r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", conf)
    conf = conf.replace("listen [::]:443 ssl http2;", "").replace("127.0.0.1:8000", f"127.0.0.1:{web_port}")
    conf = conf.replace("/etc/ssl/certs/fileflare-admin.pem", str(folder / "cert.pem"))
    conf = conf.replace("/etc/ssl/private/fileflare-admin.key", str(folder / "key.pem"))
    conf = conf.replace("/var/log/nginx/fileflare-admin.access.log", str(folder / "access.log"))
    (folder / "site.conf").write_text(conf)
    temp = folder / "temp"
    temp.mkdir()
    (folder / "nginx.conf").write_text(
        f"pid {folder}/nginx.pid; error_log {folder}/error.log; worker_processes 1;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; client_body_temp_path {temp}; proxy_temp_path {temp}; "
        f"fastcgi_temp_path {temp}; uwsgi_temp_path {temp}; scgi_temp_path {temp};\n"
        f"include {folder}/site.conf; }}\n"
    )
    (folder / "site.conf").chmod(0o644)
    web = subprocess.Popen(
        ["/bin/sh", "-c", procfile_command("web")], cwd=PROJECT, env=env,
        stdout=(folder / "web.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    proxy = subprocess.Popen(
        [nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", "daemon off;"],
        stdout=(folder / "nginx.log").open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{web_port}/healthz", web, "gunicorn", timeout=60)
        wait_until_answers(f"http://127.0.0.1:{http_port}/healthz", proxy, "nginx", timeout=30)
        yield f"{http_port} {https_port}"
    finally:
        proxy.terminate()
        os.killpg(web.pid, 15)
        proxy.wait(timeout=10)
        web.wait(timeout=20)


def _ports(site: str) -> tuple[int, int]:
    http, https = site.split()
    return int(http), int(https)


def test_https_answers_and_plain_http_is_sent_to_https(site: str) -> None:
    http, https = _ports(site)
    health = requests.get(f"https://127.0.0.1:{https}/healthz", verify=False, timeout=10)  # noqa: S501
    assert health.status_code == 200
    assert "max-age=31536000" in health.headers.get("Strict-Transport-Security", "")
    moved = requests.get(f"http://127.0.0.1:{http}/orders/", timeout=10, allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"].startswith("https://")
    # Through nginx the dashboard sees HTTPS (X-Forwarded-Proto): no redirect loop, the sign-in page shows.
    page = requests.get(f"https://127.0.0.1:{https}/accounts/login/", verify=False, timeout=10)  # noqa: S501
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.text


def test_a_made_up_x_forwarded_for_does_not_dodge_the_sign_in_lockout(site: str) -> None:
    _, https = _ports(site)
    base = f"https://127.0.0.1:{https}"
    session = requests.Session()
    last = None
    for attempt in range(6):
        page = session.get(f"{base}/accounts/login/", timeout=10, verify=False)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text[:300]
        password = PASSWORD if attempt == 5 else f"wrong-{attempt}"
        last = session.post(
            f"{base}/accounts/login/",
            data={"username": "nia", "password": password, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{base}/accounts/login/", "X-Forwarded-For": f"203.0.113.{attempt + 1}"},
            timeout=10,
            allow_redirects=False,
            verify=False,
        )
    assert last is not None
    # The right password on the sixth try, from a "new" address: still locked, since nginx appended the
    # real one and only that counts.
    assert last.status_code != 302
    assert LOCKED in " ".join(last.text.split())
