# eol-station — two commands on a fresh clone:
#   make demo   create .venv, install, run a simulated EOL test of one pack
#   make test   create .venv if needed, lint, run the whole suite, smoke-test the wheel
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

# Debian/Ubuntu packages Qt needs offscreen (libEGL/libGL, xkbcommon, fontconfig, a font).
QT_DEBS := libegl1 libgl1 libopengl0 libxkbcommon0 libfontconfig1 libfreetype6 \
           libglib2.0-0 libdbus-1-3 fonts-dejavu-core

DEMO_SERIAL ?= NM96A0000001
DEMO_DB ?= results/demo.db

.PHONY: help venv qt-deps lint test demo screenshots translations bench clean

help:
	@echo "make demo | make test | make lint | make screenshots | make translations | make bench | make clean"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

qt-deps:
	@missing=""; \
	if command -v dpkg >/dev/null 2>&1; then \
	  for p in $(QT_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Qt system libraries:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Qt needs these system packages, which are missing:$$missing"; \
	    echo "install them with: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pytest in parallel, one worker per core (pytest-xdist); then, alone, the tests that load
# every core on purpose (marker `exclusive`), so that load never meets a wall-clock bound.
test: $(STAMP) qt-deps lint
	$(BIN)/pytest -q -p no:cacheprovider -n auto -m "not exclusive"
	$(BIN)/pytest -q -p no:cacheprovider -m exclusive
	$(BIN)/python .ci/wheel_smoke.py

demo: $(STAMP)
	$(BIN)/station run sequences/nmc96s/eol.toml --serial $(DEMO_SERIAL) --sim --yes --db $(DEMO_DB)

# The screens' translations: collect every tr()/translate() text of ui/ into the .ts sources
# (new texts come in unfinished: translate them, e.g. with pyside6-linguist), then compile
# the .qm the UI loads. Both are committed; tests/ui/test_translations.py checks they agree.
TS := $(wildcard ui/translations/station_*.ts)
translations: $(STAMP)
	$(BIN)/pyside6-lupdate -no-obsolete -locations none ui/*.py -ts $(TS)
	for ts in $(TS); do $(BIN)/pyside6-lrelease -silent $$ts -qm $${ts%.ts}.qm; done

screenshots: $(STAMP) qt-deps
	$(BIN)/python -m ui.screenshots

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache results
