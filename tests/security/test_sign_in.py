"""Sign-in: password guessing is slowed (django-axes: 5 failures per username + address lock that pair
out for 15 minutes) and logged without the password; `next` never leads off the site; sign-out is POST."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from fileflare_admin.security import client_ip
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins for this account. Try again in 15 minutes or ask a merchant to unlock it."


def sign_in(client: Client, username: str, password: str, **extra: object) -> object:
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def fail(client: Client, username: str, times: int, **extra: object) -> object:
    response = None
    for attempt in range(times):
        response = sign_in(client, username, f"wrong-password-{attempt}", **extra)
    return response


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_four_wrong_passwords_still_allow_the_right_one(client: Client, support_user: User) -> None:
    response = fail(client, support_user.username, 4)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert sign_in(client, support_user.username, TEST_PASSWORD).status_code == 302  # type: ignore[attr-defined]
    assert signed_in(client)


def test_five_wrong_passwords_lock_the_account_with_a_clear_sentence(
    client: Client, support_user: User
) -> None:
    response = fail(client, support_user.username, 5)
    assert response.status_code == 429  # type: ignore[attr-defined]
    page = response.content.decode()  # type: ignore[attr-defined]
    assert LOCKED in page
    assert f'value="{support_user.username}"' in page  # the form is still there, username kept
    # Even the right password is refused until the cool-off is over.
    response = sign_in(client, support_user.username, TEST_PASSWORD)
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert LOCKED in response.content.decode()  # type: ignore[attr-defined]
    assert not signed_in(client)


def test_the_lockout_sentence_names_the_configured_wait(
    client: Client, support_user: User, settings: LazySettings
) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_MINUTES = 30
    response = fail(client, support_user.username, 2)
    assert "Try again in 30 minutes" in response.content.decode()  # type: ignore[attr-defined]


def test_lockout_is_per_username_and_address(client: Client, support_user: User, merchant_user: User) -> None:
    fail(client, support_user.username, 5)
    # Another account from the same address is not affected...
    assert sign_in(client, merchant_user.username, TEST_PASSWORD).status_code == 302  # type: ignore[attr-defined]
    # ...nor the same account from another address.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(other, support_user.username, TEST_PASSWORD).status_code == 302  # type: ignore[attr-defined]


def test_the_lockout_ends_after_the_cool_off(client: Client, support_user: User) -> None:
    fail(client, support_user.username, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, support_user.username, TEST_PASSWORD).status_code == 302  # type: ignore[attr-defined]
    assert signed_in(client)


def test_a_successful_sign_in_clears_earlier_failures(client: Client, support_user: User) -> None:
    fail(client, support_user.username, 4)
    assert sign_in(client, support_user.username, TEST_PASSWORD).status_code == 302  # type: ignore[attr-defined]
    client.post("/accounts/logout/")
    response = fail(client, support_user.username, 4)
    assert response.status_code == 200  # type: ignore[attr-defined]


def test_failures_are_logged_and_stored_without_the_password(
    client: Client, support_user: User, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "my-real-password-typo-7731"
    client.get("/accounts/login/")
    with caplog.at_level(logging.INFO):
        sign_in(client, support_user.username, secret)
    failures = [record.getMessage() for record in caplog.records if "login failure" in record.getMessage()]
    assert failures, caplog.text
    assert support_user.username in failures[0] and "127.0.0.1" in failures[0]
    assert secret not in caplog.text
    attempt = AccessAttempt.objects.get(username=support_user.username)
    assert attempt.ip_address == "127.0.0.1"
    assert secret not in attempt.post_data and secret not in attempt.get_data
    assert "csrfmiddlewaretoken=" not in attempt.post_data or "*****" in attempt.post_data


# --- the client address ------------------------------------------------------------------------


def test_forwarded_for_is_ignored_without_a_trusted_proxy(settings: LazySettings) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_ip(request) == "192.0.2.10"


def test_behind_one_proxy_the_address_it_saw_counts_not_the_clients_claims(settings: LazySettings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    factory = RequestFactory()
    spoofed = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")
    assert client_ip(spoofed) == "203.0.113.5"
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
    junk = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(junk) == "10.0.0.2"


def test_rotating_a_forged_forwarded_for_does_not_escape_the_lockout(
    client: Client, support_user: User, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    for attempt in range(5):
        sign_in(client, support_user.username, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")
    response = sign_in(client, support_user.username, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429  # type: ignore[attr-defined]


def test_behind_a_proxy_each_client_address_is_locked_separately(
    client: Client, support_user: User, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    fail(client, support_user.username, 5, HTTP_X_FORWARDED_FOR="203.0.113.5")
    locked = sign_in(client, support_user.username, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429  # type: ignore[attr-defined]
    elsewhere = sign_in(Client(), support_user.username, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert elsewhere.status_code == 302  # type: ignore[attr-defined]


# --- where sign-in leads -----------------------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:///evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example",
    "/\t/evil.example",
    "\x00//evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_never_leads_off_the_site(client: Client, support_user: User, target: str) -> None:
    response = client.post(
        "/accounts/login/", {"username": support_user.username, "password": TEST_PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:list")


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_sign_in_page_does_not_carry_an_off_site_next(client: Client, target: str) -> None:
    page = client.get("/accounts/login/", {"next": target}).content.decode()
    assert 'name="next" value=""' in page


def test_next_within_the_site_is_followed(client: Client, support_user: User) -> None:
    response = client.post(
        "/accounts/login/",
        {"username": support_user.username, "password": TEST_PASSWORD, "next": "/downloads/?q=1050"},
    )
    assert response["Location"] == "/downloads/?q=1050"


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(client: Client, support_user: User) -> None:
    response = client.get("/downloads/?q=1050")
    assert response["Location"] == "/accounts/login/?next=/downloads/%3Fq%3D1050"
    response = client.post(
        response["Location"],
        {"username": support_user.username, "password": TEST_PASSWORD, "next": "/downloads/?q=1050"},
    )
    assert response["Location"] == "/downloads/?q=1050"


# --- signing out -------------------------------------------------------------------------------


def test_a_link_or_image_cannot_sign_anyone_out(support_client: Client) -> None:
    assert support_client.get("/accounts/logout/").status_code == 405
    assert support_client.get("/orders/").status_code == 200
    assert support_client.post("/accounts/logout/").status_code == 302
    assert support_client.get("/orders/").status_code == 302


def test_signing_out_needs_the_csrf_token(support_user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(support_user)
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/orders/").status_code == 200
