# Two commands matter: `make run` and `make test` (`make check` is its one-minute subset while working).
# Everything else here serves them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 8000
SANDBOX_PORT ?= 8001

.PHONY: help run test check check-tests check-ruff check-mypy lint bench screenshots messages venv venv-dev system-deps clean

help:
	@echo "make run    set up (first time) and start the dashboard on the sandbox at http://127.0.0.1:$(PORT)/"
	@echo "make test   install what the tests need and run the whole suite, then ruff and mypy"
	@echo "make check  the verdict while working (about a minute): every test that needs no browser, worker,"
	@echo "            gunicorn, nginx, sandbox process or PostgreSQL, then ruff and mypy"
	@echo "make bench  measure the dashboard against the raw API (reports, never fails on figures)"
	@echo "make screenshots  refresh the README's pictures in docs/ from the browser tests"
	@echo "make messages  re-extract every marked string into locale/{fr,it} and compile the .mo files"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.runtime-installed
venv-dev: $(VENV)/.dev-installed

# Debian packages the tests drive: a real headless Chromium, a real Redis (the shared upstream budget) and
# a real PostgreSQL server (the database tests run on it as well as on SQLite), nginx (tests/deploy) and
# GNU gettext (tests/i18n runs makemessages). `make run` needs none of them: the compiled .mo files are
# committed.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v xgettext >/dev/null 2>&1 || missing="$$missing gettext"; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing from Debian:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

run: venv
	@$(BIN)/python manage.py migrate --noinput -v 0
	@$(BIN)/python manage.py seed_sandbox --if-empty
	@$(BIN)/python manage.py ensure_demo_staff
	@$(BIN)/python manage.py rundemo --port $(PORT) --sandbox-port $(SANDBOX_PORT)

# Two processes, a test at a time each; tests sharing a costly fixture stay together and the long ones
# go first (tests/conftest.py: SAME_PROCESS, LONG_FIRST).
PYTEST_PARALLEL ?= -n 2 --dist loadgroup --no-loadscope-reorder

test: venv-dev system-deps
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)
	$(BIN)/python -m tests.support.postgres -- $(BIN)/python -m pytest -p tests.support.dbpass -q $(PYTEST_PARALLEL)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The inner ring (`-m "not outer"`, see tests/conftest.py): the upstreams answer inside the test process
# (tests/support/inprocess.py), nothing else is started. `make test` still runs every test.
PYTEST_CHECK ?= -n 2

# ruff and mypy run beside the tests (each one's output shown whole once it is done).
check: venv-dev
	@$(MAKE) --no-print-directory -j3 --output-sync=target check-tests check-ruff check-mypy

check-tests:
	$(BIN)/python -m pytest -m "not outer" -q $(PYTEST_CHECK)

check-ruff:
	$(BIN)/ruff check .

check-mypy:
	$(BIN)/mypy

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: venv-dev system-deps
	@command -v wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
	$(BIN)/python -m bench
	$(BIN)/python -m bench --database postgres --out bench/results/latest-postgres.json
	$(BIN)/python -m bench.bulk
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.reports --database postgres

# The README's pictures, taken by the browser test that checks them (tests/browser/test_layout.py).
screenshots: venv-dev system-deps
	SCREENSHOTS_DIR=docs $(BIN)/python -m pytest tests/browser/test_layout.py tests/browser/test_reports.py -k readme -q -p no:cacheprovider

# The translation catalogues (docs/house-style.md, Translations): every marked string into
# locale/fr and locale/it (new ones with an empty msgstr, to be translated), then compiled to the .mo
# files that are committed beside them. Needs GNU gettext (Debian's `gettext`). The sandbox (the vendor's
# stand-in), the tests and the bench stay English. POT-Creation-Date is dropped: it would make every
# branch's catalogue conflict with every other's.
MESSAGES_IGNORE := -i .venv -i tests -i sandbox -i node_modules -i bench -i staticfiles -i deploy

messages: venv-dev
	@command -v xgettext >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends gettext >/dev/null; }
	$(BIN)/python manage.py makemessages -l fr -l it --no-location --no-obsolete $(MESSAGES_IGNORE)
	sed -i '/^"POT-Creation-Date: /d' locale/*/LC_MESSAGES/django.po
	$(BIN)/python manage.py compilemessages -l fr -l it $(MESSAGES_IGNORE)

clean:
	rm -rf $(VENV) db.sqlite3 sandbox.sqlite3 .demo-secret-key staticfiles
