"""The Qoyod API key never leaks (issue 10 item 7).

One sentinel key goes through every flow that handles it: saving it in the settings form,
Test connection, Send, each way a send can fail (rejected, key refused, rate limited, server
error, no answer, a timeout, a refused connection), Retry, and the payment read-back queued and
run as a Celery task. Everything those flows leave behind is captured: every log record at DEBUG
(httpx and httpcore included, tracebacks formatted), every response body and header, every row
of every table, every Celery message published, the error report Django would mail or show for
a 500, and the text and repr of every exception. The only place the key may be is the encrypted
column, and not in clear text there either.
"""

from __future__ import annotations

import base64
import datetime
import logging
import re
import socket
import traceback
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from celery.signals import before_task_publish
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.signals import got_request_exception
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter

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
from tests.qoyod_fixtures import TEST_OPTIONS, SandboxHandle

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
def capture_celery(capture: Capture) -> Iterator[list[dict[str, Any]]]:
    published: list[dict[str, Any]] = []

    def on_publish(sender: Any = None, body: Any = None, headers: Any = None, **kwargs: Any):
        published.append({"task": sender, "body": body, "headers": headers})
        capture.add(f"celery message {sender}", repr({"body": body, "headers": headers, **kwargs}))

    before_task_publish.connect(on_publish, weak=False)
    try:
        yield published
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
    """Every row of every table, and the session data decoded; the key's column set aside."""
    for model in apps.get_models(include_auto_created=True):
        for row in model._base_manager.values():
            if model is QoyodConnection:
                stored = row.pop("api_key_encrypted")
                capture.add("QoyodConnection.api_key_encrypted", stored)
            capture.add(f"table {model._meta.db_table}", repr(row))
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


def logged_in(role: str) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(factories.UserFactory(username=role.replace(" ", "").lower(), role=role))
    return client


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


