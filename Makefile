# Krachtspiegel: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PO_FILES := $(wildcard survey/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test lint format translations extract-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The installed project; reinstalled when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --config-settings editable_mode=compat -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --config-settings editable_mode=compat -e '.[dev]'
	touch $@ $(VENV)/.installed

%.mo: %.po | $(BIN)/python
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ --statistics

translations: $(MO_FILES)

run: $(VENV)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) questionnaires load
	$(FLASK) demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# SQLite always; PostgreSQL too when TEST_DATABASE_URL is set. Browser tests run once, on SQLite.
# TEST_WORKERS pytest-xdist workers (0: none), each on its own SQLite file or PostgreSQL database;
# a test file stays on one worker (--dist loadfile), so its module fixtures are built once.
TEST_WORKERS ?= 2
PYTEST_PARALLEL := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile
test: $(VENV)/.installed-dev translations lint
	@if [ -x /usr/bin/chromium ]; then echo "Browser tests: running in /usr/bin/chromium."; \
	else echo "Browser tests: SKIPPED, /usr/bin/chromium is missing (apt-get install -y chromium)."; fi
	env -u TEST_DATABASE_URL $(PYTEST_PARALLEL)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "Again on PostgreSQL ($$TEST_DATABASE_URL), without the browser tests:"; \
		$(PYTEST_PARALLEL) -m "not browser"; \
	else echo "PostgreSQL: not tested (set TEST_DATABASE_URL=postgresql+psycopg://... to include it)."; fi

# The browser tests again, keeping screenshots of the pages they visit (and the figures and PDF
# they measured) in tests/e2e/screenshots/ to be looked at; the everyday suite takes none.
.PHONY: screenshots
screenshots: $(VENV)/.installed-dev translations
	E2E_SCREENSHOTS=1 $(PYTEST_PARALLEL) tests/e2e
	@echo "Screenshots: tests/e2e/screenshots/"

extract-messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -o survey/translations/messages.pot .
	$(BIN)/pybabel update -i survey/translations/messages.pot -d survey/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Benchmarks and reliability checks (tests/benchmarks/, tests/reliability/; never part of make
# test), on SQLite and PostgreSQL: submission throughput against the floor, the pages at every
# organisation size with a gunicorn worker's memory, then load, worker kills, a PostgreSQL
# restart and two app servers on one PostgreSQL and one Redis (TEST_REDIS_URL, default
# redis://127.0.0.1:6379/5) against gunicorn. 14 min 27 s on the idle 2-core machine
# (2026-12-07); QUICK=1 2 min 32 s (shorter runs, medium size only, no reliability checks).
# The last table sums up; all figures: tests/benchmarks/results/latest.json.
RELIABILITY := $(BIN)/pytest -p no:randomly -o python_files='check_*.py' tests/reliability
.PHONY: bench
bench: $(VENV)/.installed-dev translations
	$(BIN)/python -m tests.benchmarks.bench_submit $(if $(QUICK),--quick,)
	$(BIN)/python -m tests.benchmarks.bench_quality $(if $(QUICK),--quick,)
	$(BIN)/python -m tests.benchmarks.bench_dashboard --large-units --database postgresql $(if $(QUICK),--quick,)
	$(BIN)/python -m tests.benchmarks.bench_lighthouse --quick
ifndef QUICK
	env -u TEST_DATABASE_URL $(RELIABILITY)
	@url=$$($(BIN)/python -m tests.benchmarks.summary --fresh-postgresql krachtspiegel_bench_reliability); \
	if [ -n "$$url" ]; then echo "Reliability checks again on PostgreSQL ($$url):"; \
		TEST_DATABASE_URL=$$url $(RELIABILITY) -k "not pg_restart"; \
	else echo "Reliability checks on PostgreSQL: SKIPPED, the server does not answer."; fi
endif
	@echo
	@$(BIN)/python -m tests.benchmarks.summary
