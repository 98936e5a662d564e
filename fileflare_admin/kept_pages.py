"""Whole pages kept in this process by everything they were made from (issue 28).

A warm order page changes only when something it shows changes: an upstream answer (the read cache's
entry: when it was fetched, under which generation), a table of our own (its kept reads' generation:
fileflare_admin.kept), what its caller names (the order's number and pasted link, the reply asked for),
who looks and how, the code, or the clock. Rendering it again each load cost about two thirds of its
time, and held the order page's throughput at 0.2-0.28 of /healthz's. `serve` keeps the rendered page
with the shared-cache keys it read (fileflare_admin.readahead's `recording`: every read the page makes
for its data goes through there) and what each held, and hands it out again while those keys are as
they were: found so by one read of them, and from then on watched by
Redis for this process (sharedcache.Watch: no round trip at all until Redis says one changed; with no
Redis, as in the inner ring's tests, each load reads them):

- a write anywhere (this process or another) moves a generation on or replaces an answer: the next load
  renders afresh, as the stale-after-write promise needs;
- it is never handed out past the moment an answer it shows stops being fresh (the page would ask the
  upstream then), nor past the first moment anything it says about time reads otherwise (`changes_at`:
  "3 minutes ago", an entry leaving the reply's last two hours);
- a page that showed a flash message, an upstream error or an answer not fresh, or was made while the
  shared cache was down, is not kept; none is handed out while it is down (another process's write could
  not reach this one);
- the CSRF token, the CSP nonce and a form's one-time token, each response's own, are never kept: the
  page is rendered with placeholders and each response's values go in on the way out (fragments' rule);
- its key names the person (their name is in the header; their undo buttons are theirs), their
  permissions, time zone and its abbreviation now, language, the URL prefix and the code as deployed.

Kept per process, up to PAGES_CHARS characters: a worker's first load of a page renders it, as a page
whose fragments are in the shared cache renders quickly. A page's shared-cache keys other than its
fragments' and its kept reads' (named by their own versions) are compared by value: an answer by when it
was fetched and its generation, a generation or a product name as it is.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import get_script_prefix
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject, empty
from django.utils.html import escape

from fileflare_admin import fragments, kept, readahead, sharedcache
from fileflare_admin.api import cache as read_cache

# Alphanumeric, so each survives escaping unchanged; neither is ever a real token or nonce.
NONCE_PLACEHOLDER = "keptpagecspnonceplaceholder"
# The page's own keys not compared: each names its own version (a fragment by what it shows, a kept read
# by its family's generation, which the page read too).
NAMED_BY_VERSION = (fragments.PREFIX, kept.PREFIX)
PAGES_CHARS = 4_000_000  # bytes: about 40 order pages of 50 records, ~4 MB a worker
_MISSING_STAMP = ("missing",)

_moments: ContextVar[list[datetime] | None] = ContextVar("kept_page_moments", default=None)
_NEVER = datetime.min.replace(tzinfo=UTC)  # a moment already past: what `unkept` says of the page


@dataclass
class _Page:
    content: bytes  # as sent, with the placeholders (encoded once, not on every load)
    headers: tuple[tuple[str, str], ...]
    reads: tuple[tuple[str, Any], ...]  # each shared-cache key it read, with what it held (`_stamp`)
    fresh_until: float  # time.time(): its first answer stops being fresh
    says_until: datetime  # timezone.now(): the first moment something it says about time reads otherwise
    watched: int | None = None  # its keys found as they were, watched since (sharedcache.Watch's mark)

    def __len__(self) -> int:
        return len(self.content)  # what it weighs among the pages kept (bytes)


_pages: fragments.Near[_Page] = fragments.Near(PAGES_CHARS)


def changes_at(moment: datetime) -> None:
    """What the page being made says reads otherwise from `moment` on (a time told relative to now):
    a kept copy of it is not handed out from then on. Outside `serve`, nothing."""
    moments = _moments.get()
    if moments is not None:
        moments.append(moment)


def unkept() -> None:
    """The page being made reads something its keys cannot name (a read of the database that is not
    kept): it is not kept. Outside `serve`, nothing."""
    moments = _moments.get()
    if moments is not None:
        moments.append(_NEVER)


def next_minute(since: datetime, now: datetime) -> datetime:
    """The next moment a time told to the minute as "how long since `since`" reads otherwise."""
    elapsed = max((now - since).total_seconds(), 0)
    return since + timedelta(minutes=math.floor(elapsed / 60) + 1)


def serve(
    request: HttpRequest,
    name: tuple[Any, ...],
    render: Callable[[Mapping[str, str]], HttpResponse],
    *,
    may: object,
    own: Mapping[str, Callable[[], str]] | None = None,
) -> HttpResponse:
    """The page `render` makes, kept under `name` (everything it is made from besides the viewer, the code
    and its shared-cache reads: the caller names the whole of it) and handed out again while it is what
    `render` would make. `may`: what the person may do (the templates' `may`, staff.roles.Permissions).
    `own`: values each response has afresh besides the CSRF token and the CSP nonce (a form's one-time
    token), each by its name and what makes one. `render` is given a placeholder for each of them, under
    its name (with `csrf_token` and `csp_nonce`), to put in the page: each response's own value goes
    there; given {}, it renders the page as it is."""
    if not _may_hand_out(request):
        return render({})
    makers = dict(own or {})
    key = _key(request, name, may)
    held = _pages.get(key)
    if held is not None and _unchanged(held):
        response = HttpResponse(_own_values(request, held.content, makers))
        for header, value in held.headers:
            response[header] = value
        return response
    moments: list[datetime] = []
    token = _moments.set(moments)
    try:
        with readahead.recording() as reads:
            response = render(_placeholders(request, makers))
    finally:
        _moments.reset(token)
    content = response.content if not response.streaming else b""
    page = _keepable(request, response, content, reads, moments)
    if page is not None:
        _pages.keep(key, page)
    if not response.streaming:
        response.content = _own_values(request, content, makers)
    return response


def _may_hand_out(request: HttpRequest) -> bool:
    """A page for everyone's own request, while the shared cache is up and no flash message waits."""
    if settings.DEBUG or request.method != "GET" or sharedcache.degraded():
        return False
    if request.COOKIES.get(CookieStorage.cookie_name):  # a deleted one may still be sent empty
        return False
    session = getattr(request, "session", None)
    return session is not None and SessionStorage.session_key not in session


def _key(request: HttpRequest, name: tuple[Any, ...], may: object) -> str:
    user = request.user
    where = (
        name,
        request.get_full_path(),
        user.pk,
        user.get_username(),
        repr(may),
        timezone.get_current_timezone_name(),
        timezone.localtime().tzname(),  # the header's zone: summer and winter time
        translation.get_language(),
        get_script_prefix(),
        fragments.code_version(),
        getattr(request, "csp_nonce", None) is not None,
    )
    return hashlib.sha256(repr(where).encode()).hexdigest()


def _unchanged(held: _Page) -> bool:
    """Still what a render would make: nothing it says about time reads otherwise yet, its answers are
    fresh, and its keys are as they were: watched by Redis since one read found them so (no round trip:
    sharedcache.Watch), or found so by a read now. When not, the page made afresh is handed what was
    read (no second round trip for the same keys)."""
    if time.time() >= held.fresh_until or timezone.now() >= held.says_until:
        return False
    keys = [key for key, _ in held.reads]
    watch = sharedcache.watch()
    if watch is not None and held.watched is not None:
        # Watched: Redis's silence says nothing changed, and its notice (or a lost watch) that something
        # may have: the page made afresh reads its keys itself, at no round trip more.
        return watch.unchanged(keys, held.watched)
    read = watch.read(keys) if watch is not None else None
    found, mark = read if read is not None else (cache.get_many(keys), None)
    readahead.found(keys, found)
    if sharedcache.degraded():
        return False
    unchanged = all(_stamp(found.get(key, readahead.MISSING)) == stamp for key, stamp in held.reads)
    held.watched = mark if unchanged else None
    return unchanged


def _placeholders(request: HttpRequest, makers: Mapping[str, Callable[[], str]]) -> dict[str, str]:
    return {
        "csrf_token": fragments.CSRF_PLACEHOLDER,
        "csp_nonce": NONCE_PLACEHOLDER if getattr(request, "csp_nonce", None) is not None else "",
        **{name: _placeholder(name) for name in makers},
    }


def _placeholder(name: str) -> str:
    """Alphanumeric (it survives escaping unchanged), and never a real value."""
    return "keptpageown" + hashlib.sha256(name.encode()).hexdigest()[:24]


def _own_values(request: HttpRequest, content: bytes, makers: Mapping[str, Callable[[], str]]) -> bytes:
    """The page with this response's CSRF token, CSP nonce and `own` values where the placeholders are
    (each an ASCII text in the page as sent: replaced in its bytes)."""
    content = content.replace(fragments.CSRF_PLACEHOLDER.encode(), get_token(request).encode())
    nonce = getattr(request, "csp_nonce", None)
    if nonce is not None:
        content = content.replace(NONCE_PLACEHOLDER.encode(), str(nonce).encode())
    for name, make in makers.items():
        content = content.replace(_placeholder(name).encode(), escape(make()).encode())
    return content


def _keepable(
    request: HttpRequest,
    response: HttpResponse,
    content: bytes,
    reads: Mapping[str, Any],
    moments: list[datetime],
) -> _Page | None:
    """The page as kept, or None when it may not be: not a plain page, a message shown, the shared cache
    down, an answer missing or not fresh, or a read whose value cannot be compared."""
    if response.status_code != 200 or response.streaming or response.cookies or sharedcache.degraded():
        return None
    if _messages_shown(request):
        return None
    compared: list[tuple[str, Any]] = []
    fetched: list[float] = []
    for key, value in reads.items():
        if key.startswith(NAMED_BY_VERSION):
            continue
        if key.startswith(read_cache.READ_PREFIX):
            version = read_cache.answer_version(value)
            if version is None:
                return None  # an answer the page did not find: it asked the upstream, or showed its error
            fetched.append(version[0])
        try:
            compared.append((key, _stamp(value)))
        except fragments.Unversioned:
            return None
    fresh_until = min(fetched, default=math.inf) + settings.UPSTREAM_CACHE_TTL
    if time.time() >= fresh_until:
        return None
    now = timezone.now()
    says_until = min(moments, default=now + timedelta(days=1))
    if says_until <= now:
        return None
    headers = tuple((header, value) for header, value in response.items())
    return _Page(content, headers, tuple(compared), fresh_until, says_until)


def _stamp(value: Any) -> Any:
    """What a key held, to compare: an answer by when it was fetched and its generation (its payload is
    the upstream's as fetched then), anything else as plain data (fragments.versioned)."""
    if value is readahead.MISSING:
        return _MISSING_STAMP
    version = read_cache.answer_version(value)
    if version is not None:
        return ("answer", *version)
    return fragments.versioned(value)


def _messages_shown(request: HttpRequest) -> bool:
    storage = getattr(request, "_messages", None)
    if storage is None or (isinstance(storage, SimpleLazyObject) and storage._wrapped is empty):
        return False
    return len(storage) > 0


@receiver(setting_changed)
def _forget_pages(**kwargs: Any) -> None:
    """A test that changes a setting (a URL, the shop's zone) gets every page afresh."""
    _pages.clear()
