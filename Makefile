# Every target depends on the virtual environment, which this Makefile builds itself.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PAPERS := constrained_mixing spectral_gaps manifold_detection rate_separation score_smoothing

.PHONY: venv test validate validate-quick figures bench lint format clean-cache $(addprefix fig-,$(PAPERS))

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,digits]'
	touch $@

venv: $(STAMP)

## the test suite (what CI runs)
test: venv
	$(PY) -m pytest

## the main job: train what is needed (cached), run every claim, write figures and the report
validate: venv
	$(PY) -m compare run --profile full

## the same at reduced size, into the ignored scratch folder
validate-quick: venv
	$(PY) -m compare run --profile quick

## every figure, without rewriting the report
figures: venv
	$(PY) -m compare figures --profile full

$(addprefix fig-,$(PAPERS)): fig-%: venv
	$(PY) -m compare figures --paper $* --profile full

## speed: training throughput against the machine's matrix-product rate, Jacobians, validate wall time
bench: venv
	$(PY) -m compare bench

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean-cache:
	rm -rf .cache .scratch
