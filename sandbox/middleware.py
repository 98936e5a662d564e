"""Fault injection and request counting for the two API surfaces (never for /_sandbox/ itself)."""

import logging
import random
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sandbox import state

logger = logging.getLogger("sandbox")
_random = random.SystemRandom()
stopping = threading.Event()  # set on shutdown so hanging requests end at once

ERROR_PAGE = b"<html><head><title>{status}</title></head><body><h1>{status} Server Error</h1></body></html>"


def _api_of(path: str) -> str | None:
    if path.startswith("/api/"):
        return "fileflare"
    if path.startswith("/easycart/"):
        return "downloads"
    return None


class SandboxMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = _api_of(request.path)
        started = time.monotonic()
        if api is None:
            return self.get_response(request)
        state.count_request(api)
        faults = state.config()
        if faults["latency_ms"] > 0:
            time.sleep(faults["latency_ms"] / 1000)
        response: HttpResponse
        if faults["hang_rate"] > 0 and _random.random() < faults["hang_rate"]:
            stopping.wait(settings.SANDBOX_HANG_SECONDS)
            response = HttpResponse(
                ERROR_PAGE.replace(b"{status}", b"504"), status=504, content_type="text/html"
            )
        elif faults["error_rate"] > 0 and _random.random() < faults["error_rate"]:
            status = _random.choice([500, 502, 503])
            response = HttpResponse(
                ERROR_PAGE.replace(b"{status}", str(status).encode()), status=status, content_type="text/html"
            )
        else:
            response = self.get_response(request)
            if faults["malformed_rate"] > 0 and _random.random() < faults["malformed_rate"]:
                body = response.content
                response = HttpResponse(
                    body[: max(len(body) // 2, 1)] + b'{"data": [',
                    status=200,
                    content_type="application/json",
                )
        # One line a request; the query string may be shown, credentials never are (they are headers).
        logger.info(
            "%s %s %s %d %.0fms",
            api,
            request.method,
            request.get_full_path(),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response
