# make run: serve the site on 127.0.0.1:$(PORT). make test: unit and browser tests.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/flask --app loginflow run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/python -m e2e.browser
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
