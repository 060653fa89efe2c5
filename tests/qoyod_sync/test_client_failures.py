"""The failure matrix: every way a Qoyod call can fail, on httpx.MockTransport."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import httpx
import pytest

from qoyod_sync.client import ClientOptions, QoyodReader, QoyodWriter, RetryPolicy
from qoyod_sync.errors import (
    QoyodError,
    QoyodMaybeSaved,
    QoyodNotFound,
    QoyodNotSent,
    QoyodRateLimited,
    QoyodRejected,
    QoyodUnauthorised,
    QoyodUnavailable,
)
from qoyod_sync.types import DraftInvoice, DraftLine

API_KEY = "0123456789abcdef012345678"
BASE_URL = "https://api.qoyod.test/2.0"
Handler = Callable[[httpx.Request], httpx.Response]

DRAFT = DraftInvoice(
    contact_id=412,
    reference="INV-000123",
    issue_date=date(2025, 3, 2),
    due_date=date(2025, 3, 9),
    inventory_id=1,
    description="Toyota Camry ABC 1234",
    lines=(
        DraftLine(
            product_id=81,
            quantity=Decimal("2"),
            unit_price=Decimal("35.00"),
            tax_percent=Decimal("15"),
            description="Door handle",
        ),
    ),
)

INVOICE_JSON = {
    "id": 1085,
    "reference": "INV-000123",
    "status": "Draft",
    "contact_id": 412,
    "issue_date": "2025-03-02",
    "due_date": "2025-03-09",
    "total": "80.5",
    "paid_amount": "0.0",
    "due_amount": "80.5",
    "line_items": [],
    "payments": [],
}


@dataclass
class Fake:
    """A MockTransport that answers from a list of handlers and remembers what it saw."""

    handlers: list[Handler]
    seen: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        handler = self.handlers[min(len(self.seen), len(self.handlers)) - 1]
        return handler(request)

    def count(self, method: str) -> int:
        return sum(1 for r in self.seen if r.method == method)

    def options(self, **overrides: object) -> ClientOptions:
        values: dict[str, object] = {
            "transport": httpx.MockTransport(self),
            "rate_limit_per_minute": 1_000_000,
            "burst": 1_000,
            "retry": RetryPolicy(sleep=self.sleeps.append, jitter=lambda: 1.0),
        }
        values.update(overrides)
        return ClientOptions(**values)  # type: ignore[arg-type]


def fake(*handlers: Handler) -> Fake:
    return Fake(list(handlers))


def writer_for(transport: Fake, **overrides: object) -> QoyodWriter:
    return QoyodWriter(base_url=BASE_URL, api_key=API_KEY, options=transport.options(**overrides))


def reader_for(transport: Fake, **overrides: object) -> QoyodReader:
    return QoyodReader(base_url=BASE_URL, api_key=API_KEY, options=transport.options(**overrides))


def raising(exc_type: type[httpx.TransportError], text: str, cause: BaseException | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(text, request=request) from cause

    return handler


def answer(status: int, body: object = None, *, content: bytes | None = None, headers=None):
    def handler(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, content=content, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


LOST = "; it may already be saved in Qoyod."

# (name, handler, error class, message, status code)
WRITE_MATRIX = [
    (
        "dns failure",
        raising(
            httpx.ConnectError,
            "[Errno -2] Name or service not known",
            socket.gaierror(-2, "Name or service not known"),
        ),
        QoyodNotSent,
        "Could not find Qoyod's server (DNS lookup failed); nothing was sent.",
        None,
    ),
    (
        "connect refused",
        raising(
            httpx.ConnectError,
            "[Errno 111] Connection refused",
            ConnectionRefusedError(111, "Connection refused"),
        ),
        QoyodNotSent,
        "Qoyod's server refused the connection; nothing was sent.",
        None,
    ),
    (
        "connect error of another kind",
        raising(httpx.ConnectError, "[Errno 113] No route to host", OSError(113, "No route")),
        QoyodNotSent,
        "Could not connect to Qoyod; nothing was sent.",
        None,
    ),
    (
        "connect timeout",
        raising(httpx.ConnectTimeout, "timed out"),
        QoyodNotSent,
        "Timed out connecting to Qoyod; nothing was sent.",
        None,
    ),
    (
        "pool timeout",
        raising(httpx.PoolTimeout, "timed out"),
        QoyodNotSent,
        "Timed out waiting for a free connection to Qoyod; nothing was sent.",
        None,
    ),
    (
        "write timeout",
        raising(httpx.WriteTimeout, "timed out"),
        QoyodMaybeSaved,
        "Timed out while sending the request to Qoyod" + LOST,
        None,
    ),
    (
        "read timeout",
        raising(httpx.ReadTimeout, "timed out"),
        QoyodMaybeSaved,
        "Qoyod did not answer in time" + LOST,
        None,
    ),
    (
        "reset after send",
        raising(httpx.ReadError, "[Errno 104] Connection reset by peer"),
        QoyodMaybeSaved,
        "The connection to Qoyod broke before it answered" + LOST,
        None,
    ),
    (
        "disconnect without an answer",
        raising(httpx.RemoteProtocolError, "Server disconnected without sending a response."),
        QoyodMaybeSaved,
        "The connection to Qoyod broke before it answered" + LOST,
        None,
    ),
    (
        "500",
        answer(500, {"status": 500, "error": "Internal Server Error"}),
        QoyodMaybeSaved,
        "Qoyod had a server error (HTTP 500)" + LOST,
        500,
    ),
    (
        "502",
        answer(502, content=b"<html>502 Bad Gateway</html>"),
        QoyodMaybeSaved,
        "Qoyod had a server error (HTTP 502)" + LOST,
        502,
    ),
    (
        "503",
        answer(503, content=b"Service Unavailable"),
        QoyodMaybeSaved,
        "Qoyod had a server error (HTTP 503)" + LOST,
        503,
    ),
    (
        "504",
        answer(504, content=b""),
        QoyodMaybeSaved,
        "Qoyod had a server error (HTTP 504)" + LOST,
        504,
    ),
    (
        "200 with malformed JSON",
        answer(200, content=b'{"invoice": {"id": 10'),
        QoyodMaybeSaved,
        "Qoyod answered HTTP 200 to POST /invoices with a body that is not JSON" + LOST,
        200,
    ),
    (
        "201 without an id",
        answer(201, {"invoice": {"reference": "INV-000123", "status": "Draft"}}),
        QoyodMaybeSaved,
        "Qoyod answered HTTP 201 to POST /invoices without the record's id" + LOST,
        201,
    ),
    (
        "201 with an empty object",
        answer(201, {}),
        QoyodMaybeSaved,
        "Qoyod answered HTTP 201 to POST /invoices without the record's id" + LOST,
        201,
    ),
    (
        "201 with an unreadable record",
        answer(201, {"invoice": {**INVOICE_JSON, "total": "n/a"}}),
        QoyodMaybeSaved,
        "Qoyod's answer to POST /invoices could not be read" + LOST,
        None,
    ),
    (
        "401",
        answer(401, {"error": "Unauthorized - Invalid API key"}),
        QoyodUnauthorised,
        "Qoyod refused the API key (HTTP 401): Unauthorized - Invalid API key. "
        "Check the key in the Qoyod connection settings.",
        401,
    ),
    (
        "403",
        answer(403, content=b""),
        QoyodUnauthorised,
        "Qoyod refused the API key (HTTP 403): no details. "
        "Check the key in the Qoyod connection settings.",
        403,
    ),
    (
        "429 with Retry-After",
        answer(429, {"error": "Too many requests"}, headers={"Retry-After": "30"}),
        QoyodRateLimited,
        "Qoyod is rate limiting requests (HTTP 429); try again in 30 s.",
        429,
    ),
    (
        "429 without Retry-After",
        answer(429, content=b""),
        QoyodRateLimited,
        "Qoyod is rate limiting requests (HTTP 429); try again shortly.",
        429,
    ),
    (
        "307 from the legacy host",
        answer(307, content=b"", headers={"Location": "https://legacy.qoyod.com/api/2.0/invoices"}),
        QoyodNotSent,
        "Qoyod answered with a redirect (HTTP 307), which is not followed, so nothing was "
        "processed; check the Qoyod base URL.",
        307,
    ),
]

# (name, 422 body, normalised errors, message tail)
REJECTIONS = [
    (
        "field-keyed errors",
        {"errors": {"reference": ["has already been taken"], "contact_name": ["can't be blank"]}},
        {"reference": ["has already been taken"], "contact_name": ["can't be blank"]},
        "reference: has already been taken; contact_name: can't be blank",
    ),
    (
        "pre-validation array",
        {"errors": ["contact id is missing", "expiry_date is missing"]},
        {"base": ["contact id is missing", "expiry_date is missing"]},
        "contact id is missing, expiry_date is missing",
    ),
    (
        "plain-string errors",
        {"errors": "Cannot pay Draft invoice"},
        {"base": ["Cannot pay Draft invoice"]},
        "Cannot pay Draft invoice",
    ),
    (
        "invalid resource",
        {
            "error": "Invalid resource",
            "messages": {"date": ["Can't be blank"], "account": ["Can't be blank"]},
        },
        {"date": ["Can't be blank"], "account": ["Can't be blank"]},
        "date: Can't be blank; account: Can't be blank",
    ),
    (
        "single error string",
        {"error": "Amount must be a value and cannot be a Hash"},
        {"base": ["Amount must be a value and cannot be a Hash"]},
        "Amount must be a value and cannot be a Hash",
    ),
    (
        "bare JSON string",
        "Total CD Discount is not enabled for this organisation.",
        {"base": ["Total CD Discount is not enabled for this organisation."]},
        "Total CD Discount is not enabled for this organisation.",
    ),
]


@pytest.mark.parametrize(
    ("handler", "error_class", "message", "status_code"),
    [case[1:] for case in WRITE_MATRIX],
    ids=[case[0] for case in WRITE_MATRIX],
)
def test_failed_draft_creation_is_sent_once_and_raises_a_typed_error(
    handler: Handler, error_class: type[QoyodError], message: str, status_code: int | None
) -> None:
    transport = fake(handler)

    with pytest.raises(QoyodError) as caught:
        writer_for(transport).create_draft_invoice(DRAFT)

    assert type(caught.value) is error_class
    assert caught.value.message == message
    assert str(caught.value) == message
    assert caught.value.status_code == status_code
    assert transport.count("POST") == 1
    assert len(transport.seen) == 1
    assert transport.sleeps == []


@pytest.mark.parametrize(
    ("body", "errors", "tail"), [case[1:] for case in REJECTIONS], ids=[c[0] for c in REJECTIONS]
)
def test_a_422_in_each_body_shape_becomes_rejected_with_field_messages(
    body: object, errors: dict[str, list[str]], tail: str
) -> None:
    transport = fake(answer(422, body))

    with pytest.raises(QoyodRejected) as caught:
        writer_for(transport).create_draft_invoice(DRAFT)

    assert caught.value.errors == errors
    assert caught.value.message == f"Qoyod rejected the request (HTTP 422): {tail}"
    assert caught.value.status_code == 422
    assert transport.count("POST") == 1


def test_a_400_with_a_text_body_is_rejected_with_that_text() -> None:
    transport = fake(answer(400, content=b"Bad Request"))

    with pytest.raises(QoyodRejected) as caught:
        writer_for(transport).create_draft_invoice(DRAFT)

    assert caught.value.errors == {"base": ["Bad Request"]}
    assert caught.value.message == "Qoyod rejected the request (HTTP 400): Bad Request"
    assert transport.count("POST") == 1


def test_rate_limit_carries_retry_after_as_seconds() -> None:
    seconds = fake(answer(429, content=b"", headers={"Retry-After": "12"}))
    absent = fake(answer(429, content=b""))
    dated = fake(answer(429, content=b"", headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))

    results = []
    for transport in (seconds, absent, dated):
        with pytest.raises(QoyodRateLimited) as caught:
            writer_for(transport).create_draft_invoice(DRAFT)
        results.append(caught.value.retry_after)

    # A date in the past means "now".
    assert results == [12.0, None, 0.0]


def test_the_redirect_target_never_receives_the_request_or_the_key() -> None:
    transport = fake(
        answer(307, content=b"", headers={"Location": "https://elsewhere.example/2.0/invoices"})
    )

    with pytest.raises(QoyodNotSent):
        writer_for(transport).create_draft_invoice(DRAFT)
    with pytest.raises(QoyodNotSent):
        reader_for(transport).get_invoice(1)

    assert [r.url.host for r in transport.seen] == ["api.qoyod.test", "api.qoyod.test"]


def test_write_that_runs_past_the_deadline_may_be_saved() -> None:
    class Drip(httpx.SyncByteStream):
        """Bytes that keep coming, the last once the call's deadline has certainly passed."""

        def __iter__(self):
            # The call started before its answer does, so its deadline is at or before this.
            past_the_deadline = time.monotonic() + 0.05
            while time.monotonic() <= past_the_deadline:
                yield b" "
            yield b" "

    transport = fake(lambda request: httpx.Response(201, stream=Drip()))

    with pytest.raises(QoyodMaybeSaved) as caught:
        writer_for(transport, deadline=0.05).create_draft_invoice(DRAFT)

    assert caught.value.message == "Qoyod did not finish answering within 0.05 s" + LOST
    assert transport.count("POST") == 1


