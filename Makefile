# One command each: `make test` (lint, types, tests) and `make demo`.
# Both create .venv and install everything they need.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: test lint typecheck pytest venv venv-floor pytest-floor venv-next pytest-next clean layer demo e2e build-LambdaAssumeRoleLayer bench sam-validate

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/cfn-lint template.yaml

typecheck: $(STAMP)
	$(BIN)/mypy --strict lambda_assume_role lambda_assume_role_tools

pytest: $(STAMP)
	$(BIN)/pytest -q

# The two test runs (newest botocore, and the floor) take turns on the CPU well:
# side by side on 2 cores they finish in about the time of the longer one.
# --output-sync keeps each run's report in one piece.
test: lint sam-validate typecheck
	$(MAKE) -j2 --output-sync=target pytest pytest-floor pytest-next

# `make test` three times in a row under four CPU-burning processes (about 20 min on
# 2 cores): a test that leans on real time fails here. See tests/stress.sh. The recipe
# does not name $(MAKE), so that `make -n stress` only prints it.
.PHONY: stress
stress:
	bash tests/stress.sh

# The botocore floor. pyproject.toml accepts boto3/botocore 1.34, and a Lambda
# runtime ships a botocore months older than the newest: the layer leaves boto3
# out, so it runs on the runtime's. A second venv holds the floor versions, the
# project and the dev packages its tests need (pyproject.toml's list, less
# FLOOR_SKIPPED: linters, type stubs, plotting, and a peer that wants a newer
# botocore); every pip call repeats the pins, so that the resolver keeps them.
# The stamp names the version, so changing it rebuilds the venv.
FLOOR_VENV     ?= .venv-floor
FLOOR_BIN      := $(FLOOR_VENV)/bin
FLOOR_BOTOCORE := 1.34.162
FLOOR_STAMP    := $(FLOOR_VENV)/.installed-botocore-$(FLOOR_BOTOCORE)
FLOOR_SKIPPED  := ruff mypy boto3-stubs botocore-stubs types-python-dateutil matplotlib \
                  boto3-refresh-session botocove runacross cfn-lint \
                  aws-durable-execution-sdk-python aws-durable-execution-sdk-python-testing
# What runs on the floor (about 2 min on 2 idle cores): the docstring examples of
# the library and the tools, the unit tests (the
# model checker reads the installed STS model), every functional test (each signs
# requests with our credentials, except as below), and the layer under awslambdaric,
# with this venv's boto3/botocore linked in as the runtime's: single_role,
# org_inventory's worker and both tenant examples end to end, and the import check of
# each example. Left out there: tests/emulators (our test doubles' own tests, which
# sign nothing with our credentials), and the org_inventory state machine run in
# moto's engine (its worker runs on the floor under awslambdaric instead).
FLOOR_TESTS    := lambda_assume_role lambda_assume_role_tools tests/unit tests/functional \
                  tests/e2e/test_single_role.py \
                  tests/e2e/test_layer_only.py tests/e2e/test_org_inventory.py \
                  tests/e2e/test_tenant_isolation.py tests/e2e/test_tenant_mode.py \
                  tests/e2e/test_managed_instances.py \
                  --ignore=tests/functional/fanout/test_org_inventory_state_machine.py

venv-floor: $(FLOOR_STAMP)

# A venv with boto3/botocore pinned to $(2) and the dev extra less what cannot run on
# it ($(FLOOR_SKIPPED)); checked to hold exactly that botocore.
define pinned_venv
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet -e . boto3==$(2) botocore==$(2)
	$(1)/bin/python -c 'import importlib.metadata as m, re, sys; \
	  dev = [r.split(";", 1) for r in m.requires("lambda-assume-role") or () if re.search(r"extra == .dev.", r)]; \
	  dev = [(spec.strip(), re.sub(r"\s*(and\s+)?extra == .dev.(\s*and\s+)?", "", marker).strip()) for spec, marker in dev]; \
	  print("\n".join(spec + ("; " + marker if marker else "") for spec, marker in dev \
	                  if re.match(r"[A-Za-z0-9._-]+", spec).group(0).lower() not in sys.argv[1:]))' \
	  $(FLOOR_SKIPPED) > $(1)/requirements-pinned.txt
	$(1)/bin/python -m pip install --quiet -r $(1)/requirements-pinned.txt \
	  boto3==$(2) botocore==$(2)
	$(1)/bin/python -c 'import boto3, botocore, sys; \
	  got = (boto3.__version__, botocore.__version__); \
	  sys.exit(None if got == ("$(2)",) * 2 else f"$(1) has {got}")'
endef

$(FLOOR_STAMP): pyproject.toml
	$(call pinned_venv,$(FLOOR_VENV),$(FLOOR_BOTOCORE))
	touch $@

pytest-floor: $(FLOOR_STAMP)
	$(FLOOR_BIN)/pytest -q -p no:cacheprovider $(FLOOR_TESTS)

