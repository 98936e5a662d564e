"""Every page carries the security headers, and its markup needs nothing the CSP forbids: scripts only
from our own origin with the response's nonce, no inline script, style or event handler."""

import re
from html.parser import HTMLParser

import pytest
from csp.decorators import csp_update
from csp.utils import build_policy
from django.conf import LazySettings
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from fileflare_admin.security import PolicyMiddleware

pytestmark = pytest.mark.django_db

NONCE = re.compile(r"'nonce-([A-Za-z0-9+/=]+)'")


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_secure_page(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = directives(headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'" and len(policy["script-src"]) == 2
    assert NONCE.fullmatch(policy["script-src"][1])
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    header_text = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header_text and "unsafe-eval" not in header_text


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser parses them: text that merely looks like markup
    (a hostile record's escaped "<img onerror=…>") is text, not a tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def assert_markup_fits_the_policy(response: object) -> None:
    html = response.content.decode()  # type: ignore[attr-defined]
    nonce = NONCE.search(response.headers["Content-Security-Policy"]).group(1)  # type: ignore[attr-defined, union-attr]
    parser = _Tags()
    parser.feed(html)
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert scripts, "expected htmx and app.js"
    for attrs in scripts:
        assert attrs.get("src", "").startswith("/static/"), f"inline or foreign script: {attrs}"
        assert attrs.get("nonce") == nonce, f"script without this response's nonce: {attrs}"
    for tag, attrs in parser.tags:
        assert tag != "style", "inline <style> element"
        assert "style" not in attrs, f"inline style= attribute on <{tag}>"
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"inline event handler attribute on <{tag}>: {handlers}"
        for name in ("href", "src", "action", "formaction"):
            assert not attrs.get(name, "").strip().lower().startswith("javascript:"), (tag, attrs)


def test_sign_in_page_has_the_security_headers_and_fits_the_policy(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_secure_page(response)
    assert_markup_fits_the_policy(response)


@pytest.mark.parametrize("url", ["/orders/", "/downloads/", "/audit/", "/status/", "/downloads/new/"])
def test_signed_in_pages_have_the_security_headers_and_fit_the_policy(
    merchant_client: Client, url: str
) -> None:
    response = merchant_client.get(url)
    assert response.status_code == 200, url
    assert_secure_page(response)
    assert_markup_fits_the_policy(response)


def test_each_response_gets_its_own_nonce(client: Client) -> None:
    first = NONCE.search(client.get("/accounts/login/")["Content-Security-Policy"])
    second = NONCE.search(client.get("/accounts/login/")["Content-Security-Policy"])
    assert first and second and first.group(1) != second.group(1)


def test_error_pages_carry_the_headers_too(merchant_client: Client) -> None:
    response = merchant_client.get("/no-such-page/")
    assert response.status_code == 404
    assert_secure_page(response)


def test_https_redirect_spares_the_health_check_only(settings: LazySettings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # built after the change: middleware reads its settings when it starts
    assert client.get("/healthz").status_code == 200
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_hsts_is_sent_over_https_when_configured(settings: LazySettings) -> None:
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_session_and_csrf_cookies_are_not_readable_by_scripts(client: Client, support_user: object) -> None:
    from tests.conftest import TEST_PASSWORD

    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/", {"username": "sam-support", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["httponly"]


def test_order_and_record_pages_fit_the_policy(
    merchant_client: Client, sandbox: object, make_record: object
) -> None:
    order = sandbox.customer(1050)  # type: ignore[attr-defined]
    record = make_record(download_file_name="headers-check.pdf")  # type: ignore[operator]
    for url in (
        f"/orders/{order['id']}/",
        f"/orders/{order['id']}/resend/",
        f"/orders/customer/{order['customer_token']}/",
        "/orders/?q=1050",
        f"/downloads/{record['download_id']}/edit/",
        f"/downloads/{record['download_id']}/delete/",
    ):
        response = merchant_client.get(url, follow=True)
        assert response.status_code == 200, url
        assert_secure_page(response)
        assert_markup_fits_the_policy(response)


def test_the_policy_kept_per_process_is_django_csps_own_text(
    client: Client, support_client: Client, settings: LazySettings
) -> None:
    """fileflare_admin.security.PolicyMiddleware builds the text once (issue 28): the same text django-csp
    builds for each response, with that response's nonce or none, and a change of settings is seen."""
    page = support_client.get("/audit/")
    nonce = NONCE.search(page.headers["Content-Security-Policy"]).group(1)  # type: ignore[union-attr]
    assert page.headers["Content-Security-Policy"] == build_policy(nonce=nonce)
    assert client.get("/healthz").headers["Content-Security-Policy"] == build_policy()
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/healthz").headers["Content-Security-Policy"] == "default-src 'none'"


def test_a_view_with_its_own_policy_gets_it(rf: RequestFactory) -> None:
    @csp_update({"img-src": "https://example.com"})
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    request = rf.get("/")
    response = PolicyMiddleware(view)(request)
    assert "img-src 'self' data: https://example.com" in response.headers["Content-Security-Policy"]
