# make run: serve the site on 127.0.0.1:$(PORT). make test: unit and browser tests.
# make serve: serve it in production, with gunicorn.
# Also: make test-unit (unit tests only, no browser), make test-browser, make test-pythons
# (the unit tests under each other Python loginflow supports that the machine has), make lint,
# make mutate (mutation testing, not part of make test or CI), make bench and make capacity
# (what the pattern costs, measured, and what that means at scale; not part of CI either),
# make screenshots (the pages, as docs/screenshots/*.png).
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
# Not --quiet: a first install takes a while, and pip's lines show what it is doing.
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check
# The unit tests need no browser and not the Playwright plugin either.
UNIT_TESTS := $(BIN)/python -m pytest tests -p no:playwright

.PHONY: run test test-unit test-postgresql test-browser test-pythons lint mutate serve bench capacity lock \
	screenshots

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "loginflow needs Python 3.11 or newer, and $(PYTHON) is not: PYTHON=python3.12 make ..." >&2; \
	  exit 1; }
	@echo "==> Creating the virtual environment $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "$(PYTHON) -m venv failed; on Debian or Ubuntu: apt-get install python3-venv" >&2; \
	  exit 1; }

# Installs are locked: requirements/*.txt pin every package with the hashes of its files
# (make lock makes them from pyproject.toml), pip installs exactly those, then loginflow
# itself, editable, without dependencies. One stamp per set, remade when its lock changes.
define install_locked
	$(PIP_INSTALL) --require-hashes -r requirements/$(1).txt
	$(PIP_INSTALL) --no-deps -e .
endef

# run: loginflow, its dependencies and gunicorn (make run, make serve, make bench).
$(VENV)/.installed-run: requirements/run.txt | $(BIN)/python
	@echo "==> Installing loginflow and its dependencies into $(VENV)"
	$(call install_locked,run)
	@touch $@

# test: the same plus pytest, pytest-cov, hypothesis and Playwright (the browser comes later).
$(VENV)/.installed-test: requirements/test.txt | $(BIN)/python
	@echo "==> Installing loginflow and its test tools (pytest, Playwright, coverage) into $(VENV)"
	$(call install_locked,test)
	@touch $@ $(VENV)/.installed-run

# lint: the test tools plus ruff and mypy (mypy reads the tests' imports too).
$(VENV)/.installed-lint: requirements/lint.txt | $(BIN)/python
	@echo "==> Installing loginflow and its lint tools (ruff, mypy) into $(VENV)"
	$(call install_locked,lint)
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

# mutate: the test tools plus mutmut.
$(VENV)/.installed-mutate: requirements/mutate.txt | $(BIN)/python
	@echo "==> Installing loginflow, its test tools and mutmut into $(VENV)"
	$(call install_locked,mutate)
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

# make lock: the lock files again from pyproject.toml, with uv, for every Python loginflow
# supports (--universal). Each keeps the versions it holds unless told otherwise:
#   make lock                                    # after changing pyproject.toml
#   make lock LOCK_ARGS='--upgrade-package flask' # one package to its newest release
#   make lock LOCK_ARGS=--upgrade                 # everything
# The others are made within test.txt's versions, and test.txt within run.txt's, so the
# sets installed into one .venv agree.
LOCK_ARGS ?=
LOCK = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet $(LOCK_ARGS)

lock: | $(BIN)/python
	$(PIP_INSTALL) --quiet 'uv>=0.13,<0.14'
	$(LOCK) --extra serve -o requirements/run.txt
	$(LOCK) --extra test -c requirements/run.txt -o requirements/test.txt
	$(LOCK) --extra test --extra lint -c requirements/test.txt -o requirements/lint.txt
	$(LOCK) --extra test --extra mutate -c requirements/test.txt -o requirements/mutate.txt

# make run keeps its database and development key in instance/ of the checkout.
FLASK := LOGINFLOW_INSTANCE_PATH=$(CURDIR)/instance $(BIN)/flask --app loginflow

run: $(VENV)/.installed-run
	@echo "==> Bringing the database's schema up to date (flask db upgrade)"
	$(FLASK) db upgrade
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# make serve: gunicorn with loginflow/serving.py's settings (workers, threads, access log,
# graceful shutdown), after the same upgrade. It refuses settings other than production's
# unless LOGINFLOW_SERVE_ANY_CONFIG=1; production needs FLASK_SECRET_KEY and
# FLASK_TRUSTED_HOSTS (README, "Deploying"). Listens on LOGINFLOW_BIND, default
# 127.0.0.1:8000.
SERVE := LOGINFLOW_INSTANCE_PATH=$(CURDIR)/instance $(BIN)/gunicorn -c python:loginflow.serving

