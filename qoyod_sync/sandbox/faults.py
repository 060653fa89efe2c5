"""Fault injection: latency, held requests, canned failures, dropped connections, rate limiting.

Faults apply to the API under /2.0/ only, never to the /_sandbox/ control endpoints.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass
class Rule:
    """One queued fault: answer `status` or drop the connection, with or without processing."""

    remaining: int
    status: int | None = None  # None means drop the connection
    commit: bool = False  # process (and store) the request first, then answer or drop
    body: Any = None
    retry_after: str | None = None
    method: str | None = None
    path: str | None = None  # matches when the API path starts with it, e.g. "/invoices"

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or path.startswith(self.path)

    def describe(self) -> dict[str, Any]:
        return {
            "remaining": self.remaining,
            "action": "drop" if self.status is None else "status",
            "status": self.status,
            "commit": self.commit,
            "method": self.method,
            "path": self.path,
        }


class Hold:
    """The next `count` matching requests, received and then held unanswered until released.

    Qoyod can be slow without bound; a held request lets a test act while a request is
    certainly in flight (a client time-out, a worker killed mid-read) instead of guessing a
    latency. Once released, each is processed and answered as usual.

    With `release_after`, each held request is also released that many seconds after it came
    in: a Qoyod slower than the client's read timeout, which still saves the write.
    """

    def __init__(
        self,
        count: int,
        method: str | None,
        path: str | None,
        release_after: float | None = None,
    ) -> None:
        self.remaining = count
        self.method = method
        self.path = path
        self.release_after = release_after
        self._changed = threading.Condition()
        self._received = 0
        self._finished = 0
        self._released = False

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or path.startswith(self.path)

    @property
    def received(self) -> int:
        """How many requests this hold has taken in so far."""
        with self._changed:
            return self._received

    @property
    def released(self) -> bool:
        with self._changed:
            return self._released

    def wait_received(self, count: int = 1, *, timeout: float = 30) -> None:
        """Return once `count` requests are held; TimeoutError if they do not come."""
        self._wait(lambda: self._received >= count, timeout, f"{count} held request(s)")

    def release(self) -> None:
        """Let every request this hold took in (or will) be processed and answered."""
        with self._changed:
            self._released = True
            self._changed.notify_all()

    def wait_finished(self, count: int = 1, *, timeout: float = 30) -> None:
        """Return once `count` released requests are processed and answered (or their client
        was gone); TimeoutError otherwise."""
        self._wait(lambda: self._finished >= count, timeout, f"{count} finished request(s)")

    def describe(self) -> dict[str, Any]:
        with self._changed:
            return {
                "remaining": self.remaining,
                "method": self.method,
                "path": self.path,
                "received": self._received,
                "released": self._released,
                "release_after": self.release_after,
            }

    # used by the server

    def hold(self) -> None:
        """Count this request in and block until released."""
        with self._changed:
            self._received += 1
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._released, timeout=self.release_after)

    def finish(self) -> None:
        with self._changed:
            self._finished += 1
            self._changed.notify_all()

    def _wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                raise TimeoutError(f"the sandbox saw no {what} within {timeout:g} s")


@dataclass(frozen=True)
class DeepPages:
    status: int


@dataclass
class RateLimit:
    per_minute: int
    retry_after: int | None
    seen: dict[str, deque[float]] = field(default_factory=dict)


class Faults:
    """The sandbox's fault switches; safe to change from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latency = 0.0
        self._rules: list[Rule] = []
        self._holds: list[Hold] = []
        self._rate_limit: RateLimit | None = None
        self._deep_pages: DeepPages | None = None

    def set_latency(self, milliseconds: float) -> None:
        """Delay every API answer by this much."""
        with self._lock:
            self._latency = max(0.0, milliseconds) / 1000

    def hold_next(
        self,
        count: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        release_after: float | None = None,
    ) -> Hold:
        """Hold the next `count` matching requests unanswered until the returned hold is
        released (clear() releases every hold), or each for `release_after` seconds."""
        hold = Hold(count, method, path, release_after)
        with self._lock:
            self._holds.append(hold)
        return hold

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        body: Any = None,
        retry_after: int | str | None = None,
        commit: bool = False,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `count` matching requests with `status`; without commit they are not
        processed, with commit they are stored first (a 502 from a proxy after Qoyod saved, a
        200 whose body is an HTML page)."""
        with self._lock:
            self._rules.append(
                Rule(
                    remaining=count,
                    status=status,
                    commit=commit,
                    body=default_body(status) if body is None else body,
                    retry_after=None if retry_after is None else str(retry_after),
                    method=method,
                    path=path,
                )
            )

    def drop_next(
        self,
        count: int = 1,
        *,
        commit: bool = True,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Close the connection without answering; with commit, store the write first."""
        with self._lock:
            self._rules.append(Rule(remaining=count, commit=commit, method=method, path=path))

    def release_holds(self) -> None:
        """Release every hold: the requests they hold are answered, later ones pass."""
        with self._lock:
            holds, self._holds = self._holds, []
        for hold in holds:
            hold.release()

    def rate_limit(self, per_minute: int | None, *, retry_after: int | None = 30) -> None:
        """Answer 429 once a key has sent `per_minute` requests in the last 60 s (None: off)."""
        with self._lock:
            self._rate_limit = None if per_minute is None else RateLimit(per_minute, retry_after)

    def clear(self) -> None:
        with self._lock:
            self._latency = 0.0
            self._rules.clear()
            self._rate_limit = None
            self._deep_pages = None
        # No handler thread stays parked on a hold nobody will release.
        self.release_holds()

    def configure(self, spec: Mapping[str, Any]) -> None:
        """Apply a control-endpoint body (see qoyod_sync.sandbox.control)."""
        if spec.get("clear"):
            self.clear()
        if "latency_ms" in spec:
            self.set_latency(float(spec["latency_ms"]))
        if "hold_next" in spec:
            options = dict(spec["hold_next"])
            self.hold_next(int(options.pop("count", 1)), **options)
        if spec.get("release"):
            self.release_holds()
        if "fail_next" in spec:
            options = dict(spec["fail_next"])
            self.fail_next(int(options.pop("count", 1)), **options)
        if "drop_next" in spec:
            options = dict(spec["drop_next"])
            self.drop_next(int(options.pop("count", 1)), **options)
        if "fail_deep_pages" in spec:
            options = spec["fail_deep_pages"]
            self.fail_deep_pages(None if options is None else int(options.get("status", 500)))
        if "rate_limit" in spec:
            options = spec["rate_limit"]
            if options is None:
                self.rate_limit(None)
            else:
                self.rate_limit(
                    int(options["per_minute"]), retry_after=options.get("retry_after", 30)
                )

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            limit = self._rate_limit
            return {
                "latency_ms": self._latency * 1000,
                "rules": [rule.describe() for rule in self._rules],
                "holds": [hold.describe() for hold in self._holds],
                "rate_limit": None
                if limit is None
                else {"per_minute": limit.per_minute, "retry_after": limit.retry_after},
                "fail_deep_pages": None
                if self._deep_pages is None
                else {"status": self._deep_pages.status},
            }

    # used by the server

    @property
    def latency(self) -> float:
        with self._lock:
            return self._latency

    def take(self, method: str, path: str) -> Rule | None:
        """The first rule matching this request, counted down; None when none applies."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def take_hold(self, method: str, path: str) -> Hold | None:
        """The first hold matching this request, counted down; None when none applies.

        A hold stays listed once its count is used up, so that clear() still releases it.
        """
        with self._lock:
            for hold in self._holds:
                if hold.remaining > 0 and hold.matches(method, path):
                    hold.remaining -= 1
                    return hold
        return None

    def refusing_limit(self, key_id: str) -> RateLimit | None:
        """The rate limit this request breaks (it is then not counted), or None."""
        with self._lock:
            limit = self._rate_limit
            if limit is None:
                return None
            now = time.monotonic()
            seen = limit.seen.setdefault(key_id, deque())
            while seen and seen[0] <= now - 60:
                seen.popleft()
            if len(seen) >= limit.per_minute:
                return limit
            seen.append(now)
            return None

    # lists that fail past the first page

    def fail_deep_pages(self, status: int | None = 500) -> None:
        """Answer every request for page 2 or later with `status` until cleared (None: off).

        Some large tenants fail this way on deep offsets while paging by id still works
        (qoyod-api.md §9.4, §10.6).
        """
        with self._lock:
            self._deep_pages = None if status is None else DeepPages(status)

    def deep_page_failure(self, pairs: list[tuple[str, str]]) -> int | None:
        """The status to answer a request with these query pairs, if it asks past page 1."""
        with self._lock:
            deep = self._deep_pages
        if deep is None:
            return None
        page = dict(pairs).get("page", "1")
        return deep.status if page.isdigit() and int(page) > 1 else None


def default_body(status: int) -> Any:
    if status == 429:
        return {"error": "Too many requests"}
    if status >= 500:
        # Rails' JSON 500 body as a user reported it (qoyod-api.md §10.6).
        return {"status": status, "error": HTTPStatus(status).phrase}
    return {"error": HTTPStatus(status).phrase}
