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

.PHONY: run test lint fuzz bench clean proto

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

# Regenerate the committed gRPC stubs (src/s3ish/grpc/v1/) from proto/s3ish/v1/*.proto with
# grpcio-tools (a test extra): installing s3ish never runs codegen. protoc names the modules
# after the proto path (s3ish.v1); they live in s3ish.grpc.v1, so the stub's import of its
# messages is made relative.
proto: $(STAMP)
	rm -rf build/proto && mkdir -p build/proto
	$(PY) -m grpc_tools.protoc -Iproto --python_out=build/proto --pyi_out=build/proto \
	  --grpc_python_out=build/proto proto/s3ish/v1/*.proto
	for f in build/proto/s3ish/v1/*.py build/proto/s3ish/v1/*.pyi; do \
	  sed -e 's/^from s3ish\.v1 import /from . import /' $$f > src/s3ish/grpc/v1/$$(basename $$f); \
	done
	rm -rf build/proto && rmdir build 2>/dev/null || true
