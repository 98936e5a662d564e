"""Reading a page's form as a browser would send it."""

import re


def form_values(html: str) -> dict[str, str]:
    """The named inputs of the page's download-record form with their values, as a browser would send."""
    form = re.search(r'<form[^>]*method="post" action="/downloads/[^>]*>(.*?)</form>', html, re.S)
    assert form, "no POST form on the page"
    values: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form.group(1)):
        name = re.search(r'name="([^"]*)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) == "checkbox":
            if "checked" in tag:
                values[name.group(1)] = "on"
            continue
        if " disabled" in tag:
            continue
        values[name.group(1)] = (value.group(1) if value else "").replace("&quot;", '"').replace("&amp;", "&")
    return values
