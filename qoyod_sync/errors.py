"""The typed errors every Qoyod call raises; callers branch on the class, never on text.

Family (design.md §3):

    QoyodError
    ├── QoyodUnavailable      a read failed for a temporary reason (after its retries)
    │   ├── QoyodNotSent      the request never left: safe to send again
    │   └── QoyodMaybeSaved   a write whose outcome is unknown: look it up before sending again
    ├── QoyodRejected         400/422 (or another 4xx): nothing saved; `.errors` field → messages
    ├── QoyodUnauthorised     401/403: the key is wrong, unsaved or revoked
    ├── QoyodRateLimited      429 (or our own bucket): nothing saved; `.retry_after` seconds
    └── QoyodNotFound         404 on a single record (an empty list is not an error)

Messages are short English sentences for logs and attempt rows. They are built from what Qoyod
answered and never from the request headers, so the API key cannot leak into them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Qoyod's field-less messages (the array, plain-string and single-`error` body shapes) are
# filed under this key, as Rails does for record-level errors.
BASE = "base"


class QoyodError(Exception):
    """Base class: a Qoyod call did not give the answer the caller asked for."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r})"


class QoyodUnavailable(QoyodError):
    """Qoyod or the network failed for a temporary reason."""


class QoyodNotSent(QoyodUnavailable):
    """The request never reached Qoyod (connect phase); sending it again cannot duplicate."""


class QoyodMaybeSaved(QoyodUnavailable):
    """A write went out but its answer was lost or unreadable; Qoyod may have saved it."""


class QoyodRejected(QoyodError):
    """Qoyod refused the request; `errors` maps field names (or "base") to messages."""

    def __init__(
        self, message: str, *, errors: dict[str, list[str]], status_code: int | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.errors = errors


class QoyodUnauthorised(QoyodError):
    """Qoyod refused the API key."""


class QoyodRateLimited(QoyodError):
    """Too many requests; nothing was processed. `retry_after` is in seconds when known."""

    def __init__(
        self, message: str, *, retry_after: float | None, status_code: int | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class QoyodNotFound(QoyodError):
    """Qoyod has no record at that address."""


def normalise_error_body(body: Any) -> dict[str, list[str]]:
    """Fold Qoyod's five error-body shapes and bare text (§10.2) into field → messages."""
    if isinstance(body, Mapping):
        if "errors" in body:
            return _fold(body["errors"])
        if isinstance(body.get("messages"), Mapping):
            # Shape 4, {"error": "Invalid resource", "messages": {...}}: the "error" text only
            # names the shape, the messages carry the reasons.
            return _fold(body["messages"])
        if "error" in body:
            return _fold(body["error"])
        if "message" in body:
            return _fold(body["message"])
        return _fold(dict(body))
    return _fold(body)


def describe_errors(errors: Mapping[str, list[str]]) -> str:
    """One line for a log or an attempt row: "reference: has already been taken; base text"."""
    parts = []
    for field, messages in errors.items():
        text = ", ".join(messages)
        parts.append(text if field == BASE else f"{field}: {text}")
    return "; ".join(parts)


def _fold(value: Any, field: str = BASE) -> dict[str, list[str]]:
    folded: dict[str, list[str]] = {}
    _fold_into(folded, value, field)
    return folded


def _fold_into(folded: dict[str, list[str]], value: Any, field: str) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, inner in value.items():
            name = str(key) if field == BASE else f"{field}.{key}"
            _fold_into(folded, inner, name)
    elif isinstance(value, list | tuple):
        for item in value:
            _fold_into(folded, item, field)
    else:
        text = str(value).strip()
        if text:
            folded.setdefault(field, []).append(text)