def test_a_missing_record_on_update_or_delete_is_not_found() -> None:
    transport = fake(answer(404, "Customer Not Found"), answer(404, "We found nothing"))
    writer = writer_for(transport)

    with pytest.raises(QoyodNotFound) as updated:
        writer.update_customer(5, name="Ali")
    with pytest.raises(QoyodNotFound) as deleted:
        writer.delete_draft_invoice(1085)

    assert updated.value.message == (
        "Qoyod found nothing at /customers/5 (HTTP 404): Customer Not Found"
    )
    assert deleted.value.message == (
        "Qoyod found nothing at /invoices/1085 (HTTP 404): We found nothing"
    )
    assert [r.method for r in transport.seen] == ["PUT", "DELETE"]


def test_errors_never_show_the_api_key() -> None:
    transport = fake(
        raising(httpx.ConnectError, "refused", ConnectionRefusedError(111, "refused")),
        answer(401, {"error": "Unauthorized - Invalid API key"}),
        answer(500, content=b""),
    )
    writer = writer_for(transport)
    caught = []
    for _ in range(3):
        with pytest.raises(QoyodError) as error:
            writer.create_draft_invoice(DRAFT)
        caught.append(error.value)

    for error in caught:
        chain = [error]
        while chain[-1].__cause__ is not None:
            chain.append(chain[-1].__cause__)
        assert all(API_KEY not in f"{e!s} {e!r}" for e in chain)
    assert all(r.headers["API-KEY"] == API_KEY for r in transport.seen)


