# Configurable Agents — every target sets itself up first, so a fresh clone
# needs only `make run` or `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.setup-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8501

# Nothing may reach the internet: no telemetry, no usage statistics.
export MLFLOW_DISABLE_TELEMETRY := true
export MLFLOW_MODEL_CATALOG_URI :=
export DO_NOT_TRACK := true
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# llama-cpp-python compiles on first install (~4 min on 2 cores; pip caches the wheel).
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2

.PHONY: help setup run test lint format bench chromium docker-tools servers

help:
	@echo "make run    start the workbench on http://$(HOST):$(PORT) (sets itself up)"
	@echo "make test   run the whole test suite (sets itself up)"
	@echo "make lint   ruff check and format check"
	@echo "make bench  run the benchmarks in bench/"

setup: $(STAMP)

# Re-runs only when a requirements or project file changed.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . --config-settings editable_mode=compat
	@touch $(STAMP)

# The same launcher as `configurable-agents ui` (workspace: $$AGENTS_WORKSPACE or here).
run: setup
	$(BIN)/configurable-agents ui --host $(HOST) --port $(PORT)

# Browser tests need Debian's chromium; install it when we can (root + apt-get).
chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's chromium (and an emoji font) for the browser tests (apt-get)..."; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null \
			|| echo "chromium could not be installed; the browser tests will skip."; \
		elif [ ! -x /usr/bin/chromium ]; then \
			echo "chromium is missing; browser tests will skip (install it: sudo apt-get install chromium)."; \
		fi; \
	fi

# The Docker tests start a private dockerd and build their base image with debootstrap (root + apt-get).
docker-tools:
	@if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null || ! command -v docker-compose >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing docker.io, docker-compose and debootstrap for the Docker tests (apt-get)..."; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose debootstrap >/dev/null \
			|| echo "docker.io/docker-compose/debootstrap could not be installed; the Docker tests will skip (fail under CI=true)."; \
		else \
			echo "dockerd or debootstrap is missing; Docker tests will skip (as root: apt-get install docker.io docker-compose debootstrap)."; \
		fi; \
	fi

# The PostgreSQL and Redis tests start their own servers from Debian's packages; install them when we can.
servers:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's postgresql and redis-server for the store tests (apt-get)..."; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null \
			|| echo "postgresql/redis-server could not be installed; their tests skip (and fail under CI=true)."; \
		else \
			echo "postgresql or redis-server is missing; their tests skip (install: sudo apt-get install postgresql redis-server)."; \
		fi; \
	fi

test: setup chromium docker-tools servers
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done
