# coursekit: two commands set up and run everything.
#   make run     execute every notebook (full mode) into build/, with a summary table
#   make test    lint, import layers, unit tests and every notebook re-executed by nbval (smoke)
# Both create .venv on first use (and refresh it when pyproject.toml changes).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.coursekit-installed
# The CPU build of torch, installed before the package so that the loose `torch>=2.2` in
# pyproject.toml is already satisfied and pip never pulls a multi-GB CUDA build.
# On a machine with an NVIDIA GPU: make run TORCH=torch
TORCH  ?= torch==2.13.0
MODE   ?= $(or $(COURSEKIT_MODE),full)
WEEK   ?=
# Tests never touch the network and always run the notebooks in smoke mode.
TEST_ENV := COURSEKIT_OFFLINE=1 COURSEKIT_MODE=smoke COURSEKIT_RESULTS=$(CURDIR)/build/test-results MPLBACKEND=Agg PYTHONWARNINGS=ignore::DeprecationWarning

.PHONY: help venv run test test-quick test-unit test-keras-torch lint layers lab outputs slides book exercises bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "coursekit needs Python >= 3.10, this is " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev,lab,book]"
	touch $@

venv: $(STAMP)  ## create or update .venv

run: $(STAMP)  ## run the course: doctor, then every notebook into build/ (MODE=smoke, WEEK=1 narrow it)
	COURSEKIT_MODE=$(MODE) $(BIN)/coursekit doctor
	$(BIN)/coursekit run --mode $(MODE) $(if $(WEEK),--week $(WEEK))

test: lint layers test-unit test-keras-torch  ## the whole suite: ruff, import layers, unit tests + nbval, Keras tests on the torch backend

test-quick: $(STAMP)  ## the unit tests alone, without the slow statistical tests and notebooks (about two minutes)
	$(TEST_ENV) $(BIN)/python -m pytest tests -m "not slow" -p no:cacheprovider

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check coursekit tests benchmarks notebooks

layers: $(STAMP)  ## the package's import layers (import-linter contracts in pyproject.toml)
	$(BIN)/lint-imports --no-cache --no-logo

test-unit: $(STAMP)  ## unit tests and every notebook re-executed by nbval, Keras on tensorflow
	$(TEST_ENV) $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

test-keras-torch: $(STAMP)  ## the Keras tests again, on the torch backend
	$(TEST_ENV) KERAS_BACKEND=torch $(BIN)/python -m pytest tests -m keras -p no:cacheprovider

slides: $(STAMP)  ## lecture decks from full-mode results into build/slides/ (WEEK=1; CDN=1 without npm; SMOKE=1 allows smoke outputs, marked)
	$(BIN)/coursekit slides $(WEEK) $(if $(CDN),--cdn) $(if $(SMOKE),--allow-smoke)

book: $(STAMP)  ## the course website from the committed notebooks, offline, into build/book/ (open build/book/index.html)
	$(BIN)/coursekit book

exercises: $(STAMP)  ## student versions of the labs, solutions removed, into build/exercises/
	$(BIN)/coursekit exercises $(WEEK)

bench: $(STAMP)  ## benchmarks: tables and JSON records under benchmarks/results/
	$(BIN)/python benchmarks/rbm.py
	$(BIN)/python benchmarks/metrics.py
	$(BIN)/python benchmarks/vae.py
	$(BIN)/python benchmarks/ebm.py
	$(BIN)/python benchmarks/gan.py
	$(BIN)/python benchmarks/ising.py

lab: $(STAMP)  ## start JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks

outputs: $(STAMP)  ## maintainers: re-execute the notebooks in full mode and commit their outputs
	$(BIN)/jupytext --sync notebooks/week*/*.py
	$(BIN)/coursekit run --mode full --in-place $(if $(WEEK),--week $(WEEK))
	$(BIN)/coursekit results --mode full --out benchmarks/results/course.md --records benchmarks/results/course

clean:  ## remove build outputs (keeps .venv)
	rm -rf build .pytest_cache .ruff_cache