def test_the_api_key_never_leaks_through_any_flow(
    qoyod_sandbox: SandboxHandle, settings, monkeypatch
):
    capture = Capture()
    sandbox = qoyod_sandbox
    branch = factories.BranchFactory(code="RUH", name_en="Riyadh")
    customer = factories.CompanyCustomerFactory(name_en="Al Noor Trading")
    service = factories.ServiceItemFactory(code="BRK-SVC", default_price=Decimal("180.00"))
    finance = logged_in(roles.FINANCE_MANAGER)
    accountant = logged_in(roles.ACCOUNTANT)

    def post(client: Client, where: str, url: str, data: Any = None, **headers: str):
        response = capture.response(where, client.post(url, data or {}, headers=headers))
        if response.status_code == 302:
            capture.response(f"{where} (page after)", client.get(response["Location"]))
        return response

    with (
        capture_logs(capture),
        capture_celery(capture) as published,
        capture_request_exceptions(capture),
    ):
        # Save the key: refused for a host the key may not go to, then saved for the sandbox.
        refused = post(
            finance, "save refused", SETTINGS,
            {"base_url": "https://qoyod.example.net/2.0", "api_key": SENTINEL},
        )  # fmt: skip
        assert refused.status_code == 200
        assert not QoyodConnection.objects.exists()
        saved = post(finance, "save", SETTINGS, {"base_url": sandbox.base_url, "api_key": SENTINEL})
        assert saved.status_code == 302
        capture.response("settings page", finance.get(SETTINGS))

        post(finance, "test connection", reverse("qoyod_sync:connection_test"))
        assert QoyodConnection.objects.get().last_test_ok is True

        # Send: the first one creates the customer and the service product.
        first = service_invoice(branch, customer, service)
        post(accountant, "send", reverse("qoyod_sync:invoice_send", args=[first.pk]))
        assert state_of(first) == SyncState.DRAFT_CREATED

        # Each failure kind on the invoice POST, seen through the page, then Retry.
        # A refused key leaves the invoice ready to send again; the others offer Retry.
        failures = [
            ("rejected 422", {"status": 422, "body": {"errors": {"contact_id": ["is invalid"]}}},
             SyncState.FAILED, "invoice_retry"),
            ("key refused 401", {"status": 401}, SyncState.READY, "invoice_send"),
            ("rate limited 429", {"status": 429, "retry_after": 30}, SyncState.FAILED,
             "invoice_retry"),
            ("server error 500", {"status": 500}, SyncState.UNKNOWN, "invoice_retry"),
        ]  # fmt: skip
        for name, fault, failed_state, again in failures:
            invoice = service_invoice(branch, customer, service)
            sandbox.faults.fail_next(method="POST", path="/invoices", **fault)
            post(accountant, f"send, {name}", reverse("qoyod_sync:invoice_send", args=[invoice.pk]))
            assert state_of(invoice) == failed_state, name
            post(
                accountant, f"{again} after {name}",
                reverse(f"qoyod_sync:{again}", args=[invoice.pk]), HX_Request="true",
            )  # fmt: skip
            assert state_of(invoice) == SyncState.DRAFT_CREATED, name

        # No answer: Qoyod stores the draft and the connection closes; Retry finds it.
        dropped = service_invoice(branch, customer, service)
        sandbox.faults.drop_next(method="POST", path="/invoices")
        post(accountant, "send, no answer", reverse("qoyod_sync:invoice_send", args=[dropped.pk]))
        assert state_of(dropped) == SyncState.UNKNOWN
        post(accountant, "retry, no answer", reverse("qoyod_sync:invoice_retry", args=[dropped.pk]))
        assert state_of(dropped) == SyncState.DRAFT_CREATED

        # Refresh: queued from the invoices page (a Celery message), run as the task; and now.
        sent = list(QoyodInvoiceSync.objects.filter(state=SyncState.DRAFT_CREATED))
        ids = sorted(sync.invoice_id for sync in sent)
        post(accountant, "refresh queued", reverse("qoyod_sync:invoices_refresh"), {"invoice": ids})
        assert [message["task"] for message in published] == [tasks.refresh_invoices.name]
        (queued_ids,), _kwargs, _embed = published[0]["body"]
        assert sorted(queued_ids) == ids
        tasks.refresh_invoices.apply(args=[queued_ids], task_id=published[0]["headers"]["id"])
        post(accountant, "refresh now", reverse("qoyod_sync:invoice_refresh", args=[first.pk]))

        # A timeout and a refused connection: the sandbox address now names a listener that
        # never answers, then a port nobody listens on. The key is entered again each time,
        # because a new address clears it.
        with silent_listener() as silent:
            settings.QOYOD_SANDBOX_URL = silent
            connection_save(base_url=silent, api_key=SENTINEL, user=None)
            connection_test(user=None, options=SHORT)
            assert QoyodConnection.objects.get().last_test_ok is False
            timed_out = service_invoice(branch, customer, service)
            result = invoice_send_draft(invoice=timed_out, user=None, options=SHORT)
            capture.add("send, timed out: message", result.message)
            with pytest.raises(QoyodError) as timeout:
                QoyodWriter(base_url=silent, api_key=SENTINEL, options=SHORT).create_customer(
                    name="Timeout"
                )
            capture.exception("write, timed out", timeout.value)
        refused_url = f"http://127.0.0.1:{free_port()}/2.0"
        settings.QOYOD_SANDBOX_URL = refused_url
        post(finance, "save, refused address", SETTINGS,
             {"base_url": refused_url, "api_key": SENTINEL})  # fmt: skip
        post(finance, "test connection, refused", reverse("qoyod_sync:connection_test"))
        assert QoyodConnection.objects.get().last_test_ok is False
        post(accountant, "retry, refused", reverse("qoyod_sync:invoice_retry", args=[timed_out.pk]))
        with pytest.raises(QoyodError) as connection_refused:
            QoyodWriter(base_url=refused_url, api_key=SENTINEL, options=SHORT).create_customer(
                name="Refused"
            )
        capture.exception("write, connection refused", connection_refused.value)
        close_pooled_clients(refused_url)

        # Back on the sandbox, the key revoked there: Test connection, Send and Refresh say so.
        settings.QOYOD_SANDBOX_URL = sandbox.base_url
        post(finance, "save again", SETTINGS, {"base_url": sandbox.base_url, "api_key": SENTINEL})
        sandbox.state.revoke(SENTINEL)
        post(finance, "test connection, revoked", reverse("qoyod_sync:connection_test"))
        assert QoyodConnection.objects.get().last_test_ok is False
        post(accountant, "retry, revoked", reverse("qoyod_sync:invoice_retry", args=[timed_out.pk]))
        post(accountant, "refresh now, revoked",
             reverse("qoyod_sync:invoice_refresh", args=[first.pk]))  # fmt: skip
        # The errors themselves, one per kind, as the client raises them.
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

        # A 500 while saving (the encryption keys misconfigured): what Django would mail the
        # admins or show with DEBUG on.
        # A stored key a header cannot carry (the form refuses one; a row may be written some
        # other way): the client refuses to build, and Test connection answers 500.
        connection_save(base_url=sandbox.base_url, api_key=f"{SENTINEL}\x7f", user=None)
        unusable = post(finance, "test connection, unusable key",
                        reverse("qoyod_sync:connection_test"))  # fmt: skip
        assert unusable.status_code == 500
        connection_save(base_url=sandbox.base_url, api_key=SENTINEL, user=None)

        # The field-encryption keys are secrets as well, so the broken one is a sentinel too.
        keys = settings.FIELD_ENCRYPTION_KEYS
        settings.FIELD_ENCRYPTION_KEYS = [BROKEN_FIELD_KEY]
        crashed = post(finance, "save, crashed", SETTINGS,
                       {"base_url": sandbox.base_url, "api_key": SENTINEL})  # fmt: skip
        assert crashed.status_code == 500
        settings.FIELD_ENCRYPTION_KEYS = keys
        # A bug in the middle of a send (here the mapping of the draft) surfaces as a 500.
        crashing = service_invoice(branch, customer, service)
        monkeypatch.setattr(mappers, "draft_invoice", crash)
        failed_send = post(accountant, "send, crashed",
                           reverse("qoyod_sync:invoice_send", args=[crashing.pk]))  # fmt: skip
        assert failed_send.status_code == 500
        assert state_of(crashing) == SyncState.FAILED

    for record in capture.records:
        if record.exc_info and getattr(record, "request", None) is not None:
            reporter = ExceptionReporter(record.request, *record.exc_info, is_email=True)
            capture.add(f"error report of {record.getMessage()}", reporter.get_traceback_text())
            capture.add(f"error page of {record.getMessage()}", reporter.get_traceback_html())
    capture_tables(capture)

    # The capture saw what it should, so an empty leak list means something.
    http_lines = [r.getMessage() for r in capture.records if r.name == "httpx"]
    assert len(http_lines) >= 20
    line = re.compile(r"^HTTP Request: (GET|POST|PUT|DELETE) http://127\.0\.0\.1:\d+/2\.0/\S* ")
    assert all(line.match(text) for text in http_lines), http_lines
    assert any(r.name.startswith("httpcore") for r in capture.records)
    reports = [where for where, _text in capture.items if where.startswith("error report")]
    assert len(reports) == 3
    stored = QoyodConnection.objects.get().api_key_encrypted
    assert crypto.decrypt(stored) == SENTINEL
    assert capture.leaks() == []
