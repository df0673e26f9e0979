# The README's commands. Each target builds the virtual environment it needs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: sandbox test lint typecheck pytest run migrate locales bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

locales: $(STAMP)
	$(BIN)/python -c "from services.i18n import compile_catalogues; compile_catalogues()"

sandbox: $(STAMP) locales
	$(BIN)/quickcart-ops sandbox

run: $(STAMP) locales
	$(BIN)/quickcart-ops run

migrate: $(STAMP)
	$(BIN)/quickcart-ops migrate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy bot handlers services jobs sandbox

pytest: $(STAMP) locales
	$(BIN)/pytest -q -n 2 --dist worksteal

test: lint typecheck pytest

bench: $(STAMP) locales
	status=0; for script in bench/*.py; do $(BIN)/python $$script || status=1; done; exit $$status

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
