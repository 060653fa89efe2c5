"""Operations plumbing: JSON log lines carrying the request and Celery task they belong to, the
request-id middleware, the health checks behind /healthz and the optional Sentry set-up.

settings.py imports this module, so it imports nothing that reads Django settings at import time.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy may hand over: ids of the usual shapes (uuid, hex, base64url), never a value that
# could forge a log line or fill the log with a client's text.
_FORWARDED_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Every attribute a LogRecord has on its own; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_EXTRA_TYPES = (str, int, float, bool, type(None))


class ContextFilter(logging.Filter):
    """Puts the current request id and task id on every record the handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.task_id = task_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (docker logs, Loki, CloudWatch).

    Extra fields of plain types are kept; objects (Django's `request` extra) are left out rather
    than turned into their repr, which can carry query strings.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "task_id": getattr(record, "task_id", None),
        }
        for key, value in vars(record).items():
            if isinstance(value, _EXTRA_TYPES) and key not in _RECORD_ATTRIBUTES:
                line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def logging_config(*, json_lines: bool, level: str) -> dict[str, Any]:
    """The LOGGING setting: every record through one console handler that adds the context ids."""
    handler: dict[str, Any] = {"class": "logging.StreamHandler", "filters": ["context"]}
    if json_lines:
        handler["formatter"] = "json"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "config.observability.ContextFilter"}},
        "formatters": {"json": {"()": "config.observability.JsonFormatter"}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
    }


class RequestIdMiddleware:
    """Gives each request an id, kept in a context variable for the log lines it causes and
    echoed in the X-Request-ID response header.

    A client could send any X-Request-ID, so the header is taken only when settings say a proxy
    is in front (TRUSTED_PROXY_COUNT) and it has an id's shape; otherwise a fresh uuid4 is used.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.trust_header = settings.TRUSTED_PROXY_COUNT > 0
        # Django logs 4xx answers after the middleware has returned, so the id is cleared only
        # once the response is closed.
        request_finished.connect(request_context_clear, dispatch_uid="request_context_clear")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.headers.get(REQUEST_ID_HEADER, "") if self.trust_header else ""
        request_id = forwarded if _FORWARDED_REQUEST_ID.fullmatch(forwarded) else uuid.uuid4().hex
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def request_context_clear(**kwargs: Any) -> None:
    request_id_var.set(None)


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    """Report errors to Sentry. Imported only here, only when SENTRY_DSN is set: sentry-sdk is
    the optional `sentry` extra. Its Django, Celery and logging integrations enable themselves."""
    try:
        import sentry_sdk
    except ImportError as missing:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "SENTRY_DSN is set but sentry-sdk is not installed: pip install '.[sentry]'"
        ) from missing
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        # Customers' names, phones and the Qoyod key travel in requests; Sentry gets none of it.
        send_default_pii=False,
    )


# Each network step of a check (connect, then one answer) waits at most this long, so /healthz
# with Redis and the broker both unreachable still answers within about two seconds.
HEALTH_TIMEOUT_SECONDS = 0.5
_log = logging.getLogger(__name__)


def health_database() -> bool:
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        _log.warning("Health check: the database failed: %s", error)
        return False
    return True


def health_redis(*, url: str) -> bool:
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=HEALTH_TIMEOUT_SECONDS, socket_timeout=HEALTH_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as error:
        _log.warning("Health check: Redis failed: %s", error)
        return False
    finally:
        client.close()
    return True


def health_broker(*, url: str) -> bool:
    """Connect to the Celery broker once, without the retries a worker would make."""
    from kombu.exceptions import OperationalError

    from config.celery import app

    with app.connection_for_write(
        url=url,
        connect_timeout=HEALTH_TIMEOUT_SECONDS,
        transport_options={"socket_timeout": HEALTH_TIMEOUT_SECONDS},
    ) as broker:
        failures: tuple[type[BaseException], ...] = (OperationalError, *broker.connection_errors)
        try:
            broker.ensure_connection(max_retries=0)
        except failures as error:
            _log.warning("Health check: the broker failed: %s", error)
            return False
    return True
