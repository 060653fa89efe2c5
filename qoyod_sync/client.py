"""The only HTTP to Qoyod (API 2.0): a read-only QoyodReader and a QoyodWriter.

    reader = QoyodReader(base_url=connection.base_url, api_key=key)
    writer = QoyodWriter(base_url=connection.base_url, api_key=key)   # writer.reader for lookups

Background tasks get the reader only: it holds nothing that can send anything but GET.
Both share one pooled httpx.Client per process, base URL and key, and one token bucket per key.
Every failure is a typed error from qoyod_sync.errors; reads are retried, writes never are.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import httpx
from django.conf import settings

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
from qoyod_sync.ratelimit import TokenBucket, bucket_for, key_digest
from qoyod_sync.types import (
    Account,
    Address,
    Category,
    Customer,
    DraftInvoice,
    Invoice,
    JournalEntry,
    NewJournalEntry,
    Product,
    Receipt,
    Tax,
    Unit,
    Warehouse,
)

T = TypeVar("T")
Params = Sequence[tuple[str, str | int]]
EventHooks = Mapping[str, Sequence[Callable[..., Any]]]

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
# Rows per page asked for, and ids or SKUs per batched lookup: 100 is the default page size
# of every paged Qoyod list and the documented maximum of some (qoyod-api.md §9.1, §15.14).
PAGE_SIZE = 100
# Seconds: how long a reply may keep the caller waiting, retries and rate limiting included.
DEFAULT_DEADLINE = 45.0
# A bucket of 10 refilling at 280 a minute allows at most 290 requests in any 60 s window,
# under the 300 Qoyod publishes (qoyod-api.md §11.1).
DEFAULT_BURST = 10


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


@dataclass(frozen=True)
class ClientOptions:
    """Tuning and test seams; the defaults are production values."""

    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    deadline: float = DEFAULT_DEADLINE
    # None reads settings.QOYOD_RATE_LIMIT_PER_MINUTE.
    rate_limit_per_minute: int | None = None
    burst: int = DEFAULT_BURST
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # A transport (httpx.MockTransport, respx) gets its own unpooled client.
    transport: httpx.BaseTransport | None = None
    event_hooks: EventHooks | None = None


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
        timeout=DEFAULT_TIMEOUT,
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


class _Reply(NamedTuple):
    status: int
    body: Any  # decoded JSON, or _NOT_JSON
    text: str


_NOT_JSON: Any = object()


class _Session:
    """Sends requests for one base URL and key and turns every outcome into a reply or an error."""

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
        self._bucket: TokenBucket = bucket_for(
            api_key, rate_per_minute=rate, burst=self.options.burst
        )

    def read(self, path: str, params: Params = (), *, empty_on_not_found: bool = False) -> Any:
        """GET with retries; None when a list answered 404 "found nothing"."""
        retry = self.options.retry
        deadline = time.monotonic() + self.options.deadline
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self._exchange("GET", path, params=params, deadline=deadline, writing=False)
                if reply.status != 404 and reply.body is _NOT_JSON:
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
            if empty_on_not_found and found_nothing(reply.text):
                return None
            raise QoyodNotFound(
                f"Qoyod found nothing at {path} (HTTP 404): {_snippet(reply)}", status_code=404
            )
        return reply.body

    def write(self, method: str, path: str, payload: Any = None) -> _Reply:
        """Send once; never retried, because Qoyod may have saved what it did not confirm."""
        deadline = time.monotonic() + self.options.deadline
        reply = self._exchange(method, path, payload=payload, deadline=deadline, writing=True)
        if reply.status == 404:
            raise QoyodNotFound(
                f"Qoyod found nothing at {path} (HTTP 404): {_snippet(reply)}", status_code=404
            )
        return reply

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        deadline: float,
        writing: bool,
        params: Params = (),
        payload: Any = None,
    ) -> _Reply:
        self._bucket.acquire(deadline)
        request = self._client.build_request(
            method,
            path,
            params=list(params) or None,
            json=payload,
            timeout=self._timeout_until(deadline),
        )
        try:
            response = self._client.send(request, stream=True)
            try:
                raw = self._read_body(response, deadline)
            finally:
                response.close()
        except httpx.TransportError as exc:
            raise _transport_error(exc, writing=writing) from exc
        except _DeadlineExceeded:
            raise _lost(
                f"Qoyod did not finish answering within {self.options.deadline:g} s", writing
            ) from None
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


def _classify(response: httpx.Response, raw: bytes, *, writing: bool) -> _Reply:
    status = response.status_code
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text, parse_float=Decimal) if text.strip() else _NOT_JSON
    except ValueError:
        body = _NOT_JSON
    reply = _Reply(status, body, text)
    if 200 <= status < 300 or status == 404:
        return reply
    if 300 <= status < 400:
        raise QoyodNotSent(
            f"Qoyod answered with a redirect (HTTP {status}), which is not followed, so nothing "
            "was processed; check the Qoyod base URL.",
            status_code=status,
        )
    if status in (401, 403):
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
        raise _lost(f"Qoyod had a server error (HTTP {status})", writing, status)
    errors = normalise_error_body(body if body is not _NOT_JSON else text)
    if not errors:
        errors = {"base": [f"HTTP {status} without a reason"]}
    raise QoyodRejected(
        f"Qoyod rejected the request (HTTP {status}): {describe_errors(errors)}",
        errors=errors,
        status_code=status,
    )


def _lost(what: str, writing: bool, status_code: int | None = None) -> QoyodError:
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
        return _lost("Timed out while sending the request to Qoyod", writing)
    if isinstance(exc, httpx.ReadTimeout):
        return _lost("Qoyod did not answer in time", writing)
    return _lost("The connection to Qoyod broke before it answered", writing)


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


def _snippet(reply: _Reply) -> str:
    if isinstance(reply.body, str):
        return reply.body
    errors = normalise_error_body(reply.body) if reply.body is not _NOT_JSON else {}
    return describe_errors(errors) if errors else (reply.text.strip()[:200] or "no details")


def _parse(parser: Callable[[Any], T], data: Any, what: str, *, writing: bool = False) -> T:
    try:
        return parser(data)
    except (KeyError, ValueError, TypeError, ArithmeticError):
        raise _lost(f"Qoyod's answer to {what} could not be read", writing) from None


def _root(body: Any, key: str) -> Any:
    if not isinstance(body, Mapping):
        raise TypeError(f"expected an object with {key!r}")
    return body[key]


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _phone_digits(phone: str) -> str:
    """The national number: digits only, without 00966 / +966 / a leading 0."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    for prefix in ("00966", "966", "0"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 6:
            return digits[len(prefix) :]
    return digits


