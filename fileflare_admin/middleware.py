"""Degrade, never die: every request gets its upstream deadline; a response says when the dashboard runs
without its shared cache; a database that does not answer is a sentence page, never a traceback."""

import logging
from collections.abc import Callable
from typing import Any, Protocol, cast

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from fileflare_admin import sharedcache
from fileflare_admin.api import deadline
from fileflare_admin.views import UNREACHABLE_DATABASE, database_unavailable

logger = logging.getLogger("fileflare_admin")
DEGRADED_HEADER = "X-Dashboard-Degraded"


class ResilienceMiddleware:
    """First in MIDDLEWARE, so it wraps everything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with deadline.page(settled_when_sent=True):  # its bookkeeping done once the response is sent
            response = self.get_response(request)
        if sharedcache.degraded_now():
            response[DEGRADED_HEADER] = "shared cache unavailable"
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view that met a locked or missing database (failures before the view, in the session or
        sign-in middleware, reach the same page through handler500)."""
        if isinstance(exception, UNREACHABLE_DATABASE):
            return database_unavailable(request, exception)
        return None


class _WithMessages(Protocol):
    _messages: Any  # where django.contrib.messages keeps a request's storage (not in Django's stubs)


class LazyMessageMiddleware(MessageMiddleware):
    """Django's MessageMiddleware, which opens the message storage (it verifies the signed messages cookie)
    only when the request reads or adds a message: a page does (base.html shows them), /healthz, a
    redirect or an htmx fragment do not, and leave the messages for the next page exactly as Django's."""

    def process_request(self, request: HttpRequest) -> None:
        cast(_WithMessages, request)._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response  # never opened: nothing read, nothing added, nothing to store
        return super().process_response(request, response)
