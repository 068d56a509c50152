# make run: start s3ish on 127.0.0.1:9000 with data in ./data.  make test: the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	MALLOC_MMAP_THRESHOLD_=16777216 MALLOC_TRIM_THRESHOLD_=1073741824 \
	  $(VENV)/bin/s3ish server --listen 127.0.0.1:9000 --data ./data --dev-credentials

lint: $(STAMP)
	$(VENV)/bin/lint-imports

test: $(STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider tests

bench: $(STAMP)
	$(PY) scripts/bench_matrix.py --json bench-results.json

clean:
	rm -rf $(VENV) data
