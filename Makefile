# Switchboard: `make run` to try it, `make test` to check it.
SHELL := /bin/bash
# Empty: the fastest Python 3.11 here (config/choose_python.py); `make PYTHON=...` names one.
PYTHON ?=
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test install install-dev browser wrk bench bench-smoke clean

$(BIN)/python:
	@python="$(PYTHON)"; \
	if [ -z "$$python" ]; then \
	  finder=$$(command -v python3.11 || command -v python3) \
	    || { echo "Switchboard needs Python 3.11: none is on PATH." >&2; exit 1; }; \
	  python=$$("$$finder" config/choose_python.py) || exit 1; \
	fi; \
	"$$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Switchboard needs Python 3.11"' || exit 1; \
	echo "Making $(VENV) with $$python"; \
	"$$python" -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The browser tests drive Debian's chromium (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y chromium || { $$SUDO apt-get update && $$SUDO apt-get install -y chromium; }; }

run: install
	@echo "Preparing the database and static files in $${SWITCHBOARD_DATA_DIR:-var}/ ..."
	@$(BIN)/python manage.py migrate --noinput -v0
	@$(BIN)/python manage.py collectstatic --noinput -v0
	@export LOG_LEVEL=$${LOG_LEVEL:-WARNING} PATH=$(CURDIR)/$(BIN):$$PATH; \
	exec python -m config.supervise Procfile.local \
	  --ready-url http://127.0.0.1:$(PORT)/healthz/deep --then "python manage.py seed_demo" \
	  --banner "Switchboard is running at http://127.0.0.1:$(PORT)  (Ctrl-C stops everything)"

# Two test processes (pytest-xdist), each with its own test database, data folder and Redis database:
# much of the suite waits on real servers, workers and a browser, so two share two cores well.
# PYTEST_WORKERS=0 runs it in this one process.
PYTEST_WORKERS ?= 2
test: install-dev browser wrk
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The webhook-door benchmark drives Debian's wrk (a load generator outside the Python process).
wrk:
	@command -v wrk >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y wrk || { $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }; }

bench: install-dev wrk
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf var staticfiles test-artifacts .pytest_cache
