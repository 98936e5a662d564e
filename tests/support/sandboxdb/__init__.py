"""The database engine of the in-process sandbox's alias (tests/support/inprocess.py): SQLite, open to the
threads that serve the sandbox whatever pytest-django allows the test itself."""
