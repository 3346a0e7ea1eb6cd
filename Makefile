# One command each: `make test` (lint, types, tests) and `make demo`.
# Both create .venv and install everything they need.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: test lint typecheck pytest venv clean layer demo e2e build-LambdaAssumeRoleLayer bench sam-validate

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

typecheck: $(STAMP)
	$(BIN)/mypy --strict lambda_assume_role

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint sam-validate typecheck pytest

# SAM CLI pins boto3 and pydantic versions that clash with the project's, so it
# lives in a venv of its own. `sam validate --lint` runs offline.
SAM_VENV  := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed

$(SAM_STAMP):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet 'aws-sam-cli==1.170.0'
	touch $@

sam-validate: $(SAM_STAMP)
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --template template.yaml

# Every benchmark in one run (a few minutes); writes benchmarks/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

# The layer zips: build/layer.zip (with Powertools) and build/layer-slim.zip.
layer: $(STAMP)
	$(BIN)/python -m lambda_assume_role build-layer --output build/layer.zip
	$(BIN)/python -m lambda_assume_role build-layer --slim --output build/layer-slim.zip

# The multi-tenant example under awslambdaric against moto, on this machine.
demo: $(STAMP)
	$(BIN)/python -m examples.demo

# Each example under awslambdaric with only the layer and the runtime's packages.
e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e

# `sam build` runs this for template.yaml's LambdaAssumeRoleLayer (BuildMethod:
# makefile) with ARTIFACTS_DIR set; standalone it writes build/LambdaAssumeRoleLayer.
# The layer copies Powertools from the interpreter that builds it, so that
# interpreter must have it: by default this project's venv, made if missing.
PYTHON_FOR_BUILD ?= $(BIN)/python
ARTIFACTS_DIR ?= build/LambdaAssumeRoleLayer

build-LambdaAssumeRoleLayer: $(if $(filter $(BIN)/python,$(PYTHON_FOR_BUILD)),$(STAMP))
	$(PYTHON_FOR_BUILD) -m lambda_assume_role build-layer --directory --output "$(ARTIFACTS_DIR)"

clean:
	rm -rf $(VENV) $(SAM_VENV) .mypy_cache .ruff_cache .pytest_cache build dist