def test_a_key_a_header_cannot_carry_is_refused_before_any_request() -> None:
    with pytest.raises(ValueError) as caught:
        QoyodReader(base_url=BASE_URL, api_key="abc\ndef", options=fake().options())

    assert str(caught.value) == "the Qoyod API key contains characters a header cannot carry"
    assert "abc" not in str(caught.value)


# ---- reads: retried with backoff, within bounds ---------------------------------------------


def test_reads_retry_server_errors_with_backoff_then_give_up() -> None:
    transport = fake(answer(503, content=b"busy"))

    with pytest.raises(QoyodUnavailable) as caught:
        reader_for(transport).get_invoice(1085)

    assert type(caught.value) is QoyodUnavailable
    assert caught.value.message == "Qoyod had a server error (HTTP 503)."
    assert transport.count("GET") == 3
    # base 0.5 s doubled, jitter pinned at its maximum.
    assert transport.sleeps == [0.5, 1.0]


def test_backoff_is_jittered_and_capped() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(
        attempts=6, base_delay=1.0, max_delay=3.0, sleep=sleeps.append, jitter=lambda: 0.0
    )

    assert [policy.backoff(attempt) for attempt in range(1, 6)] == [0.5, 1.0, 1.5, 1.5, 1.5]


def test_a_read_succeeds_after_a_transient_failure() -> None:
    transport = fake(
        raising(httpx.ReadError, "reset"),
        answer(502, content=b""),
        answer(200, {"invoice": INVOICE_JSON}),
    )

    invoice = reader_for(transport).get_invoice(1085)

    assert invoice.id == 1085
    assert invoice.total == Decimal("80.5")
    assert transport.count("GET") == 3