# ---- reader ---------------------------------------------------------------------------------


class QoyodReader:
    """Read-only access to one Qoyod company; safe to hand to background tasks."""

    __slots__ = ("_get",)

    def __init__(
        self, *, base_url: str, api_key: str, options: ClientOptions | None = None
    ) -> None:
        self._get = _read_only(_Session(base_url, api_key, options))

    @classmethod
    def _over(cls, session: _Session) -> QoyodReader:
        reader = cls.__new__(cls)
        reader._get = _read_only(session)
        return reader

    # customers

    def list_customers(self) -> list[Customer]:
        """All customers, every page."""
        return self._list("/customers", "customers", Customer.from_json)

    def get_customer(self, customer_id: int) -> Customer:
        """One customer by Qoyod id."""
        return self._one(f"/customers/{int(customer_id)}", "contact", Customer.from_json)

    def find_customers_by_tax_number(self, tax_number: str) -> list[Customer]:
        """Customers whose VAT number is exactly this (Qoyod allows duplicates)."""
        wanted = tax_number.strip()
        rows = self._list(
            "/customers", "customers", Customer.from_json, [("q[tax_number_eq]", wanted)]
        )
        # Unknown q keys are ignored silently (qoyod-api.md §9.3): always re-check here.
        return [c for c in rows if c.tax_number.strip() == wanted]

    def find_customers_by_phone(self, phone: str) -> list[Customer]:
        """Customers whose phone is this number, whatever the +966/0 prefix."""
        wanted = _phone_digits(phone)
        if not wanted:
            return []
        rows = self._list(
            "/customers",
            "customers",
            Customer.from_json,
            [("q[primary_contact_number_cont]", wanted)],
        )
        return [c for c in rows if c.phone_number and _phone_digits(c.phone_number) == wanted]

    def search_customers(self, name: str) -> list[Customer]:
        """Customers whose name contains this text (case-insensitive)."""
        wanted = name.strip().casefold()
        # contact_name is the Ransack attribute the spec documents (qoyod-api.md §15.17).
        rows = self._list(
            "/customers", "customers", Customer.from_json, [("q[contact_name_cont]", name.strip())]
        )
        return [c for c in rows if wanted in c.name.casefold()]

    # products

    def list_products(self) -> list[Product]:
        """All products, every page."""
        return self._list("/products", "products", Product.from_json)

    def get_product(self, product_id: int) -> Product:
        """One product with its stock per warehouse."""
        return self._one(f"/products/{int(product_id)}", "product", Product.from_json)

    def find_product_by_sku(self, sku: str) -> Product | None:
        """The product with exactly this SKU (SKUs are unique in Qoyod), or None."""
        return self.find_products_by_skus([sku]).get(sku)

    def find_products_by_skus(self, skus: Iterable[str]) -> dict[str, Product]:
        """Products by exact SKU, one request per 100 SKUs; missing SKUs are absent."""
        wanted = list(dict.fromkeys(skus))
        found: dict[str, Product] = {}
        for chunk in _chunks(wanted, PAGE_SIZE):
            params = [("q[sku_in][]", sku) for sku in chunk]
            for product in self._list("/products", "products", Product.from_json, params):
                if product.sku in chunk:
                    found.setdefault(product.sku, product)
        return found

    # configuration

    def list_warehouses(self) -> list[Warehouse]:
        """Warehouses ("inventories"); also a cheap check that the key works."""
        return self._list("/inventories", "inventories", Warehouse.from_json)

    def list_taxes(self) -> list[Tax]:
        """The company's taxes."""
        return self._list("/taxes", "taxes", Tax.from_json)

    def list_accounts(self) -> list[Account]:
        """The chart of accounts (Qoyod lists leaf accounts only)."""
        return self._list("/accounts", "accounts", Account.from_json)

    def list_units(self) -> list[Unit]:
        """Units of measure."""
        return self._list("/product_unit_types", "product_unit_types", Unit.from_json)

    def list_categories(self) -> list[Category]:
        """Product categories."""
        return self._list("/categories", "categories", Category.from_json)

    # invoices

    def get_invoice(self, invoice_id: int) -> Invoice:
        """One invoice with its lines and payments."""
        return self._one(f"/invoices/{int(invoice_id)}", "invoice", Invoice.from_json)

    def list_invoices_by_ids(self, invoice_ids: Iterable[int]) -> list[Invoice]:
        """The invoices with these ids, one request per 100 ids; ids Qoyod lacks are absent."""
        wanted = list(dict.fromkeys(int(i) for i in invoice_ids))
        found: dict[int, Invoice] = {}
        for chunk in _chunks(wanted, PAGE_SIZE):
            params = [("q[id_in][]", i) for i in chunk] + [("page", 1), ("per_page", PAGE_SIZE)]
            body = self._get("/invoices", params, empty_on_not_found=True)
            rows = [] if body is None else _parse(_rows_of("invoices"), body, "GET /invoices")
            invoices = [_parse(Invoice.from_json, row, "GET /invoices") for row in rows]
            requested = set(chunk)
            found.update((inv.id, inv) for inv in invoices if inv.id in requested)
            if any(inv.id not in requested for inv in invoices):
                # The filter was ignored (unknown q keys are, §9.3): fetch the rest one by one
                # rather than report invoices as missing.
                for invoice_id in chunk:
                    if invoice_id not in found:
                        with contextlib.suppress(QoyodNotFound):
                            found[invoice_id] = self.get_invoice(invoice_id)
        return [found[i] for i in wanted if i in found]

    def find_invoice_by_reference(self, reference: str) -> Invoice | None:
        """The invoice whose reference is exactly ours, or None (our idempotency lookup)."""
        params = [("q[reference_eq]", reference)]
        for row in self._walk("/invoices", "invoices", params):
            invoice = _parse(Invoice.from_json, row, "GET /invoices")
            if invoice.reference == reference:
                return invoice
        return None

    # payments

    def list_invoice_payments(self, *, contact_id: int | None = None) -> list[Receipt]:
        """Payments received against invoices (receipts of kind "received")."""
        params = [] if contact_id is None else [("q[contact_id_eq]", int(contact_id))]
        return self._list("/invoice_payments", "receipts", Receipt.from_json, params)

    def get_invoice_payment(self, payment_id: int) -> Receipt:
        """One invoice payment (a receipt) with its allocations."""
        return self._one(f"/invoice_payments/{int(payment_id)}", "receipt", Receipt.from_json)

    def list_receipts(self, *, contact_id: int | None = None) -> list[Receipt]:
        """All receipts, received and paid."""
        params = [] if contact_id is None else [("q[contact_id_eq]", int(contact_id))]
        return self._list("/receipts", "receipts", Receipt.from_json, params)

    # journal entries

    def get_journal_entry(self, entry_id: int) -> JournalEntry:
        """One journal entry."""
        return self._one(
            f"/journal_entries/{int(entry_id)}", "journal_entry", JournalEntry.from_json
        )

    def find_journal_entries(self, *, description: str, on: date) -> list[JournalEntry]:
        """Journal entries dated `on` whose description is exactly this."""
        day = on.isoformat()
        # The spec names the date attribute journal_entry_date, another client uses date
        # (qoyod-api.md §15.18); a wrong one is ignored, so send both and check here.
        params = [
            ("q[description_cont]", description),
            ("q[journal_entry_date_gteq]", day),
            ("q[journal_entry_date_lteq]", day),
            ("q[date_gteq]", day),
            ("q[date_lteq]", day),
        ]
        rows = self._list("/journal_entries", "journal_entries", JournalEntry.from_json, params)
        return [e for e in rows if e.description == description and e.date == on]

    # plumbing

    def _one(self, path: str, root: str, parser: Callable[[Any], T]) -> T:
        body = self._get(path)
        return _parse(lambda b: parser(_root(b, root)), body, f"GET {path}")

    def _list(
        self, path: str, root: str, parser: Callable[[Any], T], params: Params = ()
    ) -> list[T]:
        return [_parse(parser, row, f"GET {path}") for row in self._walk(path, root, params)]

    def _walk(self, path: str, root: str, params: Params = ()) -> Iterator[Any]:
        """Rows of every page, robust to endpoints that ignore paging (qoyod-api.md §9.2)."""
        seen: set[Any] = set()
        page = 1
        while True:
            query = [*params, ("q[s]", "id asc"), ("page", page), ("per_page", PAGE_SIZE)]
            body = self._get(path, query, empty_on_not_found=True)
            if body is None:
                return
            rows = _parse(_rows_of(root), body, f"GET {path}")
            if not rows or _row_id(rows[0]) in seen:
                # An endpoint that ignores `page` sends page 1 again.
                return
            for row in rows:
                row_id = _row_id(row)
                if row_id not in seen:
                    seen.add(row_id)
                    yield row
            # Fewer rows than asked for is the last page; more means per_page was ignored
            # and everything came at once.
            if len(rows) != PAGE_SIZE or _last_page(body, page):
                return
            page += 1


