"""The sandbox HTTP server: a standalone fake Qoyod on the standard library.

sandbox = SandboxServer(port=0).start()      # a thread; port 0 picks a free port
sandbox.base_url                             # "http://127.0.0.1:<port>/2.0"
SandboxServer(keys=["the-api-key"])         # only known keys are served (or accept_any_key)
sandbox.company("the-api-key")              # that key's company (opened on first use)
sandbox.faults.fail_next(2, status=503)      # see faults.py
held = sandbox.faults.hold_next(method="GET")  # unanswered until held.release()
sandbox.requests.find(method="POST")         # what the client sent
sandbox.stop()
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from qoyod_sync.sandbox import api, control, persist
from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.faults import Faults, Rule, default_body

API_PREFIX = "/2.0"


class SandboxState:
    """Every company, keyed by a digest of its API key; one lock guards all of them.

    Like Qoyod, a key the sandbox does not know is refused with 401. A key is known once
    allowed (`allow`: `--key`, the tests' key) or once a company is opened for it
    (`company_for_key`: tests, POST /_sandbox/keys); a sandbox that accepts any key (the demo)
    knows every key. A known key's company is opened and seeded on its first request.
    """

    def __init__(
        self,
        *,
        opening_stock: Decimal = Decimal("0"),
        accept_any_key: bool = False,
        state_path: Path | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.opening_stock = opening_stock
        self.accept_any_key = accept_any_key
        # Without a path (tests) the books live in memory only; see persist.py.
        self.state_path = state_path
        self._by_key: dict[str, Company] = {}
        self._allowed: set[str] = set()
        self._revoked: set[str] = set()
        if state_path is not None:
            persist.load(self, state_path)

    def changed(self) -> None:
        """Keep the books after a successful write, when the sandbox has a state file."""
        if self.state_path is None:
            return
        with self.lock:
            persist.save(self, self.state_path)

    def company_for_key(self, api_key: str) -> Company:
        """The key's company, opened and seeded on first use."""
        with self.lock:
            company = self._by_key.get(key_digest(api_key))
            if company is None:
                company = Company(
                    number=len(self._by_key) + 1,
                    key_hint=key_hint(api_key),
                    lock=self.lock,
                    opening_stock=self.opening_stock,
                )
                self._by_key[key_digest(api_key)] = company
                self.changed()
            return company

    def allow(self, api_key: str) -> None:
        """Serve this key from now on; its company opens on first use."""
        with self.lock:
            self._allowed.add(key_digest(api_key))

    def serving(self, api_key: str) -> Company | None:
        """The company an API request with this key reaches, or None when Qoyod answers 401."""
        with self.lock:
            digest = key_digest(api_key)
            if not api_key or digest in self._revoked:
                return None
            if self.accept_any_key or digest in self._allowed or digest in self._by_key:
                return self.company_for_key(api_key)
            return None

    def company_by_number(self, number: int) -> Company | None:
        with self.lock:
            return next((c for c in self._by_key.values() if c.number == number), None)

    def companies(self) -> list[Company]:
        with self.lock:
            return sorted(self._by_key.values(), key=lambda c: c.number)

    def revoke(self, api_key: str) -> None:
        """From now on this key gets 401, as a key regenerated in Qoyod would."""
        with self.lock:
            self._revoked.add(key_digest(api_key))
            self.changed()

    def reinstate(self, api_key: str) -> None:
        """Serve a revoked key again."""
        with self.lock:
            self._revoked.discard(key_digest(api_key))
            self.changed()

    def is_revoked(self, api_key: str) -> bool:
        with self.lock:
            return key_digest(api_key) in self._revoked

    def reset(self) -> None:
        """Forget every company; the allowed keys stay, as the sandbox was started with them."""
        with self.lock:
            self._by_key.clear()
            self._revoked.clear()
            self.changed()

    # used by persist.py

    def keyed_companies(self) -> list[tuple[str, Company]]:
        with self.lock:
            return sorted(self._by_key.items(), key=lambda item: item[1].number)

    def revoked_digests(self) -> set[str]:
        with self.lock:
            return set(self._revoked)

    def adopt(self, digest: str, company: Company) -> None:
        with self.lock:
            self._by_key[digest] = company

    def revoke_digests(self, digests: Iterable[str]) -> None:
        with self.lock:
            self._revoked.update(digests)


def key_digest(api_key: str) -> str:
    """What the sandbox keeps of a key: the key itself is never stored."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def key_hint(api_key: str) -> str:
    """What the sandbox shows of a key: its last four characters."""
    return "…" + api_key[-4:]


def key_id(api_key: str) -> str:
    """A short, stable, non-reversible label for a key in recorded requests."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


@dataclass
class RecordedRequest:
    method: str
    path: str  # with the /2.0 prefix, without the query
    query: list[tuple[str, str]]
    body: Any
    has_api_key: bool
    key_id: str | None  # a digest label, never the key
    status: int | None = None  # None when the connection was dropped without an answer
    at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "has_api_key": self.has_api_key,
            "key_id": self.key_id,
            "status": self.status,
            "at": self.at,
        }