def test_reads_honour_a_short_retry_after() -> None:
    transport = fake(
        answer(429, content=b"", headers={"Retry-After": "0.02"}),
        answer(200, {"invoice": INVOICE_JSON}),
    )

    reader = reader_for(
        transport, retry=RetryPolicy(max_retry_after=1.0, sleep=transport.sleeps.append)
    )
    assert reader.get_invoice(1085).reference == "INV-000123"
    assert transport.sleeps == [0.02]


def test_reads_do_not_wait_out_a_long_retry_after() -> None:
    transport = fake(answer(429, content=b"", headers={"Retry-After": "60"}))

    with pytest.raises(QoyodRateLimited) as caught:
        reader_for(transport).get_invoice(1085)

    assert caught.value.retry_after == 60.0
    assert transport.count("GET") == 1
    assert transport.sleeps == []


@pytest.mark.parametrize(
    ("handler", "error_class"),
    [
        (answer(401, {"error": "Unauthorized - Invalid API key"}), QoyodUnauthorised),
        (answer(422, {"errors": "bad filter"}), QoyodRejected),
        (answer(404, "We found nothing"), QoyodNotFound),
        (answer(301, content=b"", headers={"Location": "https://x.example/"}), QoyodNotSent),
    ],
    ids=["401", "422", "404", "redirect"],
)
def test_reads_are_not_retried_when_asking_again_cannot_help(
    handler: Handler, error_class: type[QoyodError]
) -> None:
    transport = fake(handler)

    with pytest.raises(error_class):
        reader_for(transport).get_invoice(1085)

    assert transport.count("GET") == 1


