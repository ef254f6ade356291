# make run: serve the site on 127.0.0.1:$(PORT). make test: unit and browser tests.
# Also: make test-unit (unit tests only, no browser), make test-browser, make lint.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
# Not --quiet: a first install takes a while, and pip's lines show what it is doing.
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check
# The unit tests need no browser and not the Playwright plugin either.
UNIT_TESTS := $(BIN)/python -m pytest tests -p no:playwright

.PHONY: run test test-unit test-browser lint

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "loginflow needs Python 3.11 or newer, and $(PYTHON) is not: PYTHON=python3.12 make ..." >&2; \
	  exit 1; }
	@echo "==> Creating the virtual environment $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "$(PYTHON) -m venv failed; on Debian or Ubuntu: apt-get install python3-venv" >&2; \
	  exit 1; }

# One stamp per set of packages, each remade when pyproject.toml changes.
# run: loginflow and its dependencies, nothing else.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	@echo "==> Installing loginflow and its dependencies into $(VENV)"
	$(PIP_INSTALL) -e .
	@touch $@

# test: the same plus pytest, pytest-cov, hypothesis and Playwright (the browser comes later).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "==> Installing loginflow and its test tools (pytest, Playwright, coverage) into $(VENV)"
	$(PIP_INSTALL) -e '.[test]'
	@touch $@ $(VENV)/.installed-run

# lint: the same plus ruff and mypy.
$(VENV)/.installed-lint: pyproject.toml | $(BIN)/python
	@echo "==> Installing loginflow and its lint tools (ruff, mypy) into $(VENV)"
	$(PIP_INSTALL) -e '.[lint]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/flask --app loginflow run --host 127.0.0.1 --port $(PORT)

# A Chromium first (Playwright's, else the system's: see e2e/browser.py), then the tests.
# A failing test keeps a Playwright trace under test-results/ (e2e/conftest.py).
define browser_tests
	@echo "==> Making sure there is a Chromium for the browser tests (a first download takes a while)"
	$(BIN)/python -m e2e.browser
	@echo "==> Browser tests (e2e/)"
	$(BIN)/python -m pytest e2e
endef

test-unit: $(VENV)/.installed-test
	$(UNIT_TESTS)

test-browser: $(VENV)/.installed-test
	$(browser_tests)

# The unit tests with branch coverage of loginflow (the floor, 95 %, is in pyproject.toml),
# then the browser tests.
test: $(VENV)/.installed-test
	@echo "==> Unit tests (tests/), with branch coverage of site/loginflow"
	$(UNIT_TESTS) --cov --cov-report=term-missing:skip-covered
	$(browser_tests)

lint: $(VENV)/.installed-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
