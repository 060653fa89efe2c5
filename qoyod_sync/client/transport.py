"""The transport under QoyodReader and QoyodWriter: httpx, deadlines and error mapping.

One pooled httpx.Client per process, base URL and key, and one token bucket per key. A Session
turns every outcome of one request into a reply or a typed error from qoyod_sync.errors: reads
are retried within their deadline, writes are sent once.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import httpx
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from qoyod_sync.errors import (
    QoyodError,
    QoyodMaybeSaved,
    QoyodNotFound,
    QoyodNotSent,
    QoyodRateLimited,
    QoyodRejected,
    QoyodUnauthorised,
    QoyodUnavailable,
    describe_errors,
    found_nothing,
    normalise_error_body,
)
from qoyod_sync.ratelimit import Bucket, bucket_for, key_digest

T = TypeVar("T")
Params = Sequence[tuple[str, str | int]]
EventHooks = Mapping[str, Sequence[Callable[..., Any]]]

# A bucket of 10 refilling at 280 a minute allows at most 290 requests in any 60 s window,
# under the 300 Qoyod publishes (qoyod-api.md §11.1).
DEFAULT_BURST = 10
# The answers by which Qoyod refuses the key (wrong, unsaved or revoked).
KEY_REFUSED = (401, 403)


@dataclass(frozen=True)
class RetryPolicy:
    """How reads are retried: exponential backoff with jitter, honouring Retry-After."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 4.0
    # A Retry-After longer than this is not waited for: the read fails as rate limited.
    max_retry_after: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return delay * (0.5 + 0.5 * self.jitter())


def default_timeout() -> httpx.Timeout:
    """Per phase of one request, from settings (config/settings.py says how they nest)."""
    return httpx.Timeout(
        connect=settings.QOYOD_CONNECT_TIMEOUT,
        read=settings.QOYOD_READ_TIMEOUT,
        write=settings.QOYOD_WRITE_TIMEOUT,
        pool=settings.QOYOD_CONNECT_TIMEOUT,
    )


def default_deadline() -> float:
    return float(settings.QOYOD_DEADLINE)


@dataclass(frozen=True)
class ClientOptions:
    """Tuning and test seams; the defaults are production values."""

    timeout: httpx.Timeout = field(default_factory=default_timeout)
    # Seconds: how long one call may keep the caller waiting, retries and rate limiting included.
    deadline: float = field(default_factory=default_deadline)
    # time.monotonic() by which every call must be over, whatever its own deadline: a send's
    # calls share one budget, so the request ends before the web worker's timeout.
    stop_at: float | None = None
    # None reads settings.QOYOD_RATE_LIMIT_PER_MINUTE.
    rate_limit_per_minute: int | None = None
    burst: int = DEFAULT_BURST
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # A transport (httpx.MockTransport, respx) gets its own unpooled client.
    transport: httpx.BaseTransport | None = None
    event_hooks: EventHooks | None = None
    # Told after every answer whether Qoyod refused the key, and to which request ("GET
    # /customers", no query): services.connection_reader and connection_writer record it.
    on_key: Callable[[bool, str], None] | None = None


def quick_options() -> ClientOptions:
    """For a service that may not be running (the demo's sandbox): refused at once, no retries."""
    return ClientOptions(
        timeout=httpx.Timeout(connect=2.0, read=10.0, write=5.0, pool=2.0),
        deadline=15.0,
        retry=RetryPolicy(attempts=1),
    )


# ---- the pooled clients ---------------------------------------------------------------------

_pool: dict[tuple[Any, ...], httpx.Client] = {}
_pool_lock = threading.Lock()


def _forget_pool_after_fork() -> None:
    # A forked worker (Celery prefork, gunicorn) must open its own connections, not write on
    # sockets it shares with its parent; the lock may have been held when the fork happened.
    global _pool_lock
    _pool.clear()
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


@sensitive_variables("api_key")
def _client_for(base_url: str, api_key: str, options: ClientOptions) -> httpx.Client:
    hooks = options.event_hooks or {}
    if options.transport is not None:
        return _new_client(base_url, api_key, hooks, options.transport)
    hooks_key = tuple((name, tuple(funcs)) for name, funcs in sorted(hooks.items()))
    key = (base_url, key_digest(api_key), hooks_key)
    with _pool_lock:
        client = _pool.get(key)
        if client is None or client.is_closed:
            client = _new_client(base_url, api_key, hooks, None)
            _pool[key] = client
        return client


@sensitive_variables("api_key")
def _new_client(
    base_url: str, api_key: str, hooks: EventHooks, transport: httpx.BaseTransport | None
) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        headers={
            "API-KEY": api_key,
            "Accept": "application/json",
            "Content-Type": "application/json",
            # English validation messages where Qoyod localises them (qoyod-api.md §1.3).
            "LOCALE": "en",
        },
        timeout=default_timeout(),
        # Redirects are never followed, reads included: httpx would carry the API-KEY header
        # to whatever host the redirect names (qoyod-api.md §1.1, the legacy-host 307).
        follow_redirects=False,
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
        event_hooks={name: list(funcs) for name, funcs in hooks.items()},
        transport=transport,
    )


