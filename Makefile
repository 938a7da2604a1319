# `make run`: install, build/refresh the index, serve the chat on http://127.0.0.1:7860
# `make test`: install with dev extras and run every test (what CI runs)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install install-dev index run serve test test-fast lint eval bench load load-chat load-fair deploy-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Bytecode is compiled at install: a replica under systemd cannot write it (read-only code dir),
# and compiling policyqa's own modules on every start costs ~0.7 s of a replica's start.
COMPILE := $(BIN)/python -m compileall -q rag index ui eval

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(COMPILE)
	touch $@

# torch is pinned first so sentence-transformers takes the local CPU build, not a CUDA one.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(COMPILE)
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

index: install
	$(BIN)/policyqa index

run: index
	$(COMPILE)
	$(BIN)/policyqa serve

serve: install
	$(COMPILE)
	$(BIN)/policyqa serve

test: install-dev
	$(BIN)/pytest -q

test-fast: install-dev
	$(BIN)/pytest -q -m "not slow"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

eval: install
	$(BIN)/policyqa eval --gold eval/gold.jsonl

# 20 users for 2 minutes against /api/ask on 127.0.0.1 (a server over a copy of the data dir)
load: index
	$(BIN)/python -m eval.load --users 20 --seconds 120 --out eval/reports/load.md

# the chat through Gradio's protocol (gradio_client, 10 users x 60 s) vs POST /api/ask, appended to eval/reports/load.md
load-chat: index
	$(BIN)/python -m eval.load_chat --users 10 --seconds 60 --out eval/reports/load.md

# 10 normal users alone, then beside 2 clients sending maximum-length questions (p95 within 2x), appended
load-fair: index
	$(BIN)/python -m eval.load --fairness --users 10 --hostile 2 --seconds 60 --out eval/reports/load.md

# nginx + 2 replicas + `chroma run` + PostgreSQL (Debian packages) on 127.0.0.1: 30 users x 60 s, one replica
# killed with kill -9 half-way and restarted → eval/reports/deploy.md (needs `apt-get install nginx postgresql`)
deploy-test: install
	$(BIN)/python -m eval.deploy_test --users 30 --seconds 60 --out eval/reports/deploy.md

# latency, cold start, index build, memory and the 1k/5k/20k scale runs → eval/reports/bench.md (~15 min)
bench: install
	$(BIN)/policyqa bench

clean:
	rm -rf .policyqa artifacts
