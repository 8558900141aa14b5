# The two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test lint bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/communique run

test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check bot emulator jobs storage text tests benchmarks
	$(BIN)/ruff format --check bot emulator jobs storage text tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# The benchmarks also need the `bench` extra (rouge-score for summary_quality).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run $(if $(QUICK),--quick,)

soak: $(STAMP)
	$(BIN)/pytest -q tests/reliability --soak

clean:
	rm -rf $(VENV) build *.egg-info
