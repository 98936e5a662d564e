"""A worker made ready before its first request (issue 28): the first page a worker served compiled every
template it used, loaded the URL patterns and the language catalogues and hashed the project's files
(fragments.code_version): 120 ms against 80 for the next cold order page, and a few pages more before the
worker's figures settled. fileflare_admin.wsgi calls `warm()` once the application is loaded, in each
worker process."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.template.backends.django import DjangoTemplates
from django.urls import get_resolver
from django.utils import translation

from fileflare_admin import fragments

logger = logging.getLogger("fileflare_admin")


def template_names() -> list[str]:
    """Every template of the project and its apps, as `get_template` names it."""
    names: set[str] = set()
    for backend in engines.all():
        if not isinstance(backend, DjangoTemplates):
            continue
        for loader in backend.engine.template_loaders:
            for folder in _folders(loader):
                root = Path(folder)
                if root.is_dir() and _ours(root):
                    names.update(str(path.relative_to(root)) for path in root.rglob("*.html"))
    return sorted(names)


def _ours(folder: Path) -> bool:
    """A folder of the project's own (not of an installed package's, which may sit inside it)."""
    base = Path(settings.BASE_DIR).resolve()
    resolved = folder.resolve()
    return resolved.is_relative_to(base) and not any(
        part.startswith(".") or part == "site-packages" for part in resolved.relative_to(base).parts
    )


def _folders(loader: object) -> list[str]:
    inner = getattr(loader, "loaders", None)  # the cached loader wraps the others
    if inner is not None:
        return [folder for each in inner for folder in _folders(each)]
    get_dirs = getattr(loader, "get_dirs", None)
    return [str(folder) for folder in get_dirs()] if get_dirs is not None else []


def warm() -> float:
    """Compile every template (the cached loader keeps them), build the URL patterns' lookups, load each
    language's catalogue and hash the project's files; returns the seconds it took. Nothing here may stop
    the worker: what fails is done by the first page that needs it, as before."""
    started = time.perf_counter()
    try:
        engine = engines["django"]
        for name in template_names():
            try:
                engine.get_template(name)
            except (TemplateDoesNotExist, TemplateSyntaxError):  # a partial meant for another engine
                continue
        resolver = get_resolver()
        resolver.reverse_dict  # noqa: B018  # built on first use, then kept
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                translation.gettext("Orders")
        fragments.code_version()
    except Exception:  # the first request does it instead
        logger.exception("Warming the worker up failed; its first page will do it")
    return time.perf_counter() - started