serve: $(VENV)/.installed-run
	$(SERVE) --check-config
	@echo "==> Bringing the database's schema up to date (flask db upgrade)"
	$(FLASK) db upgrade
	exec $(SERVE)

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

# The unit tests again on PostgreSQL and Redis (tests/servers.py: a database of the run's
# own, created and dropped; LOGINFLOW_TEST_DATABASE_URL, LOGINFLOW_TEST_REDIS_URL). Where
# a server does not answer, every test is skipped and one line says what to start (-rfE:
# not one line per test); none of them passes. Tests about SQLite itself, or not about the database, run
# only in the first run.
define postgresql_tests
	@echo "==> Unit tests (tests/) on PostgreSQL and Redis"
	$(UNIT_TESTS) --on-postgresql -rfE
endef

test-postgresql: $(VENV)/.installed-test
	$(postgresql_tests)

test-browser: $(VENV)/.installed-test
	$(browser_tests)

# docs/screenshots/{page}-{width}-{theme}.png: six pages, 1280 and 390 pixels wide, light
# and dark, shot in Chromium from a site served by e2e/screenshots.py itself, on a stopped
# clock with fixed data, so a second run writes the same bytes (on the same machine: the
# pages are drawn with its fonts). Commit them when a page changes.
screenshots: $(VENV)/.installed-test
	@echo "==> Making sure there is a Chromium (a first download takes a while)"
	$(BIN)/python -m e2e.browser
	@echo "==> Screenshots of the pages into docs/screenshots/"
	$(BIN)/python -m e2e.screenshots

# The unit tests with branch coverage of loginflow (the floor, 95 %, is in pyproject.toml),
# the same on PostgreSQL and Redis, then the browser tests.
test: $(VENV)/.installed-test
	@echo "==> Unit tests (tests/), with branch coverage of site/loginflow"
	$(UNIT_TESTS) --cov --cov-report=term-missing:skip-covered
	$(postgresql_tests)
	$(browser_tests)

