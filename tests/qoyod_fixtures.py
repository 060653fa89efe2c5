"""Pytest fixtures for anything that talks to Qoyod: a live sandbox and clients pointed at it.

Registered in tests/conftest.py with `pytest_plugins = ["tests.qoyod_fixtures"]`.

    def test_something(qoyod_sandbox):
        writer = qoyod_sandbox.writer()                 # key SANDBOX_KEY, fast test options
        customer = writer.create_customer(name="Ali")
        qoyod_sandbox.company().customers[customer.id]  # the sandbox's own record
        qoyod_sandbox.faults.drop_next(method="POST")   # fault injection, see sandbox/faults.py
        qoyod_sandbox.requests.count(method="POST", path="/2.0/invoices")
        qoyod_sandbox.act("invoices", invoice_id, "approve")   # the accountant, as control.py
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from qoyod_sync.client import (
    ClientOptions,
    QoyodReader,
    QoyodWriter,
    RetryPolicy,
    close_pooled_clients,
)
from qoyod_sync.models import PaymentMethod, QoyodConnection
from qoyod_sync.sandbox import SandboxServer
from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.control import act
from qoyod_sync.sandbox.faults import Faults
from qoyod_sync.sandbox.server import RequestLog, SandboxState

SANDBOX_KEY = "sandbox-test-key-0001"
# The sandbox chart's sales and cost of goods sold accounts (qoyod_sync/sandbox/chart.py): what
# a strict tenant requires on every product, and on a tracked one (Company.strict_products).
SALES_ACCOUNT, COGS_ACCOUNT = 17, 12
SERVICE_ACCOUNTS = {"sales_account_id": SALES_ACCOUNT}
PART_ACCOUNTS = {"sales_account_id": SALES_ACCOUNT, "cogs_account_id": COGS_ACCOUNT}

# Production timeouts, but no real waiting between read retries and no client-side pacing,
# so a test that sends hundreds of requests stays fast.
TEST_OPTIONS = ClientOptions(
    rate_limit_per_minute=1_000_000,
    burst=1_000,
    retry=RetryPolicy(base_delay=0.001, max_delay=0.005, max_retry_after=0.05),
)


def choose_send_mappings() -> None:
    """The choices a finance manager makes once after Test connection, which pre-flight needs."""
    QoyodConnection.objects.update(
        sales_account_id=SALES_ACCOUNT,
        cogs_account_id=COGS_ACCOUNT,
        payment_method=PaymentMethod.CASH,
    )


@dataclass
class SandboxHandle:
    server: SandboxServer

    @property
    def base_url(self) -> str:
        """Ends in /2.0, as a Qoyod connection stores it."""
        return self.server.base_url

    @property
    def root_url(self) -> str:
        """Where /_sandbox/ (the accountant page and control endpoints) lives."""
        return self.server.root_url

    @property
    def state(self) -> SandboxState:
        return self.server.state

    @property
    def faults(self) -> Faults:
        return self.server.faults

    @property
    def requests(self) -> RequestLog:
        return self.server.requests

    @property
    def connections_accepted(self) -> int:
        return self.server.connections_accepted

    def company(self, api_key: str = SANDBOX_KEY) -> Company:
        """The sandbox company behind a key (created, seeded, on first use).

        The sandbox serves only keys it knows, as Qoyod: SANDBOX_KEY, and any key a test opens
        a company for or asks a client for (`state.allow(key)` for a key used otherwise).
        """
        return self.server.company(api_key)

    def act(
        self,
        kind: str,
        record_id: int,
        action: str,
        body: dict[str, Any] | None = None,
        *,
        api_key: str = SANDBOX_KEY,
    ) -> Any:
        """Play the accountant or customer: act("invoices", 1001, "payments", {"amount": "50"})."""
        return act(self.company(api_key), kind, record_id, action, body or {})

    def reader(self, api_key: str = SANDBOX_KEY, **options: Any) -> QoyodReader:
        self.server.state.allow(api_key)
        return QoyodReader(
            base_url=self.base_url, api_key=api_key, options=replace(TEST_OPTIONS, **options)
        )

    def writer(self, api_key: str = SANDBOX_KEY, **options: Any) -> QoyodWriter:
        self.server.state.allow(api_key)
        return QoyodWriter(
            base_url=self.base_url, api_key=api_key, options=replace(TEST_OPTIONS, **options)
        )


@pytest.fixture
def qoyod_sandbox(settings: Settings) -> Iterator[SandboxHandle]:
    """A fresh sandbox on a free loopback port, stopped after the test.

    It is the enabled sandbox of settings, so a connection may be saved with its address.
    """
    server = SandboxServer("127.0.0.1", 0, keys=[SANDBOX_KEY]).start()
    settings.QOYOD_SANDBOX_URL = server.base_url
    settings.QOYOD_SANDBOX_ENABLED = True
    try:
        yield SandboxHandle(server)
    finally:
        close_pooled_clients(server.base_url)
        server.stop()


@pytest.fixture
def qoyod_reader(qoyod_sandbox: SandboxHandle) -> QoyodReader:
    return qoyod_sandbox.reader()


@pytest.fixture
def qoyod_writer(qoyod_sandbox: SandboxHandle) -> QoyodWriter:
    return qoyod_sandbox.writer()
