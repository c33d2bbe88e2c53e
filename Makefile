# ExamGate: `make demo` and `make test` work on a fresh Debian 12 / Raspberry Pi OS with Python 3.11, git and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
PY_SOURCES := edge firmware_bridge tests bench models

.PHONY: demo test lint typecheck unit system-deps system-deps-test clean schemas

$(STAMP): pyproject.toml
	@provisioning/system-deps.sh runtime
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/examgate demo

# The centre's side (docs/central.md): throw-away PostgreSQL + mosquitto, 2 ingest workers + safety net, dashboard, demo gate
.PHONY: central-demo
central-demo: $(STAMP)
	$(BIN)/examgate central demo

system-deps-test:
	@provisioning/system-deps.sh test

lint: $(STAMP)
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

# arm64-smoke (about 2 min) proves the dependencies install and run on the Pi's architecture (see docs/operations.md)
test: $(STAMP) system-deps-test lint typecheck arm64-smoke unit

schemas: $(STAMP)
	$(BIN)/examgate events schema --write

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# arm64 proof on an x86-64 host: debootstrap + qemu-user, no binfmt, no chroot (needs root and network; about
# 1.5-3 min). Not part of `make test`. See docs/operations.md.
.PHONY: arm64-smoke
arm64-smoke: $(STAMP)
	HOST_PYTHON=$(BIN)/python provisioning/arm64-smoke.sh build/arm64
