"""Each staff member sees times in their own zone; without a choice, in the shop's (SHOP_TIME_ZONE)."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fileflare_admin import clock
from fileflare_admin.templatetags.display import hms, readable, when
from staff.models import StaffPreferences

pytestmark = pytest.mark.django_db
URL = "/staff/time-zone/"
ORDER_1050 = "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/"


def _header_zone(html: str) -> str:
    return re.search(r'class="zone-link"[^>]*>([^<]+)<', html).group(1)


def test_without_a_choice_times_are_in_the_shops_zone(support_client: Client, settings: object) -> None:
    settings.SHOP_TIME_ZONE = "America/New_York"  # type: ignore[attr-defined]
    page = support_client.get(ORDER_1050).content.decode()
    assert "8 Jan 2023, 16:50:46 EST" in page
    assert _header_zone(page) in ("EST", "EDT")


def test_a_chosen_zone_applies_to_every_page_and_is_remembered(
    support_client: Client, support_user: User
) -> None:
    form = support_client.get(URL, {"next": "/audit/"}).content.decode()
    assert "Your time zone" in form and "The shop&#x27;s time zone (UTC)" in form
    response = support_client.post(URL, {"time_zone": "Asia/Tokyo", "next": "/audit/"})
    assert response.status_code == 302 and response["Location"] == "/audit/"
    assert StaffPreferences.objects.get(user=support_user).time_zone == "Asia/Tokyo"
    page = support_client.get(ORDER_1050).content.decode()
    assert "9 Jan 2023, 06:50:46 JST" in page and _header_zone(page) == "JST"
    # A new session (signing in again) reads the choice back from the database.
    fresh = Client()
    fresh.force_login(support_user)
    assert "06:50:46 JST" in fresh.get(ORDER_1050).content.decode()
    # Back to the shop's zone.
    support_client.post(URL, {"time_zone": ""})
    assert "21:50:46 UTC" in support_client.get(ORDER_1050).content.decode()


def test_an_unknown_zone_is_refused_with_a_sentence_and_nothing_changes(
    support_client: Client, support_user: User
) -> None:
    response = support_client.post(URL, {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert "Pick a time zone from the list." in response.content.decode()
    assert not StaffPreferences.objects.filter(user=support_user).exists()


def test_next_never_leaves_the_site(support_client: Client) -> None:
    response = support_client.post(URL, {"time_zone": "UTC", "next": "https://evil.example/"})
    assert response["Location"] == reverse("orders:list")


def test_each_person_has_their_own_zone(support_client: Client, merchant_client: Client) -> None:
    support_client.post(URL, {"time_zone": "Asia/Tokyo"})
    assert "21:50:46 UTC" in merchant_client.get(ORDER_1050).content.decode()


def test_the_filters_write_readable_times_with_their_zone(settings: object) -> None:
    moment = datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)
    with timezone.override("Europe/Berlin"):
        assert hms(moment) == "15:07:09 CET"
        assert when(moment) == '<time datetime="2024-03-05T15:07:09+01:00">5 Mar 2024, 15:07 CET</time>'
        assert "5 Mar 2024, 15:07:09 CET" in when(moment, "seconds")
        assert readable("2024-03-05T14:07:09+00:00") == "5 Mar 2024, 15:07:09 CET"
        assert clock.date_time(datetime(2024, 7, 1, 12, 0, tzinfo=UTC)) == "1 Jul 2024, 14:00 CEST"
    assert readable("handbook.pdf") == "handbook.pdf" and readable(7) == 7
    assert when(None) == "" and when("not a date") == ""


def test_the_picker_offers_the_current_zones_searchable_and_takes_a_typed_city(
    support_client: Client, support_user: User
) -> None:
    form = support_client.get(URL).content.decode()
    offered = re.findall(r'<option value="([^"]+)" label="([^"]+)"', form)
    names = [name for name, _ in offered]
    assert 'list="time-zone-choices"' in form and '<datalist id="time-zone-choices">' in form
    assert ("Asia/Tokyo", "Tokyo (Asia)") in offered and ("America/New_York", "New York (America)") in offered
    assert "Asia/Kolkata" in names and "UTC" in names
    for alias in ("Asia/Calcutta", "US/Eastern", "Japan", "Etc/GMT+5", "GB"):
        assert alias not in names
    assert len(names) < 450  # not the ~600 names with their aliases
    # Typed as a person might: spaces for underscores, any case.
    response = support_client.post(URL, {"time_zone": " america/new york "})
    assert response.status_code == 302
    assert StaffPreferences.objects.get(user=support_user).time_zone == "America/New_York"
