# youasked: `make demo` runs the demo, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "uv==0.13.8"
	$(UV) pip sync --python $(BIN)/python requirements.lock
	$(UV) pip install --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the locked package set

lock: ## Re-resolve requirements.lock from pyproject.toml
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

kafka-start: $(STAMP) ## Start the local Kafka broker (fetches the jars the first time)
	$(BIN)/youasked kafka start

kafka-stop: $(STAMP) ## Stop the local Kafka broker
	$(BIN)/youasked kafka stop

demo: $(STAMP) ## Run the demo: broker, worker, replay of the bundled sample, summary
	$(BIN)/youasked demo

lint: $(STAMP) ## ruff, mypy --strict and the import contracts
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) ## Lint, then every test: unit, property and against the real broker
	$(MAKE) lint
	$(BIN)/python -m pytest

clean: ## Remove local state (broker data, worker state); keeps .venv and the jar cache
	-$(BIN)/youasked kafka stop
	rm -rf var

.PHONY: help install lock kafka-start kafka-stop demo lint test clean
