"""Sign-in: password guessing is slowed (django-axes: 5 failures per username + address lock that pair
out for 15 minutes, 15 per username from anywhere lock the account) and logged without the password; the
try before a lockout warns; the lockout page says when it ends and who can lift it; X-Forwarded-For counts
only through trusted proxies; `next` never leads off the site; sign-out is POST."""

import logging
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from fileflare_admin.security import client_ip
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins for this account: it is locked and unlocks by itself at "
WARNING = "One more failed sign-in will lock this account for 15 minutes."


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


def test_the_lockout_page_says_when_it_ends_and_who_can_unlock_it(
    client: Client, support_user: User, settings: LazySettings
) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_MINUTES = 30
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    fail(client, support_user.username, 1)
    last_failure = timezone.now()
    page = fail(client, support_user.username, 1).content.decode()  # type: ignore[attr-defined]
    ends = re.search(r"unlocks by itself at (\d\d):(\d\d):(\d\d) UTC\.", page)
    assert ends, page
    expected = timezone.localtime(last_failure + timedelta(minutes=30))
    assert abs((int(ends[1]) * 60 + int(ends[2])) - (expected.hour * 60 + expected.minute)) <= 1
    assert f"<code>python manage.py axes_reset_username {support_user.username}</code>" in page
    assert "merchant" not in page


def test_the_try_before_the_lockout_warns(client: Client, support_user: User) -> None:
    for _ in range(3):
        page = sign_in(client, support_user.username, "wrong").content.decode()  # type: ignore[attr-defined]
        assert WARNING not in page
    fourth = sign_in(client, support_user.username, "wrong").content.decode()  # type: ignore[attr-defined]
    assert WARNING in fourth and "Check the username and password" in fourth
    assert LOCKED in sign_in(client, support_user.username, "wrong").content.decode()  # type: ignore[attr-defined]


def test_an_administrator_unlocks_an_account_at_once(client: Client, support_user: User) -> None:
    fail(client, support_user.username, 5)
    assert sign_in(client, support_user.username, TEST_PASSWORD).status_code == 429  # type: ignore[attr-defined]
    call_command("axes_reset_username", support_user.username, verbosity=0)
    assert sign_in(client, support_user.username, TEST_PASSWORD).status_code == 302  # type: ignore[attr-defined]


def test_tries_during_a_lockout_do_not_move_its_end(client: Client, support_user: User) -> None:
    fail(client, support_user.username, 5)
    first = AccessAttempt.objects.get(username=support_user.username).attempt_time
    fail(client, support_user.username, 3)
    attempt = AccessAttempt.objects.get(username=support_user.username)
    assert attempt.attempt_time == first and attempt.failures_since_start == 5


def test_lockout_is_per_username_and_address(client: Client, support_user: User, merchant_user: User) -> None:
    fail(client, support_user.username, 5)
    # Another account from the same address is not affected...
    assert sign_in(client, merchant_user.username, TEST_PASSWORD).status_code == 302  # type: ignore[attr-defined]
    # ...nor the same account from another address, while it has few failures overall.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(other, support_user.username, TEST_PASSWORD).status_code == 302  # type: ignore[attr-defined]


def test_guessing_one_account_from_many_addresses_locks_it_everywhere(support_user: User) -> None:
    # 30 wrong passwords from 6 addresses (each pair locked after 5)...
    for address in range(1, 7):
        fail(Client(REMOTE_ADDR=f"198.51.100.{address}"), support_user.username, 5)
    # ...and the right one from a 7th address is refused too.
    seventh = Client(REMOTE_ADDR="198.51.100.7")
    response = sign_in(seventh, support_user.username, TEST_PASSWORD)
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert LOCKED in response.content.decode()  # type: ignore[attr-defined]
    assert not signed_in(seventh)


def test_the_account_lock_comes_at_its_own_count_and_warns_first(
    client: Client, support_user: User, settings: LazySettings
) -> None:
    settings.AXES_USERNAME_FAILURE_LIMIT = 8
    fail(Client(REMOTE_ADDR="198.51.100.1"), support_user.username, 4)
    seventh = fail(Client(REMOTE_ADDR="198.51.100.2"), support_user.username, 3)
    assert WARNING in seventh.content.decode()  # type: ignore[attr-defined]
    eighth = fail(Client(REMOTE_ADDR="198.51.100.3"), support_user.username, 1)
    assert eighth.status_code == 429  # type: ignore[attr-defined]
    elsewhere = sign_in(Client(REMOTE_ADDR="198.51.100.4"), support_user.username, TEST_PASSWORD)
    assert elsewhere.status_code == 429  # type: ignore[attr-defined]


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
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    factory = RequestFactory()
    spoofed = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")
    assert client_ip(spoofed) == "203.0.113.5"
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
    junk = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(junk) == "10.0.0.2"


def test_forwarded_for_from_a_client_that_came_directly_is_ignored(settings: LazySettings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    direct = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_ip(direct) == "192.0.2.10"
    settings.TRUSTED_PROXIES = []  # proxies counted but none named: the header is never believed
    via_proxy = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_ip(via_proxy) == "10.0.0.2"


def test_behind_two_proxies_each_one_of_ours_is_skipped(settings: LazySettings) -> None:
    settings.TRUSTED_PROXY_COUNT = 2
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    chain = "1.2.3.4, 203.0.113.5, 10.0.0.7"  # claim, client, first proxy; REMOTE_ADDR is the second
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=chain)
    assert client_ip(request) == "203.0.113.5"


def test_rotating_a_forged_forwarded_for_does_not_escape_the_lockout(
    client: Client, support_user: User, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    for attempt in range(5):
        sign_in(client, support_user.username, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")
    response = sign_in(client, support_user.username, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429  # type: ignore[attr-defined]


def test_with_the_proxy_settings_on_a_direct_client_still_cannot_rotate_forwarded_for(
    client: Client, support_user: User, settings: LazySettings
) -> None:
    # TRUST_X_FORWARDED_PROTO=1 and one proxy configured, but this client reaches the app directly.
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    for attempt in range(20):
        sign_in(client, support_user.username, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")
    assert AccessAttempt.objects.filter(username=support_user.username).count() == 1  # one address: ours
    response = sign_in(client, support_user.username, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429  # type: ignore[attr-defined]


def test_behind_a_proxy_each_client_address_is_locked_separately(
    client: Client, support_user: User, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's address plays the proxy
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
