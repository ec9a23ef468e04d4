# Tend's two commands: `make demo` (install, migrate, load the demo, serve) and `make test`.
# Every target is safe to run again: installs happen only when pyproject.toml changes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k accounts -x"`.
PYTEST_ARGS ?=
# Two workers halve the suite's time on a two-core machine; set PYTEST_WORKERS=0 for one process.
PYTEST_WORKERS ?= 2

.PHONY: help demo serve test lint chromium install install-test clean

help:
	@echo "make demo   install, migrate, build the Demo workspace and serve it on http://127.0.0.1:$${PORT:-8000}"
	@echo "make test   install test tools and Chromium, run the whole suite (browser tests included)"
	@echo "make lint   ruff, import-linter and a check for missing migrations"
	@echo "make serve  serve without rebuilding the demo"
	@echo "make clean  remove the virtualenv, caches and test databases (keeps ./data)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps record that the venv holds what pyproject.toml asks for; editing it reinstalls.
# -qq: the machine's extra package indexes make pip warn about every package they lack.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing Tend into $(VENV)"
	$(BIN)/python -m pip install -qq -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "Installing Tend and its test tools into $(VENV)"
	$(BIN)/python -m pip install -qq -e '.[test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/tend manage migrate --no-input
	$(BIN)/tend demo
	@echo "Starting Tend on http://127.0.0.1:$${PORT:-8000} (Ctrl-C stops it)"
	@PORT=$${PORT:-8000} exec $(BIN)/tend serve

serve: install
	$(BIN)/tend manage migrate --no-input
	@PORT=$${PORT:-8000} exec $(BIN)/tend serve

# Browser tests drive Debian's Chromium; without it they would prove nothing, so say so and stop.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; \
	    exit 1; \
	  fi; \
	fi

test: install-test chromium
	$(BIN)/python -m pytest $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS)) $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/tend manage makemigrations --check --dry-run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f data/test.sqlite3* data/test_*.sqlite3*