def _read_only(session: _Session) -> Callable[..., Any]:
    """The reader's only link to the network: a function that sends GET and nothing else."""

    # A closure rather than the session itself, so no attribute of a reader leads to an object
    # with a way to POST, PUT or DELETE.
    def get(path: str, params: Params = (), *, empty_on_not_found: bool = False) -> Any:
        return session.read(path, params, empty_on_not_found=empty_on_not_found)

    return get


def _rows_of(root: str) -> Callable[[Any], list[Any]]:
    def rows(body: Any) -> list[Any]:
        value = _root(body, root)
        if not isinstance(value, list):
            raise TypeError(f"{root!r} is not a list")
        return value

    return rows


def _row_id(row: Any) -> Any:
    return row.get("id") if isinstance(row, Mapping) else None


def _last_page(body: Any, page: int) -> bool:
    pagination = body.get("pagination") if isinstance(body, Mapping) else None
    if not isinstance(pagination, Mapping) or pagination.get("totalPages") is None:
        return False
    try:
        # currentPage is a string on /products and an integer elsewhere (§15.15).
        current = int(pagination.get("currentPage") or page)
        return current >= int(pagination["totalPages"])
    except (TypeError, ValueError):
        return False


# ---- writer ---------------------------------------------------------------------------------


class QoyodWriter:
    """Creates, updates and deletes in one Qoyod company; every call is sent exactly once."""

    def __init__(
        self, *, base_url: str, api_key: str, options: ClientOptions | None = None
    ) -> None:
        self._session = _Session(base_url, api_key, options)
        self.reader = QoyodReader._over(self._session)

    def create_customer(
        self,
        *,
        name: str,
        phone_number: str = "",
        email: str = "",
        tax_number: str = "",
        organization: str = "",
        billing_address: Address | None = None,
    ) -> Customer:
        """Create an active customer (Qoyod does not prevent duplicates: look up first)."""
        contact: dict[str, Any] = {"name": name, "status": "Active"}
        contact.update(
            (key, value)
            for key, value in (
                ("phone_number", phone_number),
                ("email", email),
                ("tax_number", tax_number),
                ("organization", organization),
            )
            if value
        )
        if billing_address is not None:
            contact["billing_address"] = billing_address.to_json()
        return self._save("POST", "/customers", {"contact": contact}, "contact", Customer.from_json)

    def update_customer(
        self,
        customer_id: int,
        *,
        name: str | None = None,
        phone_number: str | None = None,
        email: str | None = None,
        tax_number: str | None = None,
        organization: str | None = None,
        billing_address: Address | None = None,
    ) -> Customer:
        """Change the given fields of a customer (None leaves a field as it is)."""
        fields = {
            "name": name,
            "phone_number": phone_number,
            "email": email,
            "tax_number": tax_number,
            "organization": organization,
        }
        contact: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        if billing_address is not None:
            contact["billing_address"] = billing_address.to_json()
        if not contact:
            raise ValueError("update_customer needs at least one field to change")
        path = f"/customers/{int(customer_id)}"
        return self._save("PUT", path, {"contact": contact}, "contact", Customer.from_json)

    def create_service_product(
        self,
        *,
        sku: str,
        name_ar: str,
        name_en: str,
        selling_price: Decimal,
        tax_id: int,
        unit_id: int,
        category_id: int,
        sales_account_id: int | None = None,
        description: str = "",
    ) -> Product:
        """Create an untracked service (labour) product."""
        product = _product_json(
            sku, name_ar, name_en, selling_price, tax_id, unit_id, category_id, description
        )
        product.update(type="Service", track_quantity=0, purchase_item=False)
        if sales_account_id is not None:
            product["sales_account_id"] = sales_account_id
        return self._save("POST", "/products", {"product": product}, "product", Product.from_json)

    def create_stock_product(
        self,
        *,
        sku: str,
        name_ar: str,
        name_en: str,
        selling_price: Decimal,
        buying_price: Decimal,
        tax_id: int,
        unit_id: int,
        category_id: int,
        sales_account_id: int | None = None,
        cogs_account_id: int | None = None,
        description: str = "",
    ) -> Product:
        """Create a stock-tracked product (a spare part); its stock starts at zero."""
        product = _product_json(
            sku, name_ar, name_en, selling_price, tax_id, unit_id, category_id, description
        )
        product.update(
            type="Product", track_quantity=1, purchase_item=True, buying_price=str(buying_price)
        )
        if sales_account_id is not None:
            product["sales_account_id"] = sales_account_id
        if cogs_account_id is not None:
            # A live tenant refused tracked products without it (qoyod-api.md §4.1).
            product["cogs_account_id"] = cogs_account_id
        return self._save("POST", "/products", {"product": product}, "product", Product.from_json)

    def create_draft_invoice(self, draft: DraftInvoice) -> Invoice:
        """Create a Draft sales invoice whose reference is our invoice number."""
        return self._save("POST", "/invoices", draft.to_json(), "invoice", Invoice.from_json)

    def delete_draft_invoice(self, invoice_id: int) -> None:
        """Delete a Draft invoice (Qoyod refuses approved ones)."""
        self._session.write("DELETE", f"/invoices/{int(invoice_id)}")

    def create_journal_entry(self, entry: NewJournalEntry) -> JournalEntry:
        """Create a journal entry; Qoyod rejects it unless debits equal credits."""
        return self._save(
            "POST", "/journal_entries", entry.to_json(), "journal_entry", JournalEntry.from_json
        )

    def _save(
        self, method: str, path: str, payload: Any, root: str, parser: Callable[[Any], T]
    ) -> T:
        reply = self._session.write(method, path, payload)
        what = f"{method} {path}"
        if reply.body is _NOT_JSON:
            raise QoyodMaybeSaved(
                f"Qoyod answered HTTP {reply.status} to {what} with a body that is not JSON; "
                "it may already be saved in Qoyod.",
                status_code=reply.status,
            )
        record = reply.body.get(root) if isinstance(reply.body, Mapping) else None
        if not isinstance(record, Mapping) or record.get("id") in (None, ""):
            raise QoyodMaybeSaved(
                f"Qoyod answered HTTP {reply.status} to {what} without the record's id; "
                "it may already be saved in Qoyod.",
                status_code=reply.status,
            )
        return _parse(parser, record, what, writing=True)


def _product_json(
    sku: str,
    name_ar: str,
    name_en: str,
    selling_price: Decimal,
    tax_id: int,
    unit_id: int,
    category_id: int,
    description: str,
) -> dict[str, Any]:
    return {
        "sku": sku,
        "name_ar": name_ar,
        "name_en": name_en,
        "description": description,
        "selling_price": str(selling_price),
        "tax_id": tax_id,
        "product_unit_type_id": unit_id,
        "category_id": category_id,
        "sale_item": True,
    }