# botocore's next refresh path (branch feature/credential-refresh, PRs #3733 and #3760:
# lifetime-based windows, "static stability"), unreleased: botocore 1.43.65 with the
# patch in ../shared/botocore-next/ and the new path switched on, as its README says.
# Its run takes the tests that touch credentials: the docstring examples, the core's
# unit and functional tests (test_private_attributes.py among them), tenancy, and the
# layer end to end under awslambdaric (single_role, and every example's import check).
NEXT_VENV      ?= .venv-next
NEXT_BIN       := $(NEXT_VENV)/bin
NEXT_BOTOCORE  := 1.43.65
NEXT_PATCH     ?= ../shared/botocore-next/credential-refresh.patch
NEXT_STAMP     := $(NEXT_VENV)/.installed-botocore-$(NEXT_BOTOCORE)-next
NEXT_TESTS     := lambda_assume_role tests/unit/core tests/functional/core tests/functional/tenancy \
                  tests/e2e/test_single_role.py tests/e2e/test_layer_only.py

venv-next: $(NEXT_STAMP)

$(NEXT_STAMP): pyproject.toml $(NEXT_PATCH)
	$(call pinned_venv,$(NEXT_VENV),$(NEXT_BOTOCORE))
	site=$$($(NEXT_BIN)/python -c 'import botocore, os; print(os.path.dirname(os.path.dirname(botocore.__file__)))') && \
	  patch --quiet --forward -p1 -d "$$site" < $(NEXT_PATCH) && \
	  mkdir -p "$$site/botocore/customizations" && \
	  touch "$$site/botocore/customizations/__init__.py" && \
	  echo 'DEFAULT_NEW_CREDENTIAL_REFRESH = True' > "$$site/botocore/customizations/credentials.py"
	$(NEXT_BIN)/python -c 'import botocore.credentials as c, sys; \
	  on = getattr(c, "DEFAULT_NEW_CREDENTIAL_REFRESH", False) and hasattr(c.RefreshableCredentials, "_refresh_legacy"); \
	  sys.exit(None if on else "$(NEXT_VENV): the next refresh path is not on")'
	touch $@

pytest-next: $(NEXT_STAMP)
	$(NEXT_BIN)/pytest -q -p no:cacheprovider $(NEXT_TESTS)

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

# Every benchmark in one run (a few minutes); writes benchmarks/RESULTS.md. Some rows run
# on botocore's next refresh path, in workers on $(NEXT_VENV)'s interpreter.
bench: $(STAMP) $(NEXT_STAMP)
	$(BIN)/python -m benchmarks.run_all

# The layer zips: build/layer.zip (with Powertools) and build/layer-slim.zip, with
# bytecode for each supported runtime that has an interpreter here (python3.X on PATH
# or under pyenv; the build names those left out).
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
# makefile, ContextPath: .) with ARTIFACTS_DIR set, in its scratch copy of the
# ContentUri: the package folder only, since SAM copies a ContentUri whole,
# virtualenvs included, and reads no ignore file. Standalone it writes
# build/LambdaAssumeRoleLayer. The builder copies Powertools from the interpreter
# it runs in, so it runs in a throwaway venv holding this package and its declared
# dependencies only (not .[dev], not .venv). LAYER_RUNTIMES: the runtimes the
# layer compiles bytecode for, each needing its python3.X on PATH; they must equal
# template.yaml's CompatibleRuntimes (tests/functional/tools/test_sam_build.py checks it).
REPO_DIR         := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PYTHON_FOR_BUILD ?= python3.13
LAYER_RUNTIMES   := python3.13
ARTIFACTS_DIR    ?= build/LambdaAssumeRoleLayer
# PYTHON_FOR_BUILD is run first, so that a missing one stops the build with this line
# (README.md quotes it) before anything is made: a pyenv shim whose version is not
# selected would fail in the venv step with pyenv's own "python3.13: command not found".
LAYER_PYTHON_MISSING := build-LambdaAssumeRoleLayer: $(PYTHON_FOR_BUILD) (PYTHON_FOR_BUILD) \
  does not run here: put a python3.13 first on PATH (with pyenv, e.g. PYENV_VERSION=3.13.0 \
  sam build), or name one: PYTHON_FOR_BUILD=/path/to/python3.13 sam build

build-LambdaAssumeRoleLayer:
	@$(PYTHON_FOR_BUILD) -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1 \
	  || { echo '$(LAYER_PYTHON_MISSING)' >&2; exit 2; }
	@set -e; venv=$$(mktemp -d "$${TMPDIR:-/tmp}/layer-venv.XXXXXX"); trap 'rm -rf "$$venv"' EXIT; \
	$(PYTHON_FOR_BUILD) -m venv "$$venv"; \
	"$$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$(REPO_DIR)"; \
	cd "$$venv" && "$$venv/bin/python" -m lambda_assume_role build-layer --directory \
	  $(addprefix --runtime ,$(LAYER_RUNTIMES)) --output "$(abspath $(ARTIFACTS_DIR))"

clean:
	rm -rf $(VENV) $(SAM_VENV) $(FLOOR_VENV) $(NEXT_VENV) .mypy_cache .ruff_cache .pytest_cache build dist
