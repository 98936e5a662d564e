"""Every route, found by walking the URL configuration (a new page is covered the day it is added):
a signed-out visitor is sent to sign in, an account without a role is refused, every POST needs a CSRF
token, Merchant-only actions refuse Support with a sentence, and an id is checked before it is used."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

pytestmark = pytest.mark.django_db

# Sample values for each path converter, and for the named groups of the admin's regex routes.
CONVERTER_SAMPLES = {
    "uuid": "82664d96-6dfd-4343-aaaa-05c46f412a5b",
    "int": "1",
    "str": "abc123",
    "slug": "abc-123",
    "path": "1",
    None: "abc123",
}
REGEX_SAMPLES = {"app_label": "auth", "url": "no-such-page/", "token": "abc123"}

# Pages a signed-out visitor may open. A new one must be added here on purpose.
OPEN = {
    "login",
    "healthz",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "admin:login",
    "favicon",  # a permanent redirect to the static icon
}
NO_ROLE = "Your account has no role yet. Ask a merchant to give you one."
CSRF_REFUSED = "This form could not be sent: it expired or came from another site."


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    view: Callable[..., Any]

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:")

    def __str__(self) -> str:
        return f"{self.name} {self.path}"


def _fill(pattern: URLPattern | URLResolver) -> str:
    text = str(pattern.pattern)
    if "(?P<" in text:  # a regex route (Django's admin)
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: REGEX_SAMPLES[m.group(1)], text)
        return text.lstrip("^").rstrip("$")
    return re.sub(
        r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>", lambda m: CONVERTER_SAMPLES[m.group("conv")], text
    )


def _walk(patterns: list[Any], prefix: str = "/", namespaces: tuple[str, ...] = ()) -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _walk(pattern.url_patterns, prefix + _fill(pattern), inner)
        else:
            name = ":".join((*namespaces, pattern.name or f"<unnamed {pattern.pattern}>"))
            yield Route(name, prefix + _fill(pattern), pattern.callback)


# A path listed twice (our sign-in view before django.contrib.auth's own) is served by the first only.
_FIRST_BY_PATH: dict[str, Route] = {}
for _route in _walk(get_resolver().url_patterns):
    _FIRST_BY_PATH.setdefault(_route.path, _route)
ROUTES = list(_FIRST_BY_PATH.values())
GUARDED = [route for route in ROUTES if route.name not in OPEN]
DASHBOARD = [route for route in GUARDED if not route.is_admin]


def test_the_sweep_covers_every_route_with_a_path_that_resolves_to_it() -> None:
    assert len(ROUTES) > 20
    for route in ROUTES:
        assert resolve(route.path).func == route.view, route
    names = {route.name for route in ROUTES}
    for expected in ("orders:detail", "orders:customer", "downloads:edit", "downloads:count", "audit:undo"):
        assert expected in names


def test_only_the_known_pages_are_open_to_signed_out_visitors() -> None:
    open_views = {route.name for route in ROUTES if not getattr(route.view, "login_required", True)}
    assert open_views == OPEN


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name in OPEN], ids=str)
def test_the_open_pages_answer_a_signed_out_visitor(client: Client, route: Route) -> None:
    response = client.get(route.path)
    if route.name == "favicon":
        assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    else:
        assert response.status_code == 200, route


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", GUARDED, ids=str)
def test_a_signed_out_visitor_is_sent_to_sign_in(client: Client, route: Route, method: str) -> None:
    response = getattr(client, method)(route.path)
    assert response.status_code == 302, route
    # Django's admin sends some of its pages to its own sign-in form; both count failures (axes).
    sign_in = ("/accounts/login/", "/admin/login/") if route.is_admin else ("/accounts/login/",)
    assert response["Location"] in {f"{page}?next={quote(route.path)}" for page in sign_in}, route


@pytest.fixture
def no_role_client(db: None) -> Client:
    user = User.objects.create_user("nora-norole", password="irrelevant-password-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", GUARDED, ids=str)
def test_an_account_without_a_role_is_refused(
    no_role_client: Client, upstream_requests: Callable[[], int], route: Route, method: str
) -> None:
    before = upstream_requests()
    response = getattr(no_role_client, method)(route.path)
    if route.name == "logout":
        assert response.status_code == (405 if method == "get" else 302)  # may always sign out
        return
    if route.is_admin:  # Django's admin: staff only, it sends everyone else to its own sign-in
        assert response.status_code == 302, route
        location = response["Location"]
        # (the admin's sign-out sends a non-staff account to the admin's index, which sends it to sign in)
        assert location == "/admin/" or location.startswith(("/admin/login/", "/accounts/login/")), route
        return
    assert response.status_code == 403, route
    assert NO_ROLE in response.content.decode(), route
    assert upstream_requests() == before, f"{route} asked an upstream for someone without a role"


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_post_without_a_csrf_token_is_refused(merchant_user: User, route: Route) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(merchant_user)
    response = client.post(route.path, {"reason": "no token"})
    assert response.status_code == 403, route
    assert CSRF_REFUSED in response.content.decode(), route


def test_signing_in_without_a_csrf_token_is_refused(support_user: User) -> None:
    from tests.conftest import TEST_PASSWORD

    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": support_user.username, "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# --- Merchant-only actions ---------------------------------------------------------------------


def _loaded_token(page: str) -> str:
    match = re.search(r'name="loaded"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="loaded"', page)
    assert match, "the edit page carries the signed snapshot of what it showed"
    return match.group(1) or match.group(2)


def test_support_cannot_open_or_send_the_create_form(
    support_client: Client, read_record: Callable[[str], Any], upstream_requests: Callable[[], int]
) -> None:
    response = support_client.get("/downloads/new/")
    assert response.status_code == 403
    assert "Only a Merchant can create download records." in response.content.decode()
    fields = {
        "product_id": "7001",
        "order_id": "1050",
        "download_count": "0",
        "download_file_name": "support-was-here.pdf",
        "reason": "trying",
    }
    before = upstream_requests()
    response = support_client.post("/downloads/new/", fields)
    assert response.status_code == 403
    assert "Only a Merchant can create download records." in response.content.decode()
    assert upstream_requests() == before, "a refused create must not reach the downloads API"


def test_support_cannot_delete_a_record(
    support_client: Client, make_record: Callable[..., dict[str, Any]], read_record: Callable[[str], Any]
) -> None:
    record = make_record(download_file_name="keep-me.pdf")
    url = f"/downloads/{record['download_id']}/delete/"
    response = support_client.get(url)
    assert response.status_code == 403
    assert "Only a Merchant can delete download records." in response.content.decode()
    response = support_client.post(url, {"reason": "trying"})
    assert response.status_code == 403
    assert "Only a Merchant can delete download records." in response.content.decode()
    assert read_record(record["download_id"]) == record


def test_support_cannot_change_anything_but_the_count(
    support_client: Client, make_record: Callable[..., dict[str, Any]], read_record: Callable[[str], Any]
) -> None:
    record = make_record(download_file_name="original.pdf", download_count=2)
    url = f"/downloads/{record['download_id']}/edit/"
    page = support_client.get(url)
    assert page.status_code == 200
    response = support_client.post(
        url,
        {
            "loaded": _loaded_token(page.content.decode()),
            "product_id": "9999",
            "order_id": "1051",
            "download_count": "2",
            "download_file_name": "changed-by-support.pdf",
            "is_amazon": "on",
            "amazon_key": "stolen/key",
            "reason": "trying",
        },
    )
    assert response.status_code in (200, 302, 403)
    assert read_record(record["download_id"]) == record  # nothing but the count could have changed


# --- ids in URLs -------------------------------------------------------------------------------

BAD_IDS: list[tuple[str, tuple[str, ...]]] = [
    ("/orders/not-a-uuid/", ("get",)),
    ("/orders/82664D96-6DFD-4343-AAAA-05C46F412A5B/", ("get",)),
    ("/orders/82664d96-6dfd-4343-aaaa-05c46f412a5/", ("get",)),
    ("/orders/not-a-uuid/resend/", ("get", "post")),
    ("/orders/customer/not-a-token/", ("get",)),
    ("/orders/customer/" + "a" * 31 + "/", ("get",)),
    ("/orders/customer/" + "0" * 33 + "/", ("get",)),
    ("/orders/customer/" + "g" * 32 + "/", ("get",)),
    ("/orders/customer/%3Cscript%3Ealert(1)%3C%2Fscript%3E/", ("get",)),
    ("/orders/customer/%2e%2e/", ("get",)),
    ("/orders/customer/" + "a" * 5000 + "/", ("get",)),
    ("/downloads/abc%24/edit/", ("get", "post")),
    ("/downloads/" + "a" * 65 + "/edit/", ("get", "post")),
    ("/downloads/%C3%A9t%C3%A9/edit/", ("get", "post")),
    ("/downloads/ab%20cd/delete/", ("get", "post")),
    ("/downloads/%2e%2e/delete/", ("get", "post")),
    ("/downloads/abc%0A/delete/", ("get", "post")),
    ("/downloads/%EF%BC%91%EF%BC%92/count/", ("post",)),  # full-width digits
    ("/downloads/abc%3Fsearch=x/count/", ("post",)),
    ("/downloads/%3Cscript%3E/count/", ("post",)),
    ("/audit/not-a-number/undo/", ("post",)),
    ("/audit/99999999999999999999999999/undo/", ("post",)),
    ("/audit/0/undo/", ("post",)),
]


@pytest.mark.parametrize(("path", "methods"), BAD_IDS, ids=[path[:60] for path, _ in BAD_IDS])
def test_a_malformed_id_is_a_404_page_and_never_reaches_an_upstream(
    merchant_client: Client, upstream_requests: Callable[[], int], path: str, methods: tuple[str, ...]
) -> None:
    for method in methods:
        before = upstream_requests()
        response = getattr(merchant_client, method)(path, {"count": "1", "expected": "0", "reason": "x"})
        assert response.status_code == 404, f"{method} {path[:80]}"
        page = response.content.decode()
        assert "Not found" in page and "Traceback" not in page
        assert "<script>alert(1)" not in page
        assert upstream_requests() == before, f"{method} {path[:80]} reached an upstream"


def test_ids_that_look_right_but_do_not_exist_are_404_pages(merchant_client: Client) -> None:
    for path in (
        "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5c/",  # 1050 ends in 5b; this one does not exist
        "/orders/customer/" + "0" * 32 + "/",
        "/downloads/zzzz99990000/edit/",
        "/downloads/zzzz99990000/delete/",
    ):
        response = merchant_client.get(path)
        assert response.status_code == 404, path
        assert "Traceback" not in response.content.decode()


HOSTILE_QUERIES = [
    "/orders/?q=%3Cscript%3Ealert(1)%3C/script%3E",
    "/orders/?q=" + "9" * 400,
    "/orders/?q=%00%E2%80%AE",
    "/orders/?page=-1&per_page=100000",
    "/orders/?page=99999999999999999999999",
    "/orders/?page=abc&per_page=abc",
    "/downloads/?q=%3Cscript%3Ealert(1)%3C/script%3E",
    "/downloads/?sort=;drop%20table&page=-3",
    "/downloads/?sort=-amazon_key&per_page=0",
    "/downloads/?page=99999999999999999999999&per_page=99999999999",
    "/downloads/new/?order_id=99999999999999999999999",
    "/audit/?page=99999999999999999999999",
    "/audit/?page=-1&q=%3Cscript%3E",
]


@pytest.mark.parametrize("path", HOSTILE_QUERIES)
def test_odd_query_parameters_never_break_a_page(merchant_client: Client, path: str) -> None:
    response = merchant_client.get(path)
    assert response.status_code in (200, 302, 404), path
    page = response.content.decode()
    assert "<script>alert(1)" not in page and "Traceback" not in page
