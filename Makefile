# OùRA — two commands on a fresh machine with Python 3.11+:
#   make run    install, start the embedded database, migrate, ingest the feeds, serve on :8080
#   make test   install with test extras and run the whole suite
# and, while working: make test-fast   the unit tier only (no database, no server; under 30 s)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS := --disable-pip-version-check --quiet

.PHONY: run test test-fast install install-test lock bench clean site

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade "pip>=24"

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install $(PIP_FLAGS) -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install $(PIP_FLAGS) -c constraints.txt -e '.[test]'
	infra/ci/install-browser.sh
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/oura serve

# Bytecode (and pytest's rewritten test modules) is cached in __pycache__ even where the
# environment sets PYTHONDONTWRITEBYTECODE: collecting the suite drops from ~11 s to ~4 s.
test: install-test
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest

# Tiers (unit, db, http, slow) are assigned in tests/conftest.py.
test-fast: install-test
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -m "unit and not slow"

# Rebuild the traveller site's bundle (traveller_site/static/dist, committed) from traveller_site/web.
site:
	cd traveller_site/web && npm ci --no-audit --no-fund --loglevel=error && node build.mjs

# Refresh the lock file after changing dependencies in pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[test,bench]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

bench: install-test
	$(BIN)/python -m pip install $(PIP_FLAGS) -c constraints.txt -e '.[test,bench]'
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
