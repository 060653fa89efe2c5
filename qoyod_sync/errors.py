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

Where the class is not enough, because Qoyod says what it objects to only in its words, the
predicates below are the one place that reads those words (each cites the qoyod-api.md § whose
shape it matches); callers branch on them, never on the text. We send `LOCALE: en` (§1.3),
but a tenant may answer in Arabic all the same (§15.27), so a predicate that must read words
reads both.
"""

from __future__ import annotations

import re
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


def found_nothing(body: Any) -> bool:
    """A 404 that means an empty list, not an unknown id (qoyod-api.md §9.1, §10.4, §15.26).

    Lists answer with a bare JSON string (`"We could not retrieve your customers, we found
    nothing."`), in English or, where the LOCALE header is honoured, in Arabic (§10.5, §15.27),
    so the shape decides, not the words. A bad id answers a string too, so only a list call may
    ask; an object or a page that is not JSON (a proxy's, a route Qoyod lacks) is not an empty
    list.
    """
    return isinstance(body, str)


# What Rails' `taken` validation says, in the languages Qoyod answers in (§10.5, §15.27).
_TAKEN = ("taken", "محجوز", "مستخدم", "مسبق", "موجود", "مأخوذ")
_REFERENCE = ("reference", "مرجع")


def reference_taken(exc: QoyodError) -> bool:
    """Qoyod already has a document with this reference (qoyod-api.md §10.2, §10.5, §11.2).

    Shapes: the field object 422 `{"errors": {"reference": ["has already been taken"]}}` (also
    under `messages`, §10.2 shape 4), the array or plain-string form
    `{"errors": ["Reference has already been taken"]}`, and either in Arabic
    (`{"errors": {"reference": ["محجوز مسبقاً"]}}`, `["المرجع مستخدم من قبل"]`). A message filed
    under `reference` must say "taken"; a field-less one must also name the reference.
    """
    if not isinstance(exc, QoyodRejected):
        return False
    for field, messages in exc.errors.items():
        on_reference = field == "reference" or field.endswith(".reference")
        for message in messages:
            text = message.casefold()
            if not any(word in text for word in _TAKEN):
                continue
            if on_reference or (field == BASE and any(word in text for word in _REFERENCE)):
                return True
    return False


def sku_taken(exc: QoyodError) -> bool:
    """Qoyod refused a product for its SKU, which must be unique (qoyod-api.md §4.1, §11.2).

    Shape: 422 `{"errors": {"sku": ["Reference is already taken by id 4619"]}}`; uniqueness is
    the only SKU rule Qoyod documents, so any objection filed under `sku` counts.
    """
    return isinstance(exc, QoyodRejected) and "sku" in exc.errors


def sku_taken_by(exc: QoyodError) -> int | None:
    """The Qoyod id of the product that holds the SKU, when the refusal names it (§10.5)."""
    if not isinstance(exc, QoyodRejected) or not sku_taken(exc):
        return None
    for message in exc.errors["sku"]:
        if found := _TAKEN_BY.search(message):
            return int(found.group(1))
    return None


_TAKEN_BY = re.compile(r"\bid\s+(\d+)")


def customer_inactive(exc: QoyodError) -> bool:
    """Qoyod refused an invoice because its contact is inactive (qoyod-api.md §5.1, §10.5).

    Shape: 422 `{"errors": ["this contact <id> is not active"]}`.
    """
    return _mentions(exc, ("not active",))


def stock_rejected(exc: QoyodError) -> bool:
    """Qoyod objected to stock, a warehouse or a quantity (qoyod-api.md §5.1, §10.5).

    A shortfall on tracked products is refused in words Qoyod does not document, so this looks
    for "stock", "inventory" or "quantity" in the fields and messages, e.g. 422
    `{"errors": {"line_items": [{"quantity": ["must be greater than 0"]}]}}` or a field
    `inventory_id`.
    """
    return _mentions(exc, ("stock", "inventory", "quantity"))


def vat_rejected(exc: QoyodError) -> bool:
    """Qoyod objected to tax or VAT data (qoyod-api.md §4.5, §5.1 `tax_percent`, §4.1).

    Shapes: a `tax_percent` field error, or `{"errors": {"tax_id": ["Please select taxes"]}}`.
    """
    return _mentions(exc, ("tax", "vat"))


def accounting_rejected(exc: QoyodError) -> bool:
    """Qoyod objected to an account (qoyod-api.md §10.2 shape 3, §4.1, §8.1).

    Shapes: 422 `{"errors": "Plutus::Account id 999 is not valid"}`,
    `{"errors": {"cogs_account_id": ["Can't be blank"]}}`.
    """
    return _mentions(exc, ("account",))


def unbalanced_rejected(exc: QoyodError) -> bool:
    """Qoyod refused a journal entry whose debits and credits differ (qoyod-api.md §8.2).

    Shape: 422 `{"errors": {"base": ["Total debit and credit amounts must be equal"]}}`.
    """
    return _mentions(exc, ("debit and credit",))


def _mentions(exc: QoyodError, words: tuple[str, ...]) -> bool:
    """Whether a rejection names one of these words in a field name or a message."""
    if not isinstance(exc, QoyodRejected):
        return False
    texts = [*exc.errors, *(message for messages in exc.errors.values() for message in messages)]
    return any(word in text.lower() for text in texts for word in words)


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
