# Synkro: `make run` starts the product with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
PYTEST_ARGS ?=
# Two workers by default: the suite is sized for a 2-core machine.
XDIST ?= -n 2

.PHONY: run reset-demo install test test-sqlite test-postgres lint lint-fix migrate demo clean bench drill

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	./scripts/run.sh

# The demo from scratch on the next `make run`: Synkro's data and the sandboxes' data (var/) are removed.
reset-demo: install
	./scripts/reset-demo.sh

migrate: install
	DEBUG=true $(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=true $(PY) manage.py demo_setup

test: install
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	env -u DATABASE_URL $(PYTEST) $(XDIST) $(PYTEST_ARGS)

test-postgres: install
	./scripts/with-postgres.sh $(PYTEST) $(XDIST) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

# ruff's safe lint fixes (import order, modern syntax); the tree is not run through a code formatter.
lint-fix: install
	$(VENV)/bin/ruff check --fix .

# Performance figures against their targets (BENCH_SCALE=0.05 for a quick run); writes bench/results.md.
bench: install
	@./scripts/debian-packages.sh --optional wrk || true
	@command -v wrk >/dev/null || echo "Without wrk, webhook ingest is driven by a Python load generator, which reports less."
	$(PY) -m bench.run

# Fault drill on PostgreSQL + Redis with two qcluster workers; exits non-zero when a must is broken.
drill: install
	./bench/drill.sh

clean:
	rm -rf $(VENV) var
