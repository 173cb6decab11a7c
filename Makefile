# BrightCart analytics pipeline. `make demo` and `make test` set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
export BRIGHTCART_HOME ?= $(CURDIR)/.local
export SQLMESH__DISABLE_ANONYMIZED_ANALYTICS := 1
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CURDIR)/.local/jsii-cache
export PIP_DISABLE_PIP_VERSION_CHECK := 1

PLUGIN_DIRS := $(wildcard extract/target-redshift extract/tap-brightcart-events extract/lane-guards extract/tap-postgres-bulk)
# The local world (generator, emulators, sources, demo): a dev-only distribution of its own.
WORLD_DIR := extract/brightcart-world
SYSTEM_PACKAGES := postgresql-15-wal2json chromium chromium-driver
COMPILED_SOURCES := extract ops/brightcart_ops sqlmesh signals macros bench config.py

.PHONY: help setup system-deps venv meltano-install lint typecheck pytest test test-full demo sources-up sources-down lock bench clean

help:
	@echo "make demo   - run the pipeline end to end on local sources and DuckDB"
	@echo "make test   - lint, type-check and run the test suite against real local services"
	@echo "make test-full - make test plus the longer scenarios and the large reliability size"
	@echo "make bench  - benchmarks (figures, never assertions)"

setup: system-deps venv meltano-install

# Debian packages: wal2json for log-based replication tests, Chromium for dashboard checks.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (install them with apt-get as root)"; fi; \
	fi

venv: $(VENV)/.installed $(VENV)/.compiled

$(VENV)/.installed: requirements/dev.lock pyproject.toml $(wildcard extract/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(BIN)/pip install -q uv==0.13.8
	$(UV) pip install -q --compile-bytecode --python $(BIN)/python -r requirements/dev.lock
	$(UV) pip install -q --compile-bytecode --python $(BIN)/python --no-deps -e . -e $(WORLD_DIR) $(foreach d,$(PLUGIN_DIRS),-e $(d))
	@touch $@

# A venv installed before --compile-bytecode (uv compiles only what it installs) is compiled once.
# Like uv's own compile step, a file that does not compile (a package's Python 2 test data) is
# left to the interpreter, hence the `|| true`.
$(VENV)/.compiled: $(VENV)/.installed
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null || true
	@touch $@

meltano-install: $(VENV)/.meltano-installed

# PYTHONDONTWRITEBYTECODE=1 is set on these machines, so nothing compiles itself on import: the
# venvs install compiled (--compile-bytecode here and in every plugin's pip_url), and our own
# editable sources, which every plugin environment imports, are compiled here once.
$(VENV)/.meltano-installed: $(VENV)/.installed $(VENV)/.compiled meltano.yml requirements/runtime.lock $(wildcard extract/*/pyproject.toml)
	@if [ -f meltano.yml ]; then $(BIN)/meltano install; fi
	$(BIN)/python -m compileall -q -j 0 $(COMPILED_SOURCES) >/dev/null
	@touch $@

lock:
	$(UV) pip compile -q --python $(BIN)/python requirements/dev.in -o requirements/dev.lock
	$(UV) pip compile -q --python $(BIN)/python requirements/runtime.in -o requirements/runtime.lock
	sed -i 's|^#    uv pip compile.*|#    make lock|' requirements/*.lock

# SQL too: `sqlmesh format --check` keeps one keyword and cast style across models and audits
# (config.py's format settings; `sqlmesh format` rewrites them), `sqlmesh lint` runs the project's
# linter rules (linter/rules.py) over every model. Neither touches a warehouse.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/sqlmesh format --check
	$(BIN)/sqlmesh lint

# mypy's cache lives outside the checkout, so a fresh clone on the same machine reuses it (mypy
# checks each file's hash, so a stale entry is never trusted).
export MYPY_CACHE_DIR ?= $(HOME)/.cache/brightcart/mypy

typecheck: venv
	$(BIN)/mypy

# The suite runs on three pytest-xdist workers, one package per work unit so a package's shared
# world is built once (tests/conftest.py). Tests wait on servers, timeouts and subprocesses, so a
# third worker keeps the machine's two cores busy (about 90% of them, against 70% with two);
# PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 3
XDIST = $(if $(filter 0,$(PYTEST_WORKERS)),-p no:xdist,-n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder)

pytest: setup
	@$(BIN)/pytest $(XDIST) $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo 'no tests collected'; rc=0; fi; exit $$rc

test: setup lint typecheck pytest

# Everything `make test` runs, plus the longer scenarios (marked `full`) and the reliability suite
# at its large size. See the README's Tests section for what each adds and how long it takes.
test-full: setup lint typecheck
	BRIGHTCART_RELIABILITY_LARGE=1 $(BIN)/pytest $(XDIST) -m 'full or not full' $(PYTEST_ARGS)

demo: setup
	$(BIN)/brightcart demo

sources-up: setup
	$(BIN)/brightcart sources up

sources-down: venv
	$(BIN)/brightcart sources down

bench: setup
	$(BIN)/python -m bench

clean:
	-$(BIN)/brightcart sources down
	rm -rf .local .meltano/run .meltano/logs
