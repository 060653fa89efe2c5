# One command runs the app (`make run`), one runs the tests (`make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8765
# The demo connection (seed_demo) points where this run starts the sandbox.
export QOYOD_SANDBOX_URL ?= http://127.0.0.1:$(SANDBOX_PORT)/2.0

.PHONY: run test worker beat sandbox lint format messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# Serves the demo on http://$(HOST):$(PORT) with the Qoyod sandbox and a Celery worker (with beat
# embedded) beside it; Ctrl-C stops all three. Without REDIS_URL the broker is a folder under var/.
run: $(VENV)/.installed
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo --sandbox-state var/qoyod-sandbox.json
	@# The trap clears itself first: `kill 0` signals this shell too, which would re-enter it.
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(BIN)/python manage.py qoyod_sandbox --port $(SANDBOX_PORT) --opening-stock 50 --accept-any-key \
		--state var/qoyod-sandbox.json & \
	$(BIN)/celery -A config worker -B --pool=solo --loglevel=WARNING \
		--schedule var/celerybeat-schedule & \
	SHOW_DEMO_LOGINS=true $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/pytest

# A worker and beat on their own, as production runs them (with REDIS_URL; without it they share
# the folder broker under var/, so stop `make run` first or it takes the tasks too).
worker: $(VENV)/.installed
	$(BIN)/celery -A config worker --loglevel=INFO

beat: $(VENV)/.installed
	$(BIN)/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

sandbox: $(VENV)/.installed
	@mkdir -p var
	$(BIN)/python manage.py qoyod_sandbox --port $(SANDBOX_PORT) --accept-any-key \
		--state var/qoyod-sandbox.json

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the Arabic catalogue after changing strings (needs GNU gettext).
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -l ar --ignore=.venv --ignore=var --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
