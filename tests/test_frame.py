"""The cost every page pays around its view (issue 28): the message storage opened only when asked, the
frame's own files' addresses worked out once per process."""

from typing import Any

import pytest
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template import Context, Template
from django.test import Client, override_settings
from django.urls import path

from fileflare_admin.templatetags import frame
from fileflare_admin.urls import urlpatterns as dashboard_urlpatterns

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@login_not_required
def _say(request: HttpRequest) -> HttpResponse:
    messages.success(request, "Said once.")
    return redirect("/healthz")


urlpatterns = [path("frame-test/say/", _say), *dashboard_urlpatterns]


def test_a_message_waits_through_requests_that_do_not_show_it(support_client: Client) -> None:
    support_client.get("/frame-test/say/")
    for _ in range(2):
        assert support_client.get("/healthz").status_code == 200  # never opens the storage
    page = support_client.get("/audit/").content.decode()
    assert page.count("Said once.") == 1
    assert "Said once." not in support_client.get("/audit/").content.decode()


def test_a_request_that_never_asks_does_not_open_the_message_storage(
    support_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = []
    real = CookieStorage.__init__

    def counted(storage: CookieStorage, *args: Any, **kwargs: Any) -> None:
        opened.append(storage)
        real(storage, *args, **kwargs)

    monkeypatch.setattr(CookieStorage, "__init__", counted)
    assert support_client.get("/healthz").status_code == 200
    assert opened == []
    assert support_client.get("/audit/").status_code == 200
    assert len(opened) == 1


def test_the_frame_asks_the_storage_for_its_files_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    frame._static.cache_clear()
    asked = []
    real = frame.static

    def counted(name: str) -> str:
        asked.append(name)
        return real(name)

    monkeypatch.setattr(frame, "static", counted)
    page = Template("{% load frame %}{% frame_static 'css/app.css' %}")
    first = page.render(Context())
    assert page.render(Context()) == first and first.endswith("app.css") and asked == ["css/app.css"]
    with override_settings(STATIC_URL="/elsewhere/"):
        assert page.render(Context()).startswith("/elsewhere/")
    assert page.render(Context()) == first
