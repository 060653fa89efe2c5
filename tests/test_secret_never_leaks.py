"""The Qoyod API key never leaks (issue 10 item 7).

A sentinel key goes through every flow that handles it: saving it in the settings form, Test
connection, Send, each way a send can fail (rejected, key refused, rate limited, server error,
no answer, a timeout, a refused connection), Retry, and the payment read-back queued as a
Celery message and run as the task. Everything the flows leave behind is captured: every log
record at DEBUG (httpx and httpcore included, tracebacks formatted), every response body and
header, every row of every table, every Celery message (as published and as the broker holds
it), the error report Django would mail or show for a 500, and the text and repr of every
exception. The only place the key may be is the encrypted column, never in clear text.
"""

from __future__ import annotations

import base64
import datetime
import logging
import re
import socket
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from celery.signals import before_task_publish
from django.contrib.sessions.models import Session
from django.core.signals import got_request_exception
from django.db import connection as db_connection
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter

from config.celery import app
from core import roles
from garage.models import JobCard
from invoicing.models import Invoice
from invoicing.services import invoice_create, invoice_prefill
from qoyod_sync import crypto, mappers, tasks
from qoyod_sync.client import QoyodWriter, close_pooled_clients
from qoyod_sync.errors import QoyodError
from qoyod_sync.models import QoyodConnection, QoyodInvoiceSync, SyncState
from qoyod_sync.push import invoice_send_draft
from qoyod_sync.services import connection_save, connection_test
from tests import factories
from tests.qoyod_fixtures import TEST_OPTIONS, SandboxHandle, choose_send_mappings

pytestmark = pytest.mark.django_db(transaction=True)

SENTINEL = "SENTINEL-KEY-7f3a9c5e1d8b4a62c0f9e7d3b5a1c8e6f4d2b0a9"
SETTINGS = reverse("qoyod_sync:settings")
# A short read timeout for the cases that must time out: the listener they talk to never
# answers, so the timeout fires whatever the machine's load.
SHORT = replace(TEST_OPTIONS, timeout=httpx.Timeout(connect=2.0, read=0.2, write=2.0, pool=2.0))