def test_a_read_that_keeps_failing_to_connect_is_not_sent() -> None:
    transport = fake(raising(httpx.ConnectError, "refused", ConnectionRefusedError(111, "x")))

    with pytest.raises(QoyodNotSent) as caught:
        reader_for(transport).list_warehouses()

    assert caught.value.message == "Qoyod's server refused the connection; nothing was sent."
    assert transport.count("GET") == 3


def test_a_read_with_a_malformed_body_is_retried_then_unavailable() -> None:
    transport = fake(answer(200, content=b"<html>maintenance</html>"))

    with pytest.raises(QoyodUnavailable) as caught:
        reader_for(transport).get_invoice(7)

    assert caught.value.message == (
        "Qoyod answered HTTP 200 to GET /invoices/7 with a body that is not JSON."
    )
    assert transport.count("GET") == 3


def test_a_read_with_an_unexpected_shape_is_unavailable() -> None:
    transport = fake(answer(200, {"invoice": {"id": 7}}))

    with pytest.raises(QoyodUnavailable) as caught:
        reader_for(transport).get_invoice(7)

    assert caught.value.message == "Qoyod's answer to GET /invoices/7 could not be read."
    assert transport.count("GET") == 1


def test_a_missing_single_record_is_not_found() -> None:
    transport = fake(answer(404, "We found nothing"))

    with pytest.raises(QoyodNotFound) as caught:
        reader_for(transport).get_invoice(9)

    assert caught.value.message == "Qoyod found nothing at /invoices/9 (HTTP 404): We found nothing"
    assert caught.value.status_code == 404


def test_a_list_404_that_is_not_found_nothing_is_an_error() -> None:
    transport = fake(answer(404, content=b"<html>Not Found</html>"))

    with pytest.raises(QoyodNotFound):
        reader_for(transport).list_customers()


def test_reads_stop_retrying_at_the_deadline() -> None:
    transport = fake(answer(503, content=b""))
    # Waits of 20 s then 40 s (recorded, not slept): the second would end past the deadline.
    retry = RetryPolicy(
        attempts=10, base_delay=20, max_delay=60, sleep=transport.sleeps.append, jitter=lambda: 1.0
    )
    reader = reader_for(transport, deadline=30, retry=retry)

    with pytest.raises(QoyodUnavailable):
        reader.get_invoice(1)

    assert transport.sleeps == [20.0]
    assert transport.count("GET") == 2
