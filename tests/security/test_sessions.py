"""A signed-in request reads its session and its person in one query (fileflare_admin.sessions, issue 28),
and every rule of Django's sign-in still holds: a session ended elsewhere (signed out, password changed),
an account made inactive, a guess that names the wrong account."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import path

from fileflare_admin import sessions

# Plain SQL: proved on both engines.
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__), pytest.mark.engine]


@login_not_required
def _who(request: HttpRequest) -> HttpResponse:
    user = request.user
    return HttpResponse(user.get_username() if user.is_authenticated else "nobody")


urlpatterns = [path("who/", _who)]


def _who_and_queries(client: Client) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get("/who/").content.decode()
    return answer, [query["sql"] for query in captured.captured_queries]


def test_a_signed_in_request_reads_its_session_and_person_in_one_query(support_client: Client) -> None:
    support_client.get("/who/")  # the first remembers the person's zone and language in the session
    answer, queries = _who_and_queries(support_client)
    assert answer == "sam-support"
    assert len(queries) == 1 and "django_session" in queries[0] and "auth_user" in queries[0]


def test_a_session_this_process_has_not_seen_costs_one_more_query_once(
    support_user: User, support_client: Client
) -> None:
    support_client.get("/who/")
    sessions._owners.clear()  # as in a worker the person's sign-in did not go through
    answer, queries = _who_and_queries(support_client)
    assert answer == "sam-support" and len(queries) == 2
    answer, queries = _who_and_queries(support_client)
    assert answer == "sam-support" and len(queries) == 1


def test_a_wrong_guess_never_lends_another_account(
    support_user: User, merchant_user: User, support_client: Client
) -> None:
    support_client.get("/who/")
    sessions._owners[support_client.session.session_key] = merchant_user.pk
    answer, queries = _who_and_queries(support_client)
    assert answer == "sam-support" and len(queries) == 2  # the merchant's row was read, and not used
    answer, queries = _who_and_queries(support_client)
    assert answer == "sam-support" and len(queries) == 1  # the guess is right again


def test_a_password_changed_elsewhere_ends_the_session_on_the_next_request(
    support_user: User, support_client: Client
) -> None:
    assert _who_and_queries(support_client)[0] == "sam-support"
    support_user.set_password("a new password for sam")
    support_user.save()
    assert _who_and_queries(support_client)[0] == "nobody"
    assert SESSION_KEY not in support_client.session  # flushed, as Django does


def test_a_password_changed_by_the_person_keeps_their_own_session(support_user: User) -> None:
    client = Client()
    client.force_login(support_user)
    support_user.set_password("a new password for sam")
    support_user.save()
    request = RequestFactory().get("/")
    request.session, request.user = client.session, support_user
    update_session_auth_hash(request, support_user)
    request.session.save()
    client.cookies["sessionid"] = request.session.session_key
    assert _who_and_queries(client)[0] == "sam-support"


def test_an_account_made_inactive_is_signed_out_on_the_next_request(
    support_user: User, support_client: Client
) -> None:
    assert _who_and_queries(support_client)[0] == "sam-support"
    User.objects.filter(pk=support_user.pk).update(is_active=False)
    assert _who_and_queries(support_client)[0] == "nobody"


def test_a_session_signed_out_elsewhere_ends_here(support_user: User, support_client: Client) -> None:
    assert _who_and_queries(support_client)[0] == "sam-support"
    Session.objects.all().delete()
    assert _who_and_queries(support_client)[0] == "nobody"


def test_a_session_signed_in_before_the_change_stays_signed_in(support_client: Client) -> None:
    """Sessions made before PersonBackend name Django's ModelBackend: they are read as PersonBackend's."""
    support_client.get("/who/")
    session = support_client.session
    assert session[BACKEND_SESSION_KEY] == sessions.BACKEND
    session[BACKEND_SESSION_KEY] = sessions.DJANGO_BACKEND
    session.save()
    answer, queries = _who_and_queries(support_client)
    assert answer == "sam-support" and len(queries) == 1


def test_the_person_read_with_the_session_has_every_field_as_the_orm_reads_it(
    support_user: User, support_client: Client
) -> None:
    support_client.get("/who/")
    store = sessions.SessionStore(support_client.session.session_key)
    store.load()
    person, stored = store.person, User.objects.get(pk=support_user.pk)
    assert person is not None and person.pk == stored.pk
    for field in User._meta.concrete_fields:
        assert getattr(person, field.attname) == getattr(stored, field.attname), field.name
    assert person.date_joined.tzinfo is not None and person.is_active is True
