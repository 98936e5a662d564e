"""Rendered template fragments cached by the version of what they show (issue 28).

A fragment's key is a hash of everything it is rendered from: the data it shows (a record as the
upstream answered it, with every field), what the page adds to it (a product name, a known limit and its
"3 days ago"), who looks and how (their permissions, time zone and language), the URL prefix its links
start with, and the code that renders it (the template's source and the project's code as deployed).
Nothing is ever invalidated and nothing waits for a timeout to be right: when any input changes the key
changes, so a fragment can neither outlive its data nor reach a person who would see it otherwise.

The CSRF token, the one thing in a fragment that is each person's own, is never stored: a fragment is
rendered and kept with a placeholder, and the request's token goes in on the way out.

A page's fragments are read with one `get_many` (none on a page whose first read read them ahead:
fileflare_admin.readahead) and the missing ones written with one `set_many`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import Model
from django.template import Context
from django.template.base import Template
from django.urls import get_script_prefix
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from fileflare_admin import readahead

V = TypeVar("V")

PREFIX = "fragment:"
TIMEOUT = 3600  # only to let unused fragments go: a fragment is never wrong while it is kept
# Alphanumeric, so it survives escaping unchanged and is never a real token (those are 64 characters).
CSRF_PLACEHOLDER = "fragmentcsrftokenplaceholder"


def data_version(value: object) -> tuple[Any, ...] | None:
    """A dataclass's every field (those left out of its repr too, such as a record's S3 key), with its
    type: the version of the data it carries. None for anything else (it is then not cached)."""
    names = _dataclass_fields(type(value))  # None for a dataclass type itself (its type is `type`)
    if names is None:
        return None
    return (type(value).__qualname__, *(getattr(value, name) for name in names))


# A frozen dataclass of plain values (a download record parsed once per process from a saved answer,
# fileflare_admin.api.downloads) never changes: its version is hashed once, kept with the object itself
# (so its id is not reused while kept), the least recently hashed dropped past DIGESTS_MAX.
DIGESTS_MAX = 4096
_digests: dict[int, tuple[object, str]] = {}
_digests_lock = threading.Lock()


def data_digest(value: object) -> str | None:
    """A hash of data_version(value) (None where that is None), computed once per object for a frozen
    dataclass whose every field is a plain immutable value, on each call for any other."""
    held = _digests.get(id(value))
    if held is not None and held[0] is value:
        return held[1]
    data = data_version(value)
    if data is None:
        return None
    digest = hashlib.sha256(repr(data).encode()).hexdigest()
    params = getattr(type(value), "__dataclass_params__", None)  # what @dataclass was given (frozen=…)
    frozen = params is not None and params.frozen
    if frozen and all(type(item) in _EXACTLY_PLAIN for item in data[1:]):
        with _digests_lock:
            _digests[id(value)] = (value, digest)
            while len(_digests) > DIGESTS_MAX:
                del _digests[next(iter(_digests))]
    return digest


class Unversioned(TypeError):
    """A value `versioned` cannot name exactly (an object whose repr may not say what it holds)."""


_PLAIN = (str, int, float, bool, bytes, datetime, date, time, timedelta, Decimal, type(None))
_EXACTLY_PLAIN = frozenset(_PLAIN)


_fields_by_type: dict[type, tuple[str, ...] | None] = {}


def _dataclass_fields(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type; None for any other type (asked once per type)."""
    if kind not in _fields_by_type:
        dataclass = dataclasses.is_dataclass(kind)
        _fields_by_type[kind] = tuple(field.name for field in dataclasses.fields(kind)) if dataclass else None
    return _fields_by_type[kind]


def versioned(value: object) -> Any:
    """`value` as plain data that names all of it: dataclasses with every field (nested ones too), lists,
    tuples, dicts and sets of them, lazy translations as their text in the active language. Raises
    Unversioned for anything else (its repr might be an address, or leave out what it shows)."""
    kind = type(value)
    if kind in _EXACTLY_PLAIN:  # the common case first: an order page's parts name ~800 values a load
        return value
    names = _dataclass_fields(kind)
    if names is not None:
        return (kind.__qualname__, *[versioned(getattr(value, name)) for name in names])
    if isinstance(value, list | tuple):
        return tuple([versioned(item) for item in value])
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return tuple([(versioned(key), versioned(item)) for key, item in value.items()])
    if isinstance(value, set | frozenset):
        return ("set", *sorted([versioned(item) for item in value], key=repr))
    raise Unversioned(kind.__qualname__)


def model_version(instance: Model) -> tuple[Any, ...]:
    """A model instance's every stored field, with its model: the version of the row it was read from."""
    meta = instance._meta
    return (meta.label, *(getattr(instance, field.attname) for field in meta.concrete_fields))


def viewer(context: Context) -> tuple[str, str, str]:
    """Who looks and how: their permissions (`may`: role, label, count step), time zone and language."""
    may = context.get("may")
    if callable(may):
        may = may()
    return (repr(may), timezone.get_current_timezone_name(), translation.get_language() or "")


