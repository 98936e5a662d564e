import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_user_signs_in_sees_the_frame_and_slash_focuses_search(page: Page, support_user: User) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/"))
    sign_in(page, support_user)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders")).to_be_visible()
    page.locator("body").press("/")
    expect(page.locator("#site-search-q")).to_be_focused()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
