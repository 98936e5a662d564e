"""A dashboard database that does not answer: a 503 sentence page, never a traceback, with what the person
typed ready to send again (passwords and the CSRF token aside); an htmx request gets it into the page.
The real faults (a locked and a missing SQLite file under gunicorn) are in tests/faults/."""

import sys

import pytest
from django.db import IntegrityError, OperationalError
from django.http import HttpRequest
from django.test import RequestFactory

from fileflare_admin.middleware import ResilienceMiddleware
from fileflare_admin.views import server_error

LOCKED = OperationalError("database is locked")


def _raised(request: HttpRequest) -> object:
    """handler500 runs inside Django's `except` block: give it the same exception context."""
    try:
        raise LOCKED
    except OperationalError:
        assert sys.exc_info()[1] is LOCKED
        return server_error(request)


def test_a_form_sent_while_the_database_is_locked_comes_back_with_what_was_typed() -> None:
    request = RequestFactory().post(
        "/downloads/new/",
        {
            "csrfmiddlewaretoken": "token-123",
            "download_file_name": 'Guitar "tabs" <b>.pdf',
            "reason": "Customer asked\nfor a second copy",
            "password": "never-shown-again",
        },
    )
    response = _raised(request)
    page = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 503 and response["Retry-After"] == "60"  # type: ignore[index]
    assert "The dashboard's database is not answering" in page
    assert 'value="Guitar &quot;tabs&quot; &lt;b&gt;.pdf"' in page  # kept, and inert
    assert ">Customer asked\nfor a second copy</textarea>" in page
    assert 'name="csrfmiddlewaretoken" value="token-123"' in page and 'action="/downloads/new/"' in page
    assert "never-shown-again" not in page and "Traceback" not in page


def test_a_page_read_while_the_database_is_missing_offers_to_try_again() -> None:
    request = RequestFactory().get("/audit/?actor=sam")
    response = ResilienceMiddleware(lambda request: None).process_exception(request, LOCKED)  # type: ignore[arg-type, return-value]
    assert response is not None and response.status_code == 503
    page = response.content.decode()
    assert 'href="/audit/?actor=sam"' in page and "Send again" not in page


def test_an_htmx_request_gets_the_sentence_swapped_into_the_page() -> None:
    request = RequestFactory().post("/downloads/abc/count/", {"count": "4"}, HTTP_HX_REQUEST="true")
    response = _raised(request)
    assert response.status_code == 200  # type: ignore[attr-defined]  # htmx swaps no 5xx
    assert response["HX-Retarget"] == "#main" and response["HX-Reswap"] == "innerHTML"  # type: ignore[index]
    assert 'value="4"' in response.content.decode()  # type: ignore[attr-defined]


@pytest.mark.parametrize("bug", [ValueError("a bug"), IntegrityError("a broken constraint")])
def test_any_other_error_is_still_the_plain_500_page(bug: Exception) -> None:
    try:
        raise bug
    except Exception:
        response = server_error(RequestFactory().get("/orders/"))
    assert response.status_code == 500
    assert str(bug).encode() not in response.content


@pytest.mark.django_db
def test_the_sign_in_form_keeps_the_username_not_the_password() -> None:
    request = RequestFactory().post("/accounts/login/", {"username": "sam", "password": "secret-typed"})
    page = _raised(request).content.decode()  # type: ignore[attr-defined]
    assert 'value="sam"' in page and "secret-typed" not in page