def _rendered_for(template: Template, context: Context) -> tuple[Any, ...]:
    """What every kept fragment's key names besides its own data: the template and the code, the viewer,
    and the URL prefix its links start with (the script's, when served under a path)."""
    return (_template_version(template), viewer(context), get_script_prefix())


SKIPPED_FOLDERS = {"tests", "node_modules", "static", "staticfiles", "media", "docs"}


@functools.cache
def code_version() -> str:
    """The dashboard's code as this process runs it: every .py, .html and compiled catalogue (.mo) file
    of the project (its path, size and modification time), hashed once per process. A deploy that changes
    any of them (a template, a filter, a URL, a sentence, a translation) renders every fragment afresh,
    though the shared cache outlives it."""
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(name for name in folders if name[0] != "." and name not in SKIPPED_FOLDERS)
        for name in sorted(files):
            if name.endswith((".py", ".html", ".mo")):
                path = Path(folder, name)
                stat = path.stat()
                digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def _template_version(template: Template) -> str:
    """The template's own source (exact) and the project's code (code_version)."""
    return _source_version(template.source) + code_version()


@functools.lru_cache(maxsize=256)
def _source_version(source: str) -> str:
    """Hashed once per source (the cached template loader keeps one string per template: a page's seven
    fragments hashed theirs on every load)."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def render_many(
    context: Context,
    template_name: str,
    items: Iterable[tuple[Any, Mapping[str, Any]]] | Callable[[], Iterable[tuple[Any, Mapping[str, Any]]]],
    *,
    own: Mapping[str, str] | None = None,
    whole: Any = None,
) -> SafeString:
    """`template_name` rendered once for each item, as `{% include %}` would with the item's values
    pushed onto `context`; each rendering cached under a key made from the item's `version` (everything
    the item's values hold that the template shows: None renders it uncached) and the viewer.

    `items`: (version, values) pairs. The caller names the whole of what a fragment shows in `version`:
    the template sees the page's context too, and anything it reads from there must be in it.
    `own`: values each rendering has afresh, as the CSRF token (a form's one-time token): the template
    reads each by its name, the fragment keeps a placeholder, and the value goes in on the way out.
    `whole`: the version of all the renderings together (it names everything each item's version does):
    they are also kept as one fragment under it, and a page that finds it reads one value, not one an
    item, and does not ask for `items` (a callable: made only then)."""
    template = context.template.engine.get_template(template_name) if context.template else None
    if template is None:
        raise ValueError("render_many needs a context being rendered by a template")
    token = context.get("csrf_token")
    cacheable = _cacheable(context)
    prefix = _rendered_for(template, context) if cacheable else None
    whole_key = None
    if prefix is not None and whole is not None:
        whole_key = PREFIX + hashlib.sha256(repr((prefix, "whole", whole)).encode()).hexdigest()
    # Kept in this process (a warm page of 100 rows: no 200 KB through the shared cache); else, inside a
    # page's readahead scope, the keys it had last time were read with its first read; else the whole and
    # each item's rendering are read in one round trip (the items named now: they are rendered if the
    # whole is not found).
    page = _near.get(whole_key) if whole_key else None
    listed = None
    if page is None and whole_key and prefix is not None:
        if not readahead.peek(whole_key)[0]:
            listed = list(items() if callable(items) else items)
            named = [_key(prefix, version) for version, _ in listed if version is not None]
            readahead.read_ahead([whole_key, *named])
        page = readahead.get_many([whole_key]).get(whole_key)
    fresh = {"csrf_token": token, **(own or {})}
    placeholders = {name: _placeholder(name) for name in fresh} if cacheable else {}
    if page is None:
        if listed is None:
            listed = list(items() if callable(items) else items)
        page = _render_items(context, template, prefix, listed, placeholders or fresh)
        if whole_key:
            readahead.set_later({whole_key: page}, TIMEOUT)
    if whole_key:
        _near.keep(whole_key, page)
    for name, placeholder in placeholders.items():
        page = page.replace(placeholder, escape(str(fresh[name])))
    return mark_safe(page)  # noqa: S308  # each piece is a template's own autoescaped output


def _cacheable(context: Context) -> bool:
    """Whether what this context renders is kept: with a CSRF token to put in on the way out, and not with
    DEBUG (a template edited while the server runs is reloaded without a restart: nothing is kept)."""
    token = context.get("csrf_token")
    return bool(token) and str(token) != "NOTPROVIDED" and not settings.DEBUG


def _key(prefix: tuple[Any, ...], version: Any) -> str:
    return PREFIX + hashlib.sha256(repr((prefix, version)).encode()).hexdigest()


def read_ahead(context: Context, renderings: Iterable[tuple[str, Any]]) -> None:
    """The fragments render_many will look for, one for each (template name, version), read in one round
    trip now (fileflare_admin.readahead) rather than one each as they are rendered: a page's parts."""
    if context.template is None or not _cacheable(context):
        return
    engine = context.template.engine
    readahead.read_ahead(
        [_key(_rendered_for(engine.get_template(name), context), version) for name, version in renderings]
    )


def _render_items(
    context: Context,
    template: Template,
    prefix: tuple[Any, ...] | None,
    items: Iterable[tuple[Any, Mapping[str, Any]]],
    pushed: Mapping[str, Any],
) -> str:
    """render_many's renderings, each read from the cache or rendered and kept (`prefix` None: none kept)."""
    entries = []
    for version, values in items:
        key = _key(prefix, version) if prefix is not None and version is not None else None
        entries.append((key, values))
    found = readahead.get_many([key for key, _ in entries if key]) if prefix is not None else {}
    rendered, missing = [], {}
    for key, values in entries:
        html = found.get(key) if key else None
        if html is None:
            with context.push(**pushed, **values):
                html = str(template.render(context))
            if key:
                missing[key] = html
        rendered.append(html)
    if missing:
        readahead.set_later(missing, TIMEOUT)
    return "".join(rendered)


class Near(Generic[V]):
    """Values kept in this process's memory by a key that names everything they were made from (so never
    wrong), up to `most` in all by `weight` (characters, for rendered HTML), the least recently used
    dropped first. Only a value weighing at least `least` and at most a quarter of `most`: render_many's
    `whole` renderings (a small table costs little through the shared cache, and a page whose shared cache
    was emptied renders its small tables afresh, as every other part of it) and whole pages
    (fileflare_admin.kept_pages)."""

    def __init__(self, most: int, least: int = 0, weight: Callable[[Any], int] = len) -> None:
        self.most = most
        self.least = least
        self.weight = weight
        self.held: OrderedDict[str, V] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self.lock:
            value = self.held.get(key)
            if value is not None:
                self.held.move_to_end(key)
            return value

    def keep(self, key: str, value: V) -> None:
        weight = self.weight(value)
        if not self.least <= weight <= self.most // 4:  # the shared cache's alone
            return
        with self.lock:
            old = self.held.pop(key, None)
            if old is not None:
                self.size -= self.weight(old)
            self.held[key] = value
            self.size += weight
            while self.size > self.most:
                self.size -= self.weight(self.held.popitem(last=False)[1])

    def clear(self) -> None:
        with self.lock:
            self.held.clear()
            self.size = 0


# About 12 tables of 100 rows (ASCII: a byte a character): under 4 MB a worker even at two bytes a character.
NEAR_CHARS = 2_000_000
# About 10 rows of the records table: below it, one read of the shared cache is cheap.
NEAR_LEAST = 20_000
_near: Near[str] = Near(NEAR_CHARS, NEAR_LEAST)


def _placeholder(name: str) -> str:
    """What a fragment keeps instead of an `own` value: alphanumeric (it survives escaping unchanged)."""
    if name == "csrf_token":
        return CSRF_PLACEHOLDER
    return "fragmentown" + hashlib.sha256(name.encode()).hexdigest()[:24]


# Fragments every page shows (the page frame's header) are kept in the process's own memory: no round trip
# to the shared cache. Keyed as render_many's, by everything they show, so nothing in it is ever wrong;
# the least recently used go first.
KEPT_MAX = 512
_kept: OrderedDict[str, str] = OrderedDict()
_kept_lock = threading.Lock()


def render_kept(
    context: Context, template_name: str, version: tuple[Any, ...], *, own: Mapping[str, str] | None = None
) -> SafeString:
    """`template_name` rendered with the page's context (as `{% include %}`), kept in this process under a
    key made from `version` (everything the template reads from the context that `viewer` does not
    name: the caller names the whole of it), the viewer, the URL prefix and the code (render_many's rules).
    `own`: values each rendering has afresh, as render_many's (the CSRF token always is one)."""
    template = context.template.engine.get_template(template_name) if context.template else None
    if template is None:
        raise ValueError("render_kept needs a context being rendered by a template")
    token = context.get("csrf_token")
    fresh = {"csrf_token": token, **(own or {})}
    if not _cacheable(context):
        with context.push(**fresh):
            return mark_safe(template.render(context))  # noqa: S308  # the template's own autoescaped output
    key = hashlib.sha256(repr((_rendered_for(template, context), version)).encode()).hexdigest()
    with _kept_lock:
        html = _kept.get(key)
        if html is not None:
            _kept.move_to_end(key)
    if html is None:
        with context.push(**{name: _placeholder(name) for name in fresh}):
            html = str(template.render(context))
        with _kept_lock:
            _kept[key] = html
            while len(_kept) > KEPT_MAX:
                _kept.popitem(last=False)
    for name, value in fresh.items():
        html = html.replace(_placeholder(name), escape(str(value)))
    return mark_safe(html)  # noqa: S308  # as above
