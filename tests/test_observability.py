"""JSON log lines with request and task ids, the request-id header, /healthz and Sentry."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import types
from collections.abc import Iterator
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from config import observability
from config.celery import app

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the production console handler writes, captured from the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(observability.ContextFilter())
    handler.setFormatter(observability.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def log_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused at once, and no other process can
    take the port while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_production_logging_config_puts_the_context_filter_and_json_formatter_on_the_console():
    config = observability.logging_config(json_lines=True, level="WARNING")

    assert config["handlers"] == {
        "console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": "json"}
    }
    assert config["filters"] == {"context": {"()": "config.observability.ContextFilter"}}
    assert config["formatters"] == {"json": {"()": "config.observability.JsonFormatter"}}
    assert config["root"] == {"handlers": ["console"], "level": "WARNING"}
    assert (
        "formatter"
        not in observability.logging_config(json_lines=False, level="INFO")["handlers"]["console"]
    )


@pytest.mark.django_db
def test_a_log_line_during_a_request_has_the_request_id_of_the_response_header(client, json_log):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert HEX_ID.fullmatch(request_id)
    [line] = [line for line in log_lines(json_log) if line["logger"] == "django.request"]
    assert line == {
        "time": line["time"],
        "level": "WARNING",
        "logger": "django.request",
        "message": "Not Found: /no-such-page/",
        "request_id": request_id,
        "task_id": None,
        "status_code": 404,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    # The id belongs to that request only.
    assert observability.request_id_var.get() is None
    assert client.get("/no-such-page/")["X-Request-ID"] != request_id


@pytest.mark.django_db
def test_a_client_sent_request_id_is_ignored_without_a_trusted_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0

    response = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"})

    assert response["X-Request-ID"] != "chosen-by-the-client"
    assert HEX_ID.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
def test_the_trusted_proxy_request_id_is_kept_when_it_has_an_ids_shape(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"

    kept = client.get("/healthz", headers={"X-Request-ID": "3f2a9c1e-proxy.id_01"})
    forged = client.get("/healthz", headers={"X-Request-ID": 'x" "level": "ERROR'})
    too_long = client.get("/healthz", headers={"X-Request-ID": "a" * 65})

    assert kept["X-Request-ID"] == "3f2a9c1e-proxy.id_01"
    assert HEX_ID.fullmatch(forged["X-Request-ID"])
    assert HEX_ID.fullmatch(too_long["X-Request-ID"])


@app.task(name="tests.test_observability.log_a_line")
def log_a_line() -> None:
    logging.getLogger("tests.task").warning("working on it")


def test_a_log_line_from_a_task_has_its_task_id_and_the_id_is_cleared_after(json_log):
    result = log_a_line.apply()

    [line] = [line for line in log_lines(json_log) if line["logger"] == "tests.task"]
    assert line["task_id"] == result.id
    assert line["message"] == "working on it"
    assert line["request_id"] is None
    assert observability.task_id_var.get() is None


def test_exceptions_and_plain_extras_are_in_the_line_objects_are_not(json_log):
    try:
        raise ValueError("bad input")
    except ValueError:
        logging.getLogger("tests.extra").exception(
            "failed", extra={"invoice_id": 7, "request": object()}
        )

    [line] = log_lines(json_log)
    assert line["invoice_id"] == 7
    assert "request" not in line
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("ValueError: bad input")


@pytest.mark.django_db
def test_healthz_with_only_the_database_configured(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"

    with mock.patch("django.db.connection.cursor", side_effect=DatabaseError("down")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_down(client, settings, closed_port):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    settings.CELERY_BROKER_URL = "memory://"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "redis": "unavailable"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, settings, closed_port):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "broker": "unavailable"}


@pytest.mark.django_db
@pytest.mark.redis
def test_healthz_with_redis_and_the_broker_up(client, settings, require_redis):
    settings.REDIS_URL = require_redis
    settings.CELERY_BROKER_URL = require_redis

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "broker": "ok"}


def test_sentry_init_passes_the_dsn_and_sends_no_personal_data(monkeypatch):
    fake = types.ModuleType("sentry_sdk")
    fake.init = mock.Mock()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentry_sdk", fake)

    observability.sentry_init(
        dsn="https://key@sentry.example/1", environment="staging", traces_sample_rate=0.1
    )

    fake.init.assert_called_once_with(  # type: ignore[attr-defined]
        dsn="https://key@sentry.example/1",
        environment="staging",
        traces_sample_rate=0.1,
        send_default_pii=False,
    )


def test_sentry_dsn_without_the_package_says_what_to_install(monkeypatch):
    # None in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)

    with pytest.raises(ImproperlyConfigured) as refused:
        observability.sentry_init(dsn="https://key@sentry.example/1", environment="production",
                                  traces_sample_rate=0.0)  # fmt: skip

    assert str(refused.value) == (
        "SENTRY_DSN is set but sentry-sdk is not installed: pip install '.[sentry]'"
    )


def test_production_settings_log_json_lines_and_leave_sentry_alone(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SENTRY_DSN", "DJANGO_LOG_FORMAT")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="a-production-like-secret-key-for-this-test-only-0123456789",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    script = (
        "import logging, sys, django; django.setup(); "
        "logging.getLogger('ops.test').warning('hello %s', 'world'); "
        "print('sentry_sdk' in sys.modules)"
    )

    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == "False\n"
    [line] = [json.loads(raw) for raw in done.stderr.splitlines()]
    assert line == {
        "time": line["time"],
        "level": "WARNING",
        "logger": "ops.test",
        "message": "hello world",
        "request_id": None,
        "task_id": None,
    }


def test_celery_logs_through_the_settings_with_the_command_lines_level(settings):
    from config.celery import logging_from_settings

    settings.LOGGING = observability.logging_config(json_lines=True, level="INFO")
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        logging_from_settings(loglevel=logging.WARNING)

        [handler] = root.handlers
        assert root.level == logging.WARNING
        assert isinstance(handler.formatter, observability.JsonFormatter)
        assert [type(f) for f in handler.filters] == [observability.ContextFilter]
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    # The setting itself is left as it was.
    assert settings.LOGGING["root"]["level"] == "INFO"
