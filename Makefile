# The two commands: `make demo` (embedded, nothing to install) and `make test` (real services).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: demo test test-browser install lint lock migrations-check bench prodlike clean rehearsal

$(VENV)/.installed: requirements.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

# axe-core for the browser tests, pinned by tests/browser/package-lock.json (git-ignored
# node_modules). The tests drive Debian's chromium (`apt-get install chromium`; .ci/run does it).
BROWSER_DEPS := tests/browser/node_modules/.installed
$(BROWSER_DEPS): tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Run the portal with demo content on SQLite, in-process cache, eager tasks.
demo: install
	env -u DATABASE_URL -u REDIS_URL -u SESSION_REDIS_URL -u CELERY_BROKER_URL -u BREVO_API_KEY \
	  DJANGO_SETTINGS_MODULE=portal.settings.dev sh -c '\
	  $(PY) manage.py migrate --noinput && \
	  $(PY) manage.py load_demo --port $(PORT) && \
	  echo "Serving http://127.0.0.1:$(PORT)/ (also http://covid19.localhost:$(PORT)/)" && \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT)'

## The whole suite against PostgreSQL and Redis (DATABASE_URL / REDIS_URL, default 127.0.0.1),
## the browser journeys (tests/browser/) included.
test: install $(BROWSER_DEPS)
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) -m tests.services
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) -m pytest --create-db --ignore=tests/browser $(PYTEST_ARGS)
	# The browser journeys in a session of their own: they copy the test database as it stands
	# (demo portals loaded at session start), which the transactional tests above flush.
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) -m pytest tests/browser $(PYTEST_ARGS)

## Only the browser journeys and accessibility checks; screenshots in tests/browser/screenshots/.
test-browser: install $(BROWSER_DEPS)
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) -m pytest tests/browser $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

## Freeze the transitive dependency set from pyproject.toml (needs `uv`: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11

## Benchmarks (bench/run.py): all scenarios, or `make bench BENCH_ARGS=signup`.
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles tests/browser/node_modules tests/browser/screenshots

## The launch rehearsal (bench/rehearsal/): day -2 of March 2020 on the production topology,
## with faults, invariants and a report in bench/results/rehearsal/. QUICK=1: small data, < 5 min.
rehearsal: install
	command -v nginx >/dev/null || (apt-get update -qq && apt-get install -y -qq nginx)
	$(PY) -m bench.rehearsal.run $(if $(QUICK),--quick)
