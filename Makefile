PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000

.PHONY: install run test lint screenshots clean bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

## Embedded default: SQLite + filesystem broker, web + Celery worker + beat in one terminal.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py add_registry demo-manifests --kind manifests --url "$(CURDIR)/examples/manifests" \
		--poll-seconds 300 --ui-url "" >/dev/null
	$(BIN)/python manage.py sync_registry demo-manifests --queue
	MODELHOUSE_PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Scale benchmark on PostgreSQL: 100k models, 1M versions, 10M metric points, then the portal through
## gunicorn (benchmarks/README.md). BENCH_DATABASE_URL names the (dropped and recreated) database;
## BENCH_ARGS e.g. "--skip-seed --keep --json var/bench.json".
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/modelhouse_bench
bench: install
	$(BIN)/python manage.py bench_portal --database-url "$(BENCH_DATABASE_URL)" $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .

## README pictures of the journeys: the browser tests save their key pages as
## test-artifacts/screenshots/journey-*.png; this runs those tests (a skip is a failure here) and copies
## the pictures to docs/images/, so the README shows what the tests saw. The overview pictures at the top
## of the README come from the demo data instead: `make run`, then `$(BIN)/python docs/screenshots.py`.
JOURNEYS := tests/browser/test_promotion_journey.py tests/browser/test_access_journey.py \
	tests/browser/test_dashboard_journey.py
screenshots: install
	rm -f test-artifacts/screenshots/journey-*.png
	MODELHOUSE_REQUIRE_SERVICES=1 $(BIN)/python -m pytest -p no:cacheprovider -m browser $(JOURNEYS)
	cp test-artifacts/screenshots/journey-*.png docs/images/

clean:
	rm -rf var/ staticfiles/ .pytest_cache .ruff_cache
