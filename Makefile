PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000

.PHONY: install run test lint screenshots clean

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

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf var/ staticfiles/ .pytest_cache .ruff_cache
