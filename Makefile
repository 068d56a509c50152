# make run: start s3ish on 127.0.0.1:9000 with data in ./data.  make test: the whole suite
# (with a short fuzzing pass).  make fuzz: every fuzz target for FUZZ_SECONDS (default 60) each.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Two stamps: the server's own dependencies (enough for `make run`), then the test extras
# (pytest and every compat client, ~650 MB) on top for test/lint/bench. Each is redone when
# pyproject.toml changes; the test stamp also follows the runtime one.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed

FUZZ_SECONDS ?= 60

.PHONY: run test lint fuzz bench clean

$(RUN_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(RUN_STAMP)
	MALLOC_MMAP_THRESHOLD_=16777216 MALLOC_TRIM_THRESHOLD_=1073741824 \
	  $(VENV)/bin/s3ish server --listen 127.0.0.1:9000 --data ./data --dev-credentials

lint: $(STAMP)
	$(VENV)/bin/lint-imports

test: $(STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider tests

# Per target: examples run, failures, seconds and the seed (FUZZ_SEED=... replays a run).
fuzz: $(STAMP)
	FUZZ_PROFILE=long FUZZ_SECONDS=$(FUZZ_SECONDS) $(PY) -m pytest -q -p no:cacheprovider \
	  -o timeout=0 tests/fuzz

bench: $(STAMP)
	$(PY) scripts/bench_matrix.py --json bench-results.json
	$(PY) scripts/bench_tier.py --json bench-tier.json

clean:
	rm -rf $(VENV) data
