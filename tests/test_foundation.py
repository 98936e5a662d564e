"""The page frame, sign-in, and the demo setup that `make run` relies on."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from staff.models import StaffPreferences
from staff.roles import role_of

pytestmark = pytest.mark.django_db


def test_every_page_sends_a_signed_out_visitor_to_sign_in(client: Client) -> None:
    for url in ["/", "/orders/", "/downloads/", "/audit/", "/status/", "/downloads/new/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_sign_in_page_and_health_check_are_open(client: Client) -> None:
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/healthz").content == b"ok"


def test_signing_in_lands_on_orders_with_the_page_frame(client: Client, support_user: User) -> None:
    from tests.conftest import TEST_PASSWORD

    response = client.post(
        "/accounts/login/", {"username": support_user.username, "password": TEST_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("orders:list")
    page = response.content.decode()
    assert 'name="q"' in page
    for label in ("Orders", "Download records", "Audit log", "Sign out", support_user.username, ">Support<"):
        assert label in page


def test_wrong_password_says_so_and_keeps_the_username(client: Client, support_user: User) -> None:
    response = client.post("/accounts/login/", {"username": support_user.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert f'value="{support_user.username}"' in response.content.decode()


def test_sign_out_needs_a_post(support_client: Client) -> None:
    assert support_client.get("/accounts/logout/").status_code == 405
    assert support_client.post("/accounts/logout/").status_code == 302
    assert support_client.get("/orders/").status_code == 302


def test_demo_staff_are_created_once_with_one_account_per_role() -> None:
    out = StringIO()
    call_command("ensure_demo_staff", stdout=out)
    printed = out.getvalue()
    roles = {user.username: role_of(user) for user in User.objects.all()}
    assert roles == {"admin": "admin", "merchant": "merchant", "support": "support"}
    # Each printed password signs its account in; they are shown once and not stored in plain text.
    for username in roles:
        password = next(line.split()[1] for line in printed.splitlines() if line.split()[:1] == [username])
        assert Client().login(username=username, password=password)
        assert User.objects.get(username=username).password != password
    again = StringIO()
    call_command("ensure_demo_staff", stdout=again)
    assert again.getvalue() == ""
    assert User.objects.count() == 3


def test_the_demo_merchant_gets_the_daily_digest_a_few_minutes_after_the_accounts_are_made() -> None:
    call_command("ensure_demo_staff", stdout=StringIO())
    merchant = User.objects.get(username="merchant")
    digest_at = StaffPreferences.objects.get(user=merchant).digest_at
    soon = timezone.localtime(timezone.now() + timedelta(minutes=5), ZoneInfo(settings.SHOP_TIME_ZONE))
    assert digest_at is not None and abs(
        datetime.combine(soon.date(), digest_at) - soon.replace(tzinfo=None)
    ) < timedelta(minutes=2)
    assert merchant.email == "merchant@example.com"
    assert not StaffPreferences.objects.filter(user__username="support", digest_at__isnull=False).exists()


def test_unknown_page_is_a_404_page_not_a_stack_trace(support_client: Client) -> None:
    response = support_client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Traceback" not in response.content