class RequestLog:
    """Every API request the sandbox received, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def add(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def find(self, *, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Requests with this method and/or whose path starts with `path` (e.g. "/2.0/invoices")."""
        return [
            r
            for r in self.all()
            if (method is None or r.method == method) and (path is None or r.path.startswith(path))
        ]

    def count(self, *, method: str | None = None, path: str | None = None) -> int:
        return len(self.find(method=method, path=path))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        self.sandbox._accepted(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        self.sandbox._finished(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout, a closed pool) is normal here, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """A fake Qoyod company server with fault injection, request recording and a control page."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = True,
        strict_filters: bool = False,
        opening_stock: Decimal = Decimal("0"),
        accept_any_key: bool = False,
        keys: Iterable[str] = (),
        state_path: Path | None = None,
        late_answer_seconds: float = 60.0,
    ) -> None:
        self.state = SandboxState(
            opening_stock=opening_stock, accept_any_key=accept_any_key, state_path=state_path
        )
        for api_key in keys:
            self.state.allow(api_key)
        self.faults = Faults()
        self.requests = RequestLog()
        # Unknown q[...] filters are ignored like real Qoyod; strict refuses them with a 400,
        # so a test notices a filter the sandbox (and perhaps Qoyod) does not know.
        self.strict_filters = strict_filters
        # How long the page's "times out" switch holds a POST: past the client's read timeout.
        self.late_answer_seconds = late_answer_seconds
        self.quiet = quiet
        self._lock = threading.Lock()
        self._accepted_count = 0
        self._open: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sandbox = self

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The Qoyod base URL to configure a client with."""
        return f"{self.root_url}{API_PREFIX}"

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted since start: connection reuse shows here."""
        with self._lock:
            return self._accepted_count

    def company(self, api_key: str) -> Company:
        return self.state.company_for_key(api_key)

    def start(self) -> SandboxServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        try:
            self._httpd.serve_forever()
        finally:
            self._close_all()

    def stop(self) -> None:
        self.faults.release_holds()
        self._httpd.shutdown()
        self._close_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _close_all(self) -> None:
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            # Wakes handler threads parked on idle keep-alive connections.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()

    def _accepted(self, conn: socket.socket) -> None:
        with self._lock:
            self._accepted_count += 1
            self._open.add(conn)

    def _finished(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 with a Content-Length on every answer keeps connections alive for reuse.
    protocol_version = "HTTP/1.1"
    server_version = "QoyodSandbox/1.0"
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 30
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (about 40 ms a request on Linux loopback).
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.sandbox.quiet:
            sys.stderr.write(f"[sandbox] {self.address_string()} {format % args}\n")

    # ---- dispatch -------------------------------------------------------------------------

    def _handle(self) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        raw = self._read_body()
        if url.path == API_PREFIX or url.path.startswith(API_PREFIX + "/"):
            self._api(sandbox, url.path, parse_qsl(url.query, keep_blank_values=True), raw)
        elif url.path.startswith(control.PREFIX):
            status, body, headers = control.handle(
                sandbox,
                self.command,
                url.path,
                parse_qsl(url.query, keep_blank_values=True),
                raw,
                self.headers.get("Content-Type", ""),
                self.headers.get("API-KEY", "").strip(),
            )
            self._send(status, body, headers)
        else:
            self._send(404, {"error": "Not Found"})

    def _api(
        self, sandbox: SandboxServer, path: str, pairs: list[tuple[str, str]], raw: bytes
    ) -> None:
        # Header names are case-insensitive here, as §14 asks.
        api_key = self.headers.get("API-KEY", "").strip()
        body, body_error = _decode(raw)
        record = RecordedRequest(
            method=self.command,
            path=path,
            query=pairs,
            body=body,
            has_api_key=bool(api_key),
            key_id=key_id(api_key) if api_key else None,
        )
        sandbox.requests.add(record)
        hold = sandbox.faults.take_hold(self.command, path[len(API_PREFIX) :])
        if hold is None:
            self._process(sandbox, record, api_key, path, pairs, body, body_error)
            return
        hold.hold()
        try:
            self._process(sandbox, record, api_key, path, pairs, body, body_error)
        finally:
            hold.finish()

    def _process(
        self,
        sandbox: SandboxServer,
        record: RecordedRequest,
        api_key: str,
        path: str,
        pairs: list[tuple[str, str]],
        body: Any,
        body_error: str | None,
    ) -> None:
        latency = sandbox.faults.latency
        if latency:
            time.sleep(latency)
        deep = sandbox.faults.deep_page_failure(pairs) if self.command == "GET" else None
        if deep is not None:
            record.status = deep
            self._send(deep, default_body(deep))
            return
        rule = sandbox.faults.take(self.command, path[len(API_PREFIX) :])
        if rule is not None and not rule.commit:
            self._fail(record, rule)
            return
        status, answer, headers = self._answer(sandbox, api_key, path, pairs, body, body_error)
        if rule is not None:
            # Commit-then-fail: the write above is stored, the client never hears of it.
            self._fail(record, rule)
            return
        record.status = status
        self._send(status, answer, headers)

    def _fail(self, record: RecordedRequest, rule: Rule) -> None:
        if rule.status is None:
            self._drop()
            return
        record.status = rule.status
        self._send(
            rule.status, rule.body, {"Retry-After": rule.retry_after} if rule.retry_after else {}
        )

    def _answer(
        self,
        sandbox: SandboxServer,
        api_key: str,
        path: str,
        pairs: list[tuple[str, str]],
        body: Any,
        body_error: str | None,
    ) -> tuple[int, Any, dict[str, str]]:
        company = sandbox.state.serving(api_key)
        if company is None:
            return 401, {"error": "Unauthorized - Invalid API key"}, {}
        limit = sandbox.faults.refusing_limit(key_id(api_key))
        if limit is not None:
            headers = {} if limit.retry_after is None else {"Retry-After": str(limit.retry_after)}
            return 429, {"error": "Too many requests"}, headers
        if body_error is not None:
            return 400, {"error": body_error}, {}
        with sandbox.state.lock:
            status, answer = api.handle(
                company,
                self.command,
                path[len(API_PREFIX) :],
                pairs,
                body,
                strict=sandbox.strict_filters,
                files_url=f"{sandbox.root_url}{control.FILES}",
            )
            if self.command != "GET" and status < 400:
                sandbox.state.changed()
        return status, answer, {}

    # ---- I/O ------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        if isinstance(body, bytes):
            payload = body
            content_type = headers.pop("Content-Type", "text/html; charset=utf-8")
        else:
            payload = json.dumps(body, ensure_ascii=False, default=_json_default).encode()
            content_type = "application/json; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _drop(self) -> None:
        """Close the connection without writing a byte of an answer."""
        self.close_connection = True


def _decode(raw: bytes) -> tuple[Any, str | None]:
    if not raw.strip():
        return None, None
    try:
        return json.loads(raw, parse_float=Decimal), None
    except (ValueError, UnicodeDecodeError):
        return None, "There was a problem in the JSON you submitted"


def _json_default(value: Any) -> Any:
    # Recorded request bodies hold Decimals (parse_float=Decimal); show them exactly as sent.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")
