# gesher: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format typecheck bench bench-policy clean install

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## demo: load real demo data into ./gesher-demo, create two partners, serve on 127.0.0.1:8000
demo: $(STAMP)
	GESHER_DATA_DIR=$${GESHER_DATA_DIR:-./gesher-demo} $(BIN)/gesher demo

## test: lint, architecture contract, types of the pure cores, then the whole suite on SQLite and PostgreSQL
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy src/gesher/stix src/gesher/taxii src/gesher/policy src/gesher/screening src/gesher/vetting src/gesher/licensing src/gesher/ledger src/gesher/warning src/gesher/errors.py src/gesher/settings.py

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

## bench: gesher against medallion 3.0.0 on the same generated indicators (see bench/README.md)
bench: $(STAMP)
	$(BIN)/python -m bench.run

## bench-policy: the sharing policy's cost (on vs off) and reaction time, 1M objects and 1,000 partners
bench-policy: $(STAMP)
	$(BIN)/python -m bench.policy_bench

## bench-screening: denied-party screening throughput, names/s against a 10,000-entry watchlist (target >= 1,000/s)
.PHONY: bench-screening
bench-screening: $(STAMP)
	$(BIN)/python -m bench.screening_bench

## bench-vetting: re-screening 1,000 partners after a watchlist update (target < 5 s)
.PHONY: bench-vetting
bench-vetting: $(STAMP)
	$(BIN)/python -m bench.vetting_bench

## bench-ledger: ledger appends/s (target >= 100,000) and verifying 1,000,000 entries (target < 30 s)
.PHONY: bench-ledger
bench-ledger: $(STAMP)
	$(BIN)/python -m bench.ledger_bench

## bench-ledger-serving: serving with the ledger on vs off (target >= 0.8x), appends through the store, verify
.PHONY: bench-ledger-serving
bench-ledger-serving: $(STAMP)
	$(BIN)/python -m bench.ledger_serving_bench

## bench-report: `gesher report disclosures` over 1,000,000 disclosed object records (target: well under a minute)
.PHONY: bench-report
bench-report: $(STAMP)
	$(BIN)/python -m bench.report_bench

## bench-warning: matching observation files to indicators, values/s from raw files (target >= 10,000,000/s)
.PHONY: bench-warning
bench-warning: $(STAMP)
	$(BIN)/python -m bench.warning_bench

## bench-warning-latency: sighting to alert latency at 1,000 sightings/s (target < 1 s)
.PHONY: bench-warning-latency
bench-warning-latency: $(STAMP)
	$(BIN)/python -m bench.warning_latency_bench

clean:
	rm -rf $(VENV) gesher-demo .pytest_cache .mypy_cache .ruff_cache
