"""A person's role groups are remembered in their session (staff.middleware.recall_role_groups), so a page
asks no group query; a change of their groups (either side of the m2m, a renamed or deleted group) shows
on their next page, and a request that writes reads the groups afresh (issue 28)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from staff.middleware import ROLE_SESSION_KEY
from staff.roles import role_of
from tests.staff.urls import urlpatterns as staff_urlpatterns

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@csrf_exempt
def _role_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(role_of(request.user) or "none")


urlpatterns = [path("staff-test/role/", _role_view), *staff_urlpatterns]
ROLE = "/staff-test/role/"


def _group_queries(load: Callable[[], Any]) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as captured:
        response = load()
    return response, sum("auth_group" in query["sql"] for query in captured.captured_queries)


def test_a_page_after_the_first_asks_no_group_query(support_client: Client) -> None:
    first, asked = _group_queries(lambda: support_client.get("/audit/"))
    assert first.status_code == 200 and asked == 1
    second, asked = _group_queries(lambda: support_client.get("/audit/"))
    assert second.status_code == 200 and asked == 0
    assert '<span class="badge">Support</span>' in second.content.decode()


def test_a_role_given_shows_on_the_next_page(support_user: User, support_client: Client) -> None:
    page = support_client.get("/audit/").content.decode()
    assert '<span class="badge">Support</span>' in page and 'href="/jobs/"' not in page
    support_user.groups.add(Group.objects.get(name="Merchant"))
    page = support_client.get("/audit/").content.decode()
    assert '<span class="badge">Merchant</span>' in page and 'href="/jobs/"' in page


def test_a_role_taken_away_shows_on_the_next_page(merchant_user: User, merchant_client: Client) -> None:
    assert merchant_client.get(ROLE).content == b"merchant"
    merchant_user.groups.clear()
    response = merchant_client.get("/audit/")
    assert response.status_code == 403


def test_a_change_from_the_groups_side_shows_on_the_next_page(
    support_user: User, support_client: Client
) -> None:
    assert support_client.get(ROLE).content == b"support"
    Group.objects.get(name="Merchant").user_set.add(support_user)
    assert support_client.get(ROLE).content == b"merchant"
    Group.objects.get(name="Merchant").user_set.remove(support_user)
    assert support_client.get(ROLE).content == b"support"
    Group.objects.get(name="Support").user_set.clear()
    assert support_client.get(ROLE).status_code == 403


def test_a_renamed_or_deleted_group_shows_on_the_next_page(
    support_user: User, support_client: Client
) -> None:
    assert support_client.get(ROLE).content == b"support"
    support = Group.objects.get(name="Support")
    support.name = "Former support"
    support.save()
    assert support_client.get(ROLE).status_code == 403
    support.name = "Support"
    support.save()
    assert support_client.get(ROLE).content == b"support"
    support.delete()
    assert support_client.get(ROLE).status_code == 403


def test_only_the_changed_persons_sessions_forget(
    support_user: User, support_client: Client, merchant_client: Client
) -> None:
    support_client.get(ROLE)
    merchant_client.get(ROLE)
    support_user.groups.add(Group.objects.get(name="Merchant"))
    assert ROLE_SESSION_KEY not in support_client.session
    assert ROLE_SESSION_KEY in merchant_client.session


def test_a_write_reads_the_groups_afresh(support_user: User, support_client: Client) -> None:
    """The services' own checks never rest on the session: a session that remembered a role it should not
    (written here by hand) is believed by a page, never by a request that writes, which corrects it."""
    support_client.get(ROLE)
    session = support_client.session
    session[ROLE_SESSION_KEY] = [support_user.pk, ["Merchant"]]
    session.save()
    assert support_client.get(ROLE).content == b"merchant"  # remembered: no query
    assert support_client.post(ROLE).content == b"support"
    assert support_client.get(ROLE).content == b"support"


def test_a_session_never_lends_its_groups_to_another_account(
    support_user: User, merchant_user: User, support_client: Client
) -> None:
    support_client.get(ROLE)
    session = support_client.session
    session[ROLE_SESSION_KEY] = [merchant_user.pk, ["Merchant"]]
    session.save()
    assert support_client.get(ROLE).content == b"support"