# The unit tests under each other Python that loginflow supports (PYTHON_VERSIONS, those
# of the classifiers in pyproject.toml), each in a virtual environment of its own,
# .venv-3.X, made with the first python3.X that runs: on PATH, else pyenv's (pyenv prefix,
# else $PYENV_ROOT/versions/3.X.*, PYENV_ROOT defaulting to ~/.pyenv), and made afresh
# when its Python no longer runs (pyenv replaced it). .venv's own Python is left to
# make test and make test-unit. Ends with one line per Python: passed or failed,
# with the time, or not found, which is reported and fails nothing. A failure fails the
# target once every Python has run. CI runs it after make test.
#   make test-pythons                        # 3.11, 3.12 and 3.13, less .venv's
#   make test-pythons PYTHON_VERSIONS=3.13   # one of them
PYTHON_VERSIONS ?= 3.11 3.12 3.13
# find_python 3.12 prints "3.12.1 /path/to/python3.12" for a Python 3.12 that runs, else
# nothing. Each candidate is run, not only looked up: pyenv puts a python3.X shim on PATH
# for every version it has, and the shim fails for those not selected (pyenv global).
FIND_PYTHON = find_python() { \
	  prefix=$$(pyenv prefix "$$1" 2>/dev/null); \
	  for candidate in "python$$1" $${prefix:+"$$prefix/bin/python$$1"} \
	      "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/"$$1".*/bin/python"$$1"; do \
	    found=$$("$$candidate" -c 'import platform, sys; \
	      ok = sys.argv[1] == "%d.%d" % sys.version_info[:2]; \
	      print(f"{platform.python_version()} {sys.executable}" if ok else "")' "$$1" 2>/dev/null); \
	    if [ -n "$$found" ]; then echo "$$found"; return; fi; \
	  done; \
	}
PRINT_VERSION = import sys; print("%d.%d" % sys.version_info[:2])

# One venv per other Python, made with the interpreter test-pythons found (VENV_PYTHON)
# and installed as .venv is, from the same lock (made for every Python loginflow supports);
# its stamp, like .venv's, is remade when the lock changes.
.venv-%/.installed-test: requirements/test.txt
	@test -x .venv-$*/bin/python || { \
	  echo "==> Creating the virtual environment .venv-$* with $(or $(VENV_PYTHON),python$*)"; \
	  $(or $(VENV_PYTHON),python$*) -m venv .venv-$* || { rm -rf .venv-$*; exit 1; }; }
	@echo "==> Installing loginflow and its test tools into .venv-$*"
	.venv-$*/bin/python -m pip install --disable-pip-version-check --require-hashes -r $<
	.venv-$*/bin/python -m pip install --disable-pip-version-check --no-deps -e .
	@touch $@

test-pythons:
	@$(FIND_PYTHON); \
	main=$$($(BIN)/python -c '$(PRINT_VERSION)' 2>/dev/null || $(PYTHON) -c '$(PRINT_VERSION)' 2>/dev/null); \
	summary=; failed=0; \
	for version in $(PYTHON_VERSIONS); do \
	  if [ "$$version" = "$$main" ]; then \
	    summary="$$summary\nPython $$version: .venv's Python, run by make test and make test-unit, not here"; \
	    continue; \
	  fi; \
	  found=$$(find_python "$$version"); \
	  if [ -z "$$found" ]; then \
	    summary="$$summary\nPython $$version: not found (no python$$version that runs on PATH or under pyenv)"; \
	    continue; \
	  fi; \
	  full=$${found%% *}; python=$${found#* }; venv=.venv-$$version; \
	  $$venv/bin/python -c '' 2>/dev/null || rm -rf $$venv; \
	  if ! $(MAKE) --no-print-directory $$venv/.installed-test VENV_PYTHON="$$python"; then \
	    summary="$$summary\nPython $$full: FAILED to install into $$venv ($$python)"; failed=1; \
	    continue; \
	  fi; \
	  echo "==> Unit tests (tests/) under Python $$full, in $$venv ($$python)"; \
	  start=$$(date +%s); \
	  if $$venv/bin/python -m pytest tests -p no:playwright; then result=passed; \
	  else result=FAILED; failed=1; fi; \
	  summary="$$summary\nPython $$full: $$result in $$(($$(date +%s) - start)) s, in $$venv ($$python)"; \
	done; \
	printf '==> The unit tests under each Python%b\n' "$$summary"; \
	exit $$failed

lint: $(VENV)/.installed-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Mutation testing of site/loginflow against the unit tests (tests/, never e2e/): mutmut
# changes the code one small way at a time (a mutant) and reruns only the tests that reach
# the function it changed, two mutants at a time on two cores; a mutant that no test
# notices "survives". Slow (a full run: about 40 minutes on two cores, 1,800-odd mutants),
# so not part of make test or CI. Settings: [tool.mutmut] in pyproject.toml. mutmut keeps
# its copy of the code and its results in mutants/ and, run again, tests only the mutants
# without a result (those of changed functions among them); after changing the tests,
# rerun the survivors by name, or delete mutants/ to start afresh.
#   make mutate                                          # every module
#   make mutate MUTANTS='loginflow.auth.* loginflow.remember.*'   # some (names or patterns)
#   .venv/bin/mutmut results                             # the survivors (not the killed)
#   .venv/bin/mutmut show NAME                           # one mutant's diff
#   .venv/bin/mutmut browse                              # all of it in the terminal
# Not mutmut print-time-estimates: in 3.8 it empties the tests-per-function map in
# mutants/mutmut-stats.json, after which mutants count as untested (delete mutants/ then).
# mutmut only finds a package at the top level or under src/, so src is a symlink to site/.
MUTANTS ?=
mutate: $(VENV)/.installed-mutate
	@test -L src || { test ! -e src || { echo "src exists and is not make mutate's symlink" >&2; exit 1; }; \
	  ln -s site src; }
	$(BIN)/mutmut run $(MUTANTS)

# What the pattern costs (bench/): loginflow with production settings, a minimal Flask-Login
# site and a bare Flask route, each under gunicorn (1 worker, 4 threads) on 127.0.0.1,
# loaded by wrk (Debian's; installed with apt-get when missing and running as root) in
# alternating rounds. Prints one table of ratios with the absolute figures and the
# machine, writes it as JSON to BENCH_JSON, then the capacity on paper computed from it.
# About three minutes; a busy machine makes the figures noisy, the ratios less so. Nothing
# in CI runs it or asserts a time.
#   make bench                                  # 5 rounds of 4 s a measurement
#   make bench BENCH_ARGS='--rounds 7 --seconds 6'
#   make capacity                               # the capacity again, from BENCH_JSON
BENCH_JSON ?= bench/results.json
BENCH_ARGS ?=
bench: $(VENV)/.installed-run
	$(BIN)/python -m bench --json $(BENCH_JSON) $(BENCH_ARGS)
	@echo "==> The capacity on paper, from $(BENCH_JSON)"
	$(BIN)/python -m bench.capacity $(BENCH_JSON)

capacity: $(VENV)/.installed-run
	$(BIN)/python -m bench.capacity $(BENCH_JSON)
