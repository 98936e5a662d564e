"""WhiteNoise's list of static files, made once per test process instead of once per test client.

Django's test `Client` builds its own middleware chain, and WhiteNoise's middleware walks and stats every
static file when it is built: about 80 ms per client, most of a short view test. The list depends only on
the settings below and the files on disk, which a test run does not change, so each new middleware with
the same settings takes a copy of the first one's list. What it serves, and with which headers, is the same.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.responders import StaticFile

_SETTINGS = (
    "DEBUG",
    "STATIC_URL",
    "STATIC_ROOT",
    "STATICFILES_DIRS",
    "FORCE_SCRIPT_NAME",
    "WHITENOISE_USE_FINDERS",
    "WHITENOISE_AUTOREFRESH",
    "WHITENOISE_MAX_AGE",
    "WHITENOISE_ROOT",
    "WHITENOISE_STATIC_PREFIX",
    "WHITENOISE_ALLOW_ALL_ORIGINS",
    "WHITENOISE_CHARSET",
    "WHITENOISE_MIMETYPES",
    "WHITENOISE_ADD_HEADERS_FUNCTION",
    "WHITENOISE_INDEX_FILE",
    "WHITENOISE_IMMUTABLE_FILE_TEST",
)


def remember_static_files() -> None:
    made: dict[str, dict[str, StaticFile]] = {}
    build = WhiteNoiseMiddleware.__init__

    def init(self: WhiteNoiseMiddleware, get_response: Any = None, settings: Any = django_settings) -> None:
        key = repr([getattr(settings, name, None) for name in _SETTINGS])
        if getattr(settings, "WHITENOISE_AUTOREFRESH", settings.DEBUG):  # it looks files up per request
            build(self, get_response, settings)
            return
        if key not in made:
            build(self, get_response, settings)
            made[key] = dict(self.files)
            return
        # The same walk again would find the same files: skip it and take the first list.
        self.add_files = self.add_files_from_finders = lambda *args, **kwargs: None  # type: ignore[method-assign]
        try:
            build(self, get_response, settings)
        finally:
            del self.add_files, self.add_files_from_finders
        self.files = dict(made[key])

    WhiteNoiseMiddleware.__init__ = init  # type: ignore[method-assign]
