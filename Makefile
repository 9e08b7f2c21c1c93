# The two set-up commands of the README: `make serve` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test test-fast test-slow lint bench bench-deps bench-backup bench-restore bench-scale clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,postgres,mysql]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/dorisbk serve

test: $(STAMP)
	bash scripts/test-deps.sh
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 4 --dist loadfile

# The in-process tier: parsers, planners, the function catalog, repository layout, layers; no server.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m fast

# Doris's sizes end to end (tests/test_scale_slow.py): kill -9, cancel and resume at 100,000 tablets.
test-slow: $(STAMP)
	$(BIN)/pytest -q --run-slow -m slow

bench: $(STAMP)
	$(BIN)/python -m bench.load_query

# restic and rclone, the information-only baselines of bench.backup and bench.restore (apt, when missing).
bench-deps:
	bash scripts/bench-deps.sh

# Options go through BENCH_ARGS, e.g. make bench-backup BENCH_ARGS="--gib 1".
bench-backup: $(STAMP) bench-deps
	$(BIN)/python -m bench.backup $(BENCH_ARGS)

bench-restore: $(STAMP) bench-deps
	$(BIN)/python -m bench.restore $(BENCH_ARGS)

# e.g. make bench-scale BENCH_ARGS="--sizes 30000,100000"
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale $(BENCH_ARGS)

clean:
	rm -rf $(VENV) dorisbk-data
