# The two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

# The translation catalogs, compiled for gettext (installs compile them too).
CATALOGS := $(wildcard text/locale/*/LC_MESSAGES/communique.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run test lint bench soak clean translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel -q compile -D communique -i $< -o $@

run: $(STAMP) $(COMPILED)
	$(BIN)/communique run

# Every test, then the tests that drive the bot once more with its store on
# PostgreSQL (a server the rig starts on 127.0.0.1).
test: $(STAMP) $(COMPILED)
	$(BIN)/pytest -q $(PYTEST_ARGS)
	$(BIN)/pytest -q --store=postgres $(PYTEST_ARGS)

# After changing user-visible strings: the template again, and each catalog
# updated from it (then translate what `make test` says is missing).
translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k ngettext:1,2 --no-location -w 100 \
		--project communique --copyright-holder Communique -o text/locale/communique.pot .
	$(BIN)/pybabel -q update -D communique -i text/locale/communique.pot -d text/locale \
		--no-fuzzy-matching --ignore-obsolete -w 100

lint: $(STAMP)
	$(BIN)/ruff check bot emulator jobs storage text tests benchmarks
	$(BIN)/ruff format --check bot emulator jobs storage text tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# The benchmarks also need the `bench` extra (rouge-score for summary_quality).
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) $(COMPILED)
	$(BIN)/python -m benchmarks.run $(if $(QUICK),--quick,)

soak: $(STAMP) $(COMPILED)
	$(BIN)/pytest -q tests/reliability --soak

clean:
	rm -rf $(VENV) build *.egg-info
