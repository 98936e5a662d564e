"""The page frame's header (templates/_site_header.html), kept per process by what it shows (issue 28)."""

from django import template
from django.template import Context
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.safestring import SafeString

from fileflare_admin import fragments

register = template.Library()
HEADER = "_site_header.html"


@register.simple_tag(takes_context=True)
def site_header(context: Context) -> SafeString:
    """Everything the header reads, besides the viewer (permissions, zone, language) and the code: the
    person's name, the page's path and view (the current link, the search box's live search), the search
    query, the sandbox banner, the zone's abbreviation now (summer and winter time) and the URL prefix."""
    request = context["request"]
    match = request.resolver_match
    version = (
        request.user.get_username(),
        request.path,
        get_script_prefix(),
        (match.app_name, match.url_name, match.view_name) if match else None,
        context.get("search_query"),
        context.get("demo_mode"),
        timezone.localtime().tzname(),
    )
    return fragments.render_kept(context, HEADER, version)
