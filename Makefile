# youasked: `make demo` runs the demo, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.8
# Two package sets: the runtime (what the pipeline, the API and the demo import: no PyTorch) and
# the full set (the runtime, PyTorch and sentence-transformers, rocksdict for the persistent table
# store, and the test and lint tools).
RUNTIME_LOCK := requirements-runtime.lock
FULL_LOCK := requirements.lock
RUNTIME_STAMP := $(VENV)/.installed-runtime
FULL_STAMP := $(VENV)/.installed-full

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# $(call sync,LOCK): create .venv if needed, install exactly LOCK's packages (removing others), then
# the project itself. The stamps say which set .venv holds; each sync removes the other's stamp.
define sync
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(UV) pip sync --python $(BIN)/python $(1)
	$(UV) pip install --python $(BIN)/python --no-deps -e .
endef

$(FULL_STAMP): $(FULL_LOCK) pyproject.toml
	$(call sync,$(FULL_LOCK))
	rm -f $(RUNTIME_STAMP)
	touch $@

# A current full set holds the runtime set (the runtime lock is resolved within the full one), so
# the demo keeps it rather than uninstalling PyTorch; otherwise .venv gets the runtime set alone.
$(RUNTIME_STAMP): $(RUNTIME_LOCK) $(FULL_LOCK) pyproject.toml
	@if [ -f $(FULL_STAMP) ] && [ -z "$$(find $^ -newer $(FULL_STAMP))" ]; then \
		echo "$(VENV) holds the full package set, which includes the runtime set"; \
		touch $@; else $(MAKE) --no-print-directory install-runtime; fi

install: $(RUNTIME_STAMP) ## Create .venv with the runtime package set (what the demo needs; no PyTorch)

install-runtime: ## Install exactly the runtime package set into .venv (removes PyTorch if there)
	$(call sync,$(RUNTIME_LOCK))
	rm -f $(FULL_STAMP)
	touch $(RUNTIME_STAMP)

install-dev: $(FULL_STAMP) ## Create .venv with the full package set: runtime, PyTorch, test and lint tools

lock: ## Re-resolve both locks from pyproject.toml (the runtime one within the full one)
	$(UV) pip compile -q pyproject.toml --extra dev --extra torch --extra rocksdb --python-version 3.11 -o $(FULL_LOCK)
	$(UV) pip compile -q pyproject.toml --override requirements-runtime.overrides -c $(FULL_LOCK) \
		--python-version 3.11 -o $(RUNTIME_LOCK)

kafka-start: $(RUNTIME_STAMP) ## Start the local Kafka broker (fetches the jars the first time)
	$(BIN)/youasked kafka start

kafka-stop: $(RUNTIME_STAMP) ## Stop the local Kafka broker
	$(BIN)/youasked kafka stop

demo: $(RUNTIME_STAMP) ## Run the demo: broker, worker, replay of the bundled sample, summary
	$(BIN)/youasked demo

lint: $(FULL_STAMP) ## ruff, mypy --strict and the import contracts
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(FULL_STAMP) ## Lint, then every test: unit, property and against the real broker
	$(MAKE) lint
	$(BIN)/python -m pytest

chart: $(FULL_STAMP) ## Lint and render the Helm chart (builds helm from its Go module once, into .cache/tools)
	$(BIN)/python -m pytest -q tests/deploy

clean: ## Remove local state (broker data, worker state); keeps .venv and the jar cache
	-$(BIN)/youasked kafka stop
	rm -rf var

.PHONY: help install install-runtime install-dev lock kafka-start kafka-stop demo lint test chart clean
