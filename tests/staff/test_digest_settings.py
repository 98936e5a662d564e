"""The daily digest is opt-in: each person says whether it comes and at what time of their own day."""

from datetime import time

import pytest
from django.contrib.auth.models import User
from django.test import Client

from staff.models import StaffPreferences

pytestmark = pytest.mark.django_db
URL = "/staff/digest/"


def test_nobody_gets_the_digest_until_they_ask_for_it(support_client: Client, support_user: User) -> None:
    page = support_client.get(URL).content.decode()
    assert "Your daily digest" in page and 'value="08:00"' in page and "checked" not in page
    assert not StaffPreferences.objects.filter(user=support_user, digest_at__isnull=False).exists()


def test_asking_for_it_keeps_the_time_and_the_time_zone_chosen_before(
    support_client: Client, support_user: User
) -> None:
    support_user.email = "sam@example.com"
    support_user.save()
    support_client.post("/staff/time-zone/", {"time_zone": "Asia/Tokyo"})
    response = support_client.post(URL, {"wanted": "on", "digest_at": "07:30"}, follow=True)
    page = response.content.decode()
    assert "The daily digest goes to sam@example.com at 07:30 (Asia/Tokyo)." in page
    saved = StaffPreferences.objects.get(user=support_user)
    assert saved.digest_at == time(7, 30) and saved.time_zone == "Asia/Tokyo"
    # Changing the zone later leaves the digest as it was.
    support_client.post("/staff/time-zone/", {"time_zone": "Europe/Paris"})
    assert StaffPreferences.objects.get(user=support_user).digest_at == time(7, 30)


def test_turning_it_off_forgets_the_time(support_client: Client, support_user: User) -> None:
    StaffPreferences.objects.create(user=support_user, digest_at=time(9, 0))
    response = support_client.post(URL, {"digest_at": "09:00"}, follow=True)
    assert "You will not get the daily digest." in response.content.decode()
    assert StaffPreferences.objects.get(user=support_user).digest_at is None


def test_a_time_that_does_not_read_is_a_sentence_with_what_was_typed_kept(
    support_client: Client, support_user: User
) -> None:
    response = support_client.post(URL, {"wanted": "on", "digest_at": "25:99"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Write the time as hours and minutes, such as 08:00." in page and 'value="25:99"' in page
    assert not StaffPreferences.objects.filter(user=support_user).exists()
    missing = support_client.post(URL, {"wanted": "on", "digest_at": ""}).content.decode()
    assert "Say at what time the digest should come, such as 08:00." in missing


def test_an_account_without_an_email_address_is_told_so(merchant_client: Client, merchant_user: User) -> None:
    merchant_user.email = ""
    merchant_user.save()
    response = merchant_client.post(URL, {"wanted": "on", "digest_at": "08:15"}, follow=True)
    assert "your account has no e-mail address: ask an Administrator to add one." in response.content.decode()
