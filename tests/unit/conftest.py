"""Unit tests need no upstream: they get a closed port instead of the sandbox, so a stray call fails
loudly."""

from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from django.core.cache import cache

from tests.conftest import free_port


@pytest.fixture(autouse=True)
def _upstream_settings(settings: LazySettings) -> Iterator[None]:
    closed = f"http://127.0.0.1:{free_port()}"
    settings.FILEFLARE_API_URL = f"{closed}/api"
    settings.DOWNLOADS_API_URL = f"{closed}/easycart"
    cache.clear()
    yield
    cache.clear()