def close_pooled_clients(base_url: str | None = None) -> None:
    """Close the pooled clients (for one base URL, or all): tests and process shutdown."""
    with _pool_lock:
        keys = [key for key in _pool if base_url is None or key[0] == base_url.rstrip("/")]
        clients = [_pool.pop(key) for key in keys]
    for client in clients:
        client.close()


# ---- one request, classified ----------------------------------------------------------------


class Reply(NamedTuple):
    status: int
    body: Any  # decoded JSON, or NOT_JSON
    text: str


NOT_JSON: Any = object()


class Session:
    """Sends requests for one base URL and key and turns every outcome into a reply or an error."""

    # Error reports (mailed to ADMINS, the DEBUG page) show the local variables of each frame.
    @sensitive_variables("api_key")
    def __init__(self, base_url: str, api_key: str, options: ClientOptions | None) -> None:
        api_key = api_key.strip()
        if not api_key:
            raise ValueError("a Qoyod API key is required")
        if not all(ch.isprintable() and not ch.isspace() for ch in api_key):
            # Checked here because h11 would refuse it at send time with the key in the text.
            raise ValueError("the Qoyod API key contains characters a header cannot carry")
        self.base_url = base_url.rstrip("/")
        if httpx.URL(self.base_url).scheme not in ("http", "https"):
            raise ValueError("the Qoyod base URL must start with https:// or http://")
        self.options = options or ClientOptions()
        self._client = _client_for(self.base_url, api_key, self.options)
        rate = self.options.rate_limit_per_minute or settings.QOYOD_RATE_LIMIT_PER_MINUTE
        self._bucket: Bucket = bucket_for(api_key, rate_per_minute=rate, burst=self.options.burst)
        # Every request put on the wire, retries included: what a run cost of the rate budget.
        self.sent = 0

    def read(self, path: str, params: Params = (), *, empty_on_not_found: bool = False) -> Any:
        """GET with retries; None when a list answered 404 with a JSON string (an empty list)."""
        retry = self.options.retry
        deadline = self._deadline()
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self._exchange("GET", path, params=params, deadline=deadline, writing=False)
                if reply.status != 404 and reply.body is NOT_JSON:
                    raise QoyodUnavailable(
                        f"Qoyod answered HTTP {reply.status} to GET {path} with a body that is "
                        "not JSON.",
                        status_code=reply.status,
                    )
                break
            except (QoyodUnavailable, QoyodRateLimited) as exc:
                delay = _retry_delay(exc, attempt, retry)
                if (
                    delay is None
                    or attempt >= retry.attempts
                    or time.monotonic() + delay >= deadline
                ):
                    raise
            retry.sleep(delay)
        if reply.status == 404:
            if empty_on_not_found and found_nothing(reply.body):
                return None
            raise QoyodNotFound(
                f"Qoyod found nothing at {path} (HTTP 404): {_snippet(reply)}", status_code=404
            )
        return reply.body

    def write(self, method: str, path: str, payload: Any = None) -> Reply:
        """Send once; never retried, because Qoyod may have saved what it did not confirm."""
        deadline = self._deadline()
        reply = self._exchange(method, path, payload=payload, deadline=deadline, writing=True)
        if reply.status == 404:
            raise QoyodNotFound(
                f"Qoyod found nothing at {path} (HTTP 404): {_snippet(reply)}", status_code=404
            )
        return reply

    def _deadline(self) -> float:
        deadline = time.monotonic() + self.options.deadline
        if self.options.stop_at is not None:
            deadline = min(deadline, self.options.stop_at)
        return deadline

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        deadline: float,
        writing: bool,
        params: Params = (),
        payload: Any = None,
    ) -> Reply:
        if time.monotonic() >= deadline:
            raise QoyodNotSent(
                "The time this request may wait for Qoyod ran out before sending; nothing was sent."
            )
        self._bucket.acquire(deadline)
        request = self._client.build_request(
            method,
            path,
            params=list(params) or None,
            json=payload,
            timeout=self._timeout_until(deadline),
        )
        self.sent += 1
        try:
            response = self._client.send(request, stream=True)
            try:
                raw = self._read_body(response, deadline)
            finally:
                response.close()
        except httpx.TransportError as exc:
            raise _transport_error(exc, writing=writing) from exc
        except _DeadlineExceeded:
            raise lost(
                f"Qoyod did not finish answering within {self.options.deadline:g} s", writing
            ) from None
        if self.options.on_key is not None:
            self.options.on_key(response.status_code in KEY_REFUSED, f"{method} {path}")
        return _classify(response, raw, writing=writing)

    def _timeout_until(self, deadline: float) -> httpx.Timeout:
        remaining = max(0.001, deadline - time.monotonic())
        base = self.options.timeout

        def clip(value: float | None) -> float:
            return remaining if value is None else min(value, remaining)

        return httpx.Timeout(
            connect=clip(base.connect),
            read=clip(base.read),
            write=clip(base.write),
            pool=clip(base.pool),
        )

    def _read_body(self, response: httpx.Response, deadline: float) -> bytes:
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            # httpx's read timeout is per chunk; this makes a slow drip end at the deadline.
            if time.monotonic() > deadline:
                raise _DeadlineExceeded
        return b"".join(chunks)


