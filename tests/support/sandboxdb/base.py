"""SQLite for the in-process sandbox's own database.

pytest-django guards the dashboard's database by replacing `BaseDatabaseWrapper.ensure_connection` for
every alias while a test has not asked for the database. The sandbox's database is not the dashboard's:
a real sandbox process would reach it whatever the test asked for, so this engine connects on its own
terms (the same body as Django's, not looked up on the patched base class).
"""

from django.db.backends.sqlite3 import base
from django.db.utils import ProgrammingError


class DatabaseWrapper(base.DatabaseWrapper):
    def ensure_connection(self) -> None:
        if self.connection is None:
            if self.in_atomic_block and self.closed_in_transaction:
                raise ProgrammingError("Cannot open a new connection in an atomic block.")
            with self.wrap_database_errors:
                self.connect()
