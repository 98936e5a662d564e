"""A signed-in person read with their session: one query for both, before every page (issue 28).

Django reads a signed-in request's session (django_session), then its account (auth_user): two queries
before any view, each compiled by the ORM. `SessionStore` (SESSION_ENGINE: Django's database sessions)
reads the session's row joined with the row of the account this process last saw that session belong to,
in one plain query; `PersonBackend` (AUTHENTICATION_BACKENDS) gives that row to django.contrib.auth's
get_user, which checks it exactly as before: an inactive account, or a session whose hash no longer
matches the password (signed out or changed elsewhere), ends on this request. The row read with the
session is used only when it is the account the session names, read in this request: a wrong or missing
guess (the session's first request in this process) costs the usual second query, never the wrong person.
"""

from __future__ import annotations

import contextvars
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

BACKEND = "fileflare_admin.sessions.PersonBackend"
# Sessions signed in before PersonBackend (which is Django's, reading less) name Django's: read as ours.
DJANGO_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Which account each session belongs to, as this process last read it: the guess that lets the session's
# query read the account too. A session key never changes hands (signing in gives a new key), and a guess
# is checked against the session itself; the least recently used go first.
OWNERS_KEPT = 20_000
_owners: OrderedDict[str, Any] = OrderedDict()
_owners_lock = threading.Lock()


def _remember_owner(session_key: str, user_id: Any) -> None:
    with _owners_lock:
        _owners[session_key] = user_id
        _owners.move_to_end(session_key)
        while len(_owners) > OWNERS_KEPT:
            _owners.popitem(last=False)


# Per database connection (each thread has its own): the query and the account columns' converters.
_Plan = tuple[str, list[str], list[tuple[int, list[Callable[..., Any]], Any]]]
_plans: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _Plan] = weakref.WeakKeyDictionary()
_plans_lock = threading.Lock()


def _plan(connection: BaseDatabaseWrapper, session_model: type[Model], user_model: type[Model]) -> _Plan:
    plan = _plans.get(connection)
    if plan is not None:
        return plan
    quote = connection.ops.quote_name
    fields = user_model._meta.concrete_fields
    users = user_model._meta.db_table
    columns = ", ".join(f"u.{quote(str(field.column))}" for field in fields)
    sql = (  # names from the models, quoted; every value a parameter
        f"SELECT s.{quote('session_data')}, {columns} FROM {quote(str(session_model._meta.db_table))} s "  # noqa: S608
        f"LEFT JOIN {quote(users)} u ON u.{quote(str(user_model._meta.pk.column))} = %s "
        f"WHERE s.{quote('session_key')} = %s AND s.{quote('expire_date')} > %s"
    )
    converters = []  # what the ORM does to each value it reads (SQLite's dates are text, say)
    for index, field in enumerate(fields):
        column = field.get_col(users)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, found, column))
    plan = (sql, [field.attname for field in fields], converters)
    with _plans_lock:
        _plans[connection] = plan
    return plan


class SessionStore(db.SessionStore):
    """Django's database sessions, each read with the account it belongs to (`person`)."""

    person: User | None = None  # the account the session names, read with it; None: not read

    def load(self) -> dict[str, Any]:
        session_model = self.model
        user_model = auth.get_user_model()
        alias = router.db_for_read(session_model)
        key = self.session_key
        if key is None or router.db_for_read(user_model) != alias:
            return super().load()
        connection = connections[alias]
        sql, attnames, converters = _plan(connection, session_model, user_model)
        with _owners_lock:
            guess = _owners.get(key)
            if guess is not None:
                _owners.move_to_end(key)
        with connection.cursor() as cursor:
            cursor.execute(sql, [guess, key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # expired or unknown, as Django's
            return {}
        data = self.decode(row[0])
        if data.get(BACKEND_SESSION_KEY) == DJANGO_BACKEND:
            data[BACKEND_SESSION_KEY] = BACKEND
        owner = data.get(SESSION_KEY)
        if owner is None:
            return data
        values = list(row[1:])
        for index, found, column in converters:
            for converter in found:
                values[index] = converter(values[index], column, connection)
        pk = user_model._meta.pk.to_python(owner)
        if guess is not None and guess == pk and values[attnames.index(user_model._meta.pk.attname)] == pk:
            self.person = user_model.from_db(alias, attnames, values)
        else:
            _remember_owner(key, pk)
        return data

    def save(self, must_create: bool = False) -> None:
        super().save(must_create)
        owner = getattr(self, "_session_cache", {}).get(SESSION_KEY)
        if owner is not None and self.session_key is not None:
            _remember_owner(self.session_key, auth.get_user_model()._meta.pk.to_python(owner))


_read_with = contextvars.ContextVar[SessionStore | None]("read_with", default=None)


class PersonBackend(ModelBackend):
    """Django's ModelBackend, which takes the account read with the session (SessionStore) instead of
    asking for it again. Everything else, signing in included, is Django's."""

    def get_user(self, user_id: Any) -> Any:
        store = _read_with.get()
        person = store.person if store is not None else None
        if person is not None and str(person.pk) == str(user_id):
            return person if self.user_can_authenticate(person) else None
        return super().get_user(user_id)


class PersonMiddleware:
    """Before Django's AuthenticationMiddleware: while the request runs, PersonBackend may take the account
    its session was read with (Django's `request.user` is read through it, lazily, as ever)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        store = getattr(request, "session", None)
        token = _read_with.set(store if isinstance(store, SessionStore) else None)
        try:
            return self.get_response(request)
        finally:
            _read_with.reset(token)