class _DeadlineExceeded(Exception):
    pass


def _classify(response: httpx.Response, raw: bytes, *, writing: bool) -> Reply:
    status = response.status_code
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text, parse_float=Decimal) if text.strip() else NOT_JSON
    except ValueError:
        body = NOT_JSON
    reply = Reply(status, body, text)
    if 200 <= status < 300 or status == 404:
        return reply
    if 300 <= status < 400:
        raise QoyodNotSent(
            f"Qoyod answered with a redirect (HTTP {status}), which is not followed, so nothing "
            "was processed; check the Qoyod base URL.",
            status_code=status,
        )
    if status in KEY_REFUSED:
        raise QoyodUnauthorised(
            f"Qoyod refused the API key (HTTP {status}): {_snippet(reply)}. Check the key in "
            "the Qoyod connection settings.",
            status_code=status,
        )
    if status == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        when = f"try again in {retry_after:g} s" if retry_after is not None else "try again shortly"
        raise QoyodRateLimited(
            f"Qoyod is rate limiting requests (HTTP 429); {when}.",
            retry_after=retry_after,
            status_code=status,
        )
    if status >= 500:
        raise lost(f"Qoyod had a server error (HTTP {status})", writing, status)
    errors = normalise_error_body(body if body is not NOT_JSON else text)
    if not errors:
        errors = {"base": [f"HTTP {status} without a reason"]}
    raise QoyodRejected(
        f"Qoyod rejected the request (HTTP {status}): {describe_errors(errors)}",
        errors=errors,
        status_code=status,
    )


def lost(what: str, writing: bool, status_code: int | None = None) -> QoyodError:
    """An answer that never came or cannot be read: maybe saved for a write, else unavailable."""
    if writing:
        return QoyodMaybeSaved(
            f"{what}; it may already be saved in Qoyod.", status_code=status_code
        )
    return QoyodUnavailable(f"{what}.", status_code=status_code)


def _transport_error(exc: httpx.TransportError, *, writing: bool) -> QoyodError:
    if isinstance(exc, httpx.ConnectTimeout):
        return QoyodNotSent("Timed out connecting to Qoyod; nothing was sent.")
    if isinstance(exc, httpx.PoolTimeout):
        return QoyodNotSent("Timed out waiting for a free connection to Qoyod; nothing was sent.")
    if isinstance(exc, httpx.ConnectError):
        return QoyodNotSent(f"{_connect_failure(exc)}; nothing was sent.")
    if isinstance(exc, httpx.WriteTimeout):
        # We cannot tell how much of the body left this machine. Calling it "maybe saved"
        # costs one lookup by reference; calling it "not sent" could cost a duplicate.
        return lost("Timed out while sending the request to Qoyod", writing)
    if isinstance(exc, httpx.ReadTimeout):
        return lost("Qoyod did not answer in time", writing)
    return lost("The connection to Qoyod broke before it answered", writing)


def _connect_failure(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return "Could not find Qoyod's server (DNS lookup failed)"
        if isinstance(cause, ConnectionRefusedError):
            return "Qoyod's server refused the connection"
        cause = cause.__cause__ or cause.__context__
    return "Could not connect to Qoyod"


def _retry_delay(exc: QoyodError, attempt: int, retry: RetryPolicy) -> float | None:
    if isinstance(exc, QoyodNotSent) and exc.status_code is not None:
        # A redirect: asking again gets the same answer.
        return None
    if isinstance(exc, QoyodRateLimited):
        if exc.status_code is None:
            # Our own bucket already waited as long as the deadline allows.
            return None
        if exc.retry_after is None:
            return retry.backoff(attempt)
        return exc.retry_after if exc.retry_after <= retry.max_retry_after else None
    return retry.backoff(attempt)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _snippet(reply: Reply) -> str:
    if isinstance(reply.body, str):
        return reply.body
    errors = normalise_error_body(reply.body) if reply.body is not NOT_JSON else {}
    return describe_errors(errors) if errors else (reply.text.strip()[:200] or "no details")


def parse(parser: Callable[[Any], T], data: Any, what: str, *, writing: bool = False) -> T:
    """Apply a types parser; a shape it cannot read becomes a typed error, not a KeyError."""
    try:
        return parser(data)
    except (KeyError, ValueError, TypeError, ArithmeticError):
        raise lost(f"Qoyod's answer to {what} could not be read", writing) from None
