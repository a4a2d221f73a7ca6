# icdev: two commands for a fresh machine (see README.md).
#   make run   - portal with demo data on SQLite and an embedded broker, plus Celery worker and beat
#   make test  - the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CONSTRAINTS := requirements/constraints.txt
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n 2

.PHONY: run test install install-dev lint migrate demo lock check ci clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml $(CONSTRAINTS)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	ICDEV_ENV=development $(PY) manage.py migrate --noinput

demo: migrate
	ICDEV_ENV=development $(PY) manage.py load_demo

run: demo
	ICDEV_ENV=development $(PY) manage.py serve_all --host $(HOST) --port $(PORT)

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

check: install-dev
	ICDEV_ENV=development $(PY) manage.py makemigrations --check --dry-run
	ICDEV_ENV=development $(PY) manage.py check_frameworks

# Regenerate the pinned constraints from a fresh resolve of pyproject.toml's bounds.
lock:
	rm -rf /tmp/icdev-lock && $(PYTHON) -m venv /tmp/icdev-lock
	/tmp/icdev-lock/bin/pip install --quiet -e ".[dev]"
	/tmp/icdev-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > $(CONSTRAINTS)

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var