def needles(secret: str) -> list[str]:
    """The secret and the forms it could be carried in: url-encoded, hex, and base64 (either
    alphabet) at each of the three alignments it could have inside a longer encoded text."""
    raw = secret.encode()
    found = {secret, quote(secret, safe=""), quote_plus(secret), raw.hex()}
    for shift in range(3):
        tail = raw[shift:]
        whole = tail[: len(tail) // 3 * 3]
        found.add(base64.b64encode(whole).decode())
        found.add(base64.urlsafe_b64encode(whole).decode())
    return sorted(found)


BROKEN_FIELD_KEY = "SENTINEL-FIELD-KEY-2b8e6d4f0a1c3e5b7d9f1a3c5e7b9d1f"
NEEDLES = needles(SENTINEL) + needles(BROKEN_FIELD_KEY)


class Capture:
    """Everything the flows leave behind, as (where, text) pairs."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.records: list[logging.LogRecord] = []

    def add(self, where: str, text: str) -> None:
        self.items.append((where, text))

    def exception(self, where: str, exc: BaseException) -> None:
        self.add(f"{where}: str", str(exc))
        self.add(f"{where}: repr", repr(exc))
        self.add(f"{where}: traceback", "".join(traceback.format_exception(exc)))
        if isinstance(exc, QoyodError):
            self.add(f"{where}: attributes", repr(vars(exc)))

    def response(self, where: str, response: HttpResponse) -> HttpResponse:
        self.add(f"{where}: body", response.content.decode(errors="replace"))
        self.add(f"{where}: headers", repr(sorted(response.headers.items())))
        self.add(f"{where}: cookies", response.cookies.output())
        return response

    def leaks(self) -> list[str]:
        return [where for where, text in self.items if any(n in text for n in NEEDLES)]


class _Handler(logging.Handler):
    def __init__(self, capture: Capture) -> None:
        super().__init__(logging.DEBUG)
        self.capture = capture
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.capture.records.append(record)
        # format() adds the traceback of exc_info; the record's own attributes (args, extra
        # such as `request`) are kept too, in case a handler elsewhere prints them.
        self.capture.add(f"log {record.name}", self.format(record))
        self.capture.add(f"log {record.name}: attributes", repr(vars(record)))


@contextmanager
def capture_logs(capture: Capture) -> Iterator[None]:
    """A DEBUG handler on the root logger and on every logger that does not propagate."""
    handler = _Handler(capture)
    loggers = [logging.getLogger(), logging.getLogger("httpx"), logging.getLogger("httpcore")]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level in levels:
            logger.removeHandler(handler)
            logger.setLevel(level)


@contextmanager
def capture_celery(capture: Capture) -> Iterator[None]:
    def on_publish(sender: Any = None, body: Any = None, headers: Any = None, **kwargs: Any):
        capture.add(f"celery message {sender}", repr({"body": body, "headers": headers, **kwargs}))

    before_task_publish.connect(on_publish, weak=False)
    try:
        yield
    finally:
        before_task_publish.disconnect(on_publish)


@contextmanager
def capture_request_exceptions(capture: Capture) -> Iterator[None]:
    def on_exception(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
        capture.add("request exception", repr(request))

    got_request_exception.connect(on_exception, weak=False)
    try:
        yield
    finally:
        got_request_exception.disconnect(on_exception)


def capture_tables(capture: Capture) -> None:
    """Every row of every table, read with SQL (tables without a model included), and the
    session data decoded; the encrypted key's column is captured on its own."""
    encrypted = (QoyodConnection._meta.db_table, "api_key_encrypted")
    with db_connection.cursor() as cursor:
        for table in db_connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {db_connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(columns, values, strict=True))
                if (table, "api_key_encrypted") == encrypted:
                    capture.add("QoyodConnection.api_key_encrypted", str(row.pop(encrypted[1])))
                capture.add(f"table {table}", repr(row))
    for session in Session.objects.all():
        capture.add("session data", repr(session.get_decoded()))


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def silent_listener() -> Iterator[str]:
    """A loopback server that accepts connections (in its backlog) and never answers."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/2.0"
        try:
            yield url
        finally:
            close_pooled_clients(url)


def service_invoice(branch: Any, customer: Any, service: Any) -> Invoice:
    """A saved invoice (Requires Qoyod ticked) from a completed job with one service line."""
    vehicle = customer.vehicles.first() or factories.VehicleFactory(customer=customer)
    job = factories.JobCardFactory(
        branch=branch, customer=customer, vehicle=vehicle, status=JobCard.Status.COMPLETED
    )
    factories.ServiceLineFactory(job=job, service_item=service)
    today = timezone.localdate()
    return invoice_create(
        job=job, customer=customer, vehicle=vehicle, lines=invoice_prefill(job=job),
        issue_date=today, due_date=today + datetime.timedelta(days=30), requires_qoyod=True,
        user=None,
    )  # fmt: skip


def crash(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a bug while mapping the draft")


def state_of(invoice: Invoice) -> str:
    return QoyodInvoiceSync.objects.get(invoice=invoice).state


def logged_in(role: str) -> Client:
    # A view's exception becomes the 500 page and its logged report, as in production.
    client = Client(raise_request_exception=False)
    client.force_login(factories.UserFactory(username=role.replace(" ", "").lower(), role=role))
    return client


@dataclass
class Garage:
    """A garage with a branch, a customer and a service, watched by a Capture."""

    sandbox: SandboxHandle
    capture: Capture
    finance: Client
    accountant: Client

    def __post_init__(self) -> None:
        self.branch = factories.BranchFactory(code="RUH", name_en="Riyadh")
        self.customer = factories.CompanyCustomerFactory(name_en="Al Noor Trading")
        self.service = factories.ServiceItemFactory(code="BRK-SVC", default_price=Decimal("180.00"))

    def post(
        self, client: Client, where: str, url: str, data: Any = None, **headers: str
    ) -> HttpResponse:
        """POST, captured; after a redirect the page it leads to (messages shown) as well."""
        response = self.capture.response(where, client.post(url, data or {}, headers=headers))
        if response.status_code == 302:
            self.capture.response(f"{where} (page after)", client.get(response["Location"]))
        return response

    def save_key(self, where: str, base_url: str) -> HttpResponse:
        return self.post(self.finance, where, SETTINGS, {"base_url": base_url, "api_key": SENTINEL})

    def test_connection(self, where: str) -> bool | None:
        self.post(self.finance, where, reverse("qoyod_sync:connection_test"))
        return QoyodConnection.objects.get().last_test_ok

    def send(self, where: str, invoice: Invoice, *, retry: bool = False, **headers: str) -> str:
        view = "qoyod_sync:invoice_retry" if retry else "qoyod_sync:invoice_send"
        self.post(self.accountant, where, reverse(view, args=[invoice.pk]), **headers)
        return state_of(invoice)

    def invoice(self) -> Invoice:
        return service_invoice(self.branch, self.customer, self.service)

    def reports(self) -> list[str]:
        """The error reports of the 500s logged so far, as mail_admins and DEBUG show them."""
        made = []
        for record in self.capture.records:
            if record.exc_info and getattr(record, "request", None) is not None:
                reporter = ExceptionReporter(record.request, *record.exc_info, is_email=True)
                where = f"error report of {record.getMessage()}"
                self.capture.add(f"{where} (text)", reporter.get_traceback_text())
                self.capture.add(f"{where} (html)", reporter.get_traceback_html())
                made.append(where)
        return made

    def leaks(self) -> list[str]:
        """Where the key was found: in what was captured, the error reports or the tables."""
        self.reports()
        capture_tables(self.capture)
        assert crypto.decrypt(QoyodConnection.objects.get().api_key_encrypted) == SENTINEL
        return self.capture.leaks()


@pytest.fixture
def garage(qoyod_sandbox: SandboxHandle) -> Iterator[Garage]:
    qoyod_sandbox.state.allow(SENTINEL)
    capture = Capture()
    with ExitStack() as stack:
        stack.enter_context(capture_logs(capture))
        stack.enter_context(capture_celery(capture))
        stack.enter_context(capture_request_exceptions(capture))
        yield Garage(
            qoyod_sandbox, capture, logged_in(roles.FINANCE_MANAGER), logged_in(roles.ACCOUNTANT)
        )


@pytest.fixture
def connected(garage: Garage) -> Garage:
    """The key saved through the settings form and Test connection passed."""
    assert garage.save_key("save", garage.sandbox.base_url).status_code == 302
    assert garage.test_connection("test connection") is True
    choose_send_mappings()
    return garage


def test_needles_find_the_key_in_every_form_it_could_be_carried_in():
    carried = [
        f"API-KEY: {SENTINEL}",
        *(
            base64.b64encode((prefix + SENTINEL + "!").encode()).decode()
            for prefix in ("", "a", "ab")
        ),
        base64.urlsafe_b64encode(f"x{SENTINEL}".encode()).decode(),
        quote(f"key={SENTINEL}"),
        SENTINEL.encode().hex(),
    ]

    assert all(any(n in text for n in NEEDLES) for text in carried)
    assert not any(n in "SENTINEL-KEY-7f3a9c5e" for n in NEEDLES)


def test_saving_the_key_and_testing_the_connection(garage):
    refused = garage.save_key("save, host refused", "https://qoyod.example.net/2.0")
    assert refused.status_code == 200
    assert not QoyodConnection.objects.exists()

    assert garage.save_key("save", garage.sandbox.base_url).status_code == 302
    garage.capture.response("settings page", garage.finance.get(SETTINGS))
    assert garage.test_connection("test connection") is True
    garage.sandbox.state.revoke(SENTINEL)
    assert garage.test_connection("test connection, key revoked") is False

    assert garage.leaks() == []


def test_send_with_each_failure_kind_then_retry(connected):
    first = connected.invoice()
    assert connected.send("send", first) == SyncState.DRAFT_CREATED
    # Each failure, a refused key included, offers Retry.
    failures = [
        ("rejected 422", {"status": 422, "body": {"errors": {"contact_id": ["is invalid"]}}},
         SyncState.FAILED),
        ("key refused 401", {"status": 401}, SyncState.FAILED),
        ("rate limited 429", {"status": 429, "retry_after": 30}, SyncState.FAILED),
        ("server error 500", {"status": 500}, SyncState.UNKNOWN),
    ]  # fmt: skip
    for name, fault, failed_state in failures:
        invoice = connected.invoice()
        connected.sandbox.faults.fail_next(method="POST", path="/invoices", **fault)
        assert connected.send(f"send, {name}", invoice) == failed_state, name
        again = connected.send(
            f"again after {name}", invoice, retry=True, HX_Request="true",
        )  # fmt: skip
        assert again == SyncState.DRAFT_CREATED, name
    # No answer: Qoyod stores the draft and the connection closes; Retry finds it.
    dropped = connected.invoice()
    connected.sandbox.faults.drop_next(method="POST", path="/invoices")
    assert connected.send("send, no answer", dropped) == SyncState.UNKNOWN
    assert connected.send("retry, no answer", dropped, retry=True) == SyncState.DRAFT_CREATED
    assert len(connected.sandbox.company(SENTINEL).invoices) == 6

    assert connected.leaks() == []


def test_timeout_and_refused_connection(garage, settings):
    # The allowed sandbox address names a listener that never answers, then a port nobody
    # listens on; the key is entered again each time, because a new address clears it.
    with silent_listener() as silent:
        settings.QOYOD_SANDBOX_URL = silent
        assert garage.save_key("save, silent address", silent).status_code == 302
        connection_test(user=None, options=SHORT)
        assert QoyodConnection.objects.get().last_test_ok is False
        invoice = garage.invoice()
        result = invoice_send_draft(invoice=invoice, user=None, options=SHORT)
        garage.capture.add("send, timed out: message", result.message)
        assert state_of(invoice) == SyncState.FAILED
    refused = f"http://127.0.0.1:{free_port()}/2.0"
    settings.QOYOD_SANDBOX_URL = refused
    try:
        assert garage.save_key("save, refused address", refused).status_code == 302
        connection_test(user=None, options=SHORT)
        assert QoyodConnection.objects.get().last_test_ok is False
        result = invoice_send_draft(invoice=invoice, user=None, options=SHORT, retry=True)
        garage.capture.add("retry, connection refused: message", result.message)
        assert state_of(invoice) == SyncState.FAILED
    finally:
        close_pooled_clients(refused)

    assert garage.leaks() == []


def test_refresh_queued_as_a_celery_message_and_run_as_the_task(connected):
    invoices = [connected.invoice(), connected.invoice()]
    for invoice in invoices:
        assert connected.send("send", invoice) == SyncState.DRAFT_CREATED
    ids = sorted(invoice.pk for invoice in invoices)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)

    connected.post(
        connected.accountant, "refresh queued", reverse("qoyod_sync:invoices_refresh"),
        {"invoice": ids},
    )  # fmt: skip

    # The message as the broker holds it, raw body and headers, run as a worker would.
    with app.connection_for_write() as conn:
        queue = conn.SimpleQueue(app.conf.task_default_queue, no_ack=True)
        message = queue.get(block=False)
        queue.close()
    connected.capture.add("broker message: raw", repr((message.body, message.headers)))
    connected.capture.add("broker message: properties", repr(message.properties))
    assert message.headers["task"] == tasks.refresh_invoices.name
    (queued,), _kwargs, _embed = message.decode()
    assert sorted(queued) == ids
    tasks.refresh_invoices.apply(args=[queued], task_id=message.headers["id"])
    connected.post(
        connected.accountant, "refresh now", reverse("qoyod_sync:invoice_refresh", args=[ids[0]])
    )
    connected.sandbox.state.revoke(SENTINEL)
    connected.post(
        connected.accountant, "refresh now, key revoked",
        reverse("qoyod_sync:invoice_refresh", args=[ids[0]]),
    )  # fmt: skip
    published = [where for where, _text in connected.capture.items if where.startswith("celery")]
    assert published == [f"celery message {tasks.refresh_invoices.name}"]

    assert connected.leaks() == []


def test_client_errors_of_each_kind_do_not_carry_the_key(connected):
    sandbox, capture = connected.sandbox, connected.capture
    writer = QoyodWriter(base_url=sandbox.base_url, api_key=SENTINEL, options=TEST_OPTIONS)
    for status in (401, 422, 429, 500):
        sandbox.faults.fail_next(status=status, method="POST", path="/customers")
        with pytest.raises(QoyodError) as failed:
            writer.create_customer(name=f"HTTP {status}")
        capture.exception(f"write, HTTP {status}", failed.value)
    sandbox.faults.drop_next(method="POST", path="/customers")
    with pytest.raises(QoyodError) as no_answer:
        writer.create_customer(name="No answer")
    capture.exception("write, no answer", no_answer.value)
    with silent_listener() as silent:
        with pytest.raises(QoyodError) as timed_out:
            QoyodWriter(base_url=silent, api_key=SENTINEL, options=SHORT).create_customer(
                name="Timeout"
            )
        capture.exception("write, timed out", timed_out.value)
    refused = f"http://127.0.0.1:{free_port()}/2.0"
    with pytest.raises(QoyodError) as connection_refused:
        QoyodWriter(base_url=refused, api_key=SENTINEL, options=SHORT).create_customer(
            name="Refused"
        )
    capture.exception("write, connection refused", connection_refused.value)
    close_pooled_clients(refused)
    kinds = [type(e.value).__name__ for e in (failed, no_answer, timed_out, connection_refused)]
    # The last is the HTTP 500: a write Qoyod may have saved before it failed.
    assert kinds == ["QoyodMaybeSaved", "QoyodMaybeSaved", "QoyodMaybeSaved", "QoyodNotSent"]

    assert connected.leaks() == []


def test_error_reports_of_a_500_hide_the_key(connected, settings, monkeypatch):
    # A stored key a header cannot carry (the form refuses one; a row may be written some
    # other way): the client refuses to be built, and Test connection answers 500.
    connection_save(base_url=connected.sandbox.base_url, api_key=f"{SENTINEL}\x7f", user=None)
    unusable = connected.post(
        connected.finance, "test connection, unusable key", reverse("qoyod_sync:connection_test")
    )
    assert unusable.status_code == 500
    connection_save(base_url=connected.sandbox.base_url, api_key=SENTINEL, user=None)
    # The field-encryption keys misconfigured while saving; they are secrets as well.
    keys = settings.FIELD_ENCRYPTION_KEYS
    settings.FIELD_ENCRYPTION_KEYS = [BROKEN_FIELD_KEY]
    assert connected.save_key("save, keys broken", connected.sandbox.base_url).status_code == 500
    settings.FIELD_ENCRYPTION_KEYS = keys
    # A bug in the middle of a send (here in mapping the draft).
    invoice = connected.invoice()
    monkeypatch.setattr(mappers, "draft_invoice", crash)
    assert connected.send("send, crashed", invoice) == SyncState.FAILED

    assert connected.reports() == [
        "error report of Internal Server Error: /qoyod/settings/test/",
        "error report of Internal Server Error: /qoyod/settings/",
        f"error report of Internal Server Error: /qoyod/invoices/{invoice.pk}/send/",
    ]
    assert connected.leaks() == []


def test_httpx_logs_the_method_url_and_status_only(connected):
    assert connected.send("send", connected.invoice()) == SyncState.DRAFT_CREATED

    records = connected.capture.records
    lines = [r.getMessage() for r in records if r.name == "httpx"]
    line = re.compile(
        r"^HTTP Request: (GET|POST) http://127\.0\.0\.1:\d+/2\.0/[\w/]+(\?\S*)? "
        r'"HTTP/1\.1 \d{3} [\w ]+"$'
    )
    assert len(lines) >= 8
    assert [text for text in lines if not line.match(text)] == []
    # httpcore logs at DEBUG too (request repr without headers); the scan covers those.
    assert any(r.name.startswith("httpcore") and r.levelno == logging.DEBUG for r in records)
    assert connected.leaks() == []
