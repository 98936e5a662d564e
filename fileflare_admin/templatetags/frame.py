"""The page frame (templates/base.html): its header (templates/_site_header.html), kept per process by what
it shows, and its own files' addresses, worked out once per process (issue 28)."""

import functools
from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context
from django.template.defaultfilters import urlencode
from django.templatetags.static import static
from django.utils import timezone
from django.utils.safestring import SafeString

from fileflare_admin import fragments

register = template.Library()
HEADER = "_site_header.html"


@register.simple_tag(takes_context=True)
def site_header(context: Context) -> SafeString:
    """Everything the header reads, besides the viewer (permissions, zone, language), the code and the URL
    prefix (fileflare_admin.fragments names those): the person's name, the page's view (the current link,
    the search box's live search), the search query, the sandbox banner and the zone's abbreviation now
    (summer and winter time). The page's path, which its time zone and language links come back to, goes
    in on the way out (`here`): one header is kept for every order's page, not one per order (issue 28: a
    page opened the first time rendered it afresh)."""
    request = context["request"]
    match = request.resolver_match
    version = (
        request.user.get_username(),
        (match.app_name, match.url_name, match.view_name) if match else None,
        context.get("search_query"),
        context.get("demo_mode"),
        timezone.localtime().tzname(),
    )
    return fragments.render_kept(context, HEADER, version, own={"here": urlencode(request.path)})


@register.simple_tag
def frame_static(path: str) -> str:
    """`{% static %}` for the frame's own files (its icon, style sheet and script), asked of the storage
    once per process: their collected names (with the content's hash) are read from the manifest when the
    process starts and stay until it stops. With DEBUG, files are served from the source folders and
    their addresses are asked afresh every time."""
    return static(path) if settings.DEBUG else _static(path)


@functools.cache
def _static(path: str) -> str:
    return static(path)


@receiver(setting_changed)
def _forget_static(setting: str, **kwargs: Any) -> None:
    """A test that changes where static files live (STATIC_URL, STORAGES) gets addresses afresh."""
    if setting.startswith("STATIC") or setting == "STORAGES":
        _static.cache_clear()
