# Everything a fresh machine with python3 and make needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MELTANO_VENV := .venv-meltano
STAMP := $(VENV)/.installed
MELTANO_STAMP := $(MELTANO_VENV)/.installed

.PHONY: test lint typecheck pytest demo bench reliability venv meltano-venv schemas openapi spec-check docs-examples clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# Meltano pins SQLAlchemy 2.0 while singer-sdk needs 2.1: it lives in a venv of its own.
meltano-venv: $(MELTANO_STAMP)

$(MELTANO_STAMP):
	test -x $(MELTANO_VENV)/bin/python || $(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install -q --upgrade pip
	$(MELTANO_VENV)/bin/python -m pip install -q 'meltano[postgres]==4.4.1'
	touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check xero_api tap_xero target_xero xero_sandbox xero_webhooks
	$(BIN)/lint-imports --no-cache

typecheck: venv
	$(BIN)/mypy

pytest: venv meltano-venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -n 2

test: lint typecheck pytest

schemas: venv
	$(BIN)/python scripts/generate_schemas.py

# openapi/ from Xero's official specs: XERO_OPENAPI_DIR is a checkout of
# https://github.com/XeroAPI/Xero-OpenAPI (or a verbatim copy with a SOURCE.md naming the commit).
openapi: venv
	$(BIN)/python scripts/vendor_openapi.py $(XERO_OPENAPI_DIR)
	$(BIN)/python scripts/generate_schemas.py

# Fails when openapi/ or schemas/ differ from what the specs in XERO_OPENAPI_DIR give.
spec-check: venv
	$(BIN)/python scripts/vendor_openapi.py --check $(XERO_OPENAPI_DIR)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(BIN)/python scripts/generate_schemas.py --out "$$tmp" >/dev/null && \
	  diff -r schemas "$$tmp" && echo "schemas/ matches openapi/xero_accounting.json"

demo: venv meltano-venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/demo.py

# Reliability figures (faults, crashes, tokens, leaks) -> docs/reliability.md
reliability: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m tests.reliability_report

# Run every marked example of README.md and docs/, rewrite the sample outputs that drifted
docs-examples: venv meltano-venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m tests.docs_examples --update

bench: venv meltano-venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) $(MELTANO_VENV) .meltano .pytest_cache .mypy_cache .ruff_cache
