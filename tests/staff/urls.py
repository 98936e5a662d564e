"""The dashboard's URLs plus one view that refuses, to show how any refusal reaches the person."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from fileflare_admin.urls import urlpatterns as dashboard_urlpatterns
from staff.roles import NotAllowed

REFUSAL = "Only a Merchant can press this test button."


def refusing_view(request: HttpRequest) -> HttpResponse:
    raise NotAllowed(REFUSAL)


urlpatterns = [path("staff-test/refuse/", refusing_view), *dashboard_urlpatterns]
