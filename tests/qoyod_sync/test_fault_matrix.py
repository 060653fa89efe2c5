"""The fault matrix (issue 11, "Tests and figures"): every request of a send of a draft, and the
stock adjustment of Sync stock to Qoyod, times every kind of fault; then Retry.

For every cell: the state the row shows after the fault is exactly the expected one, and after
Retry (pressed while the row offers it, at most MAX_PRESSES times) Qoyod holds exactly one draft,
one customer and one product per SKU, each linked here to that very record (and, for the stock
cells, exactly one inventory adjustment).

Against the sandbox over loopback. A read is retried by the client, so a fault on a read hits
every attempt: otherwise the cell would only show the retry working. The delay is a hold: Qoyod
keeps the request unanswered until the client (with a tiny read timeout) has given up, then
processes it, before Retry is pressed; no test sleeps. bench/fault_matrix.py prints this matrix
as a table (from the user_properties each cell records).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.db import connection as db_connection
from django.utils import timezone

from qoyod_sync.mappers import product_sku
from qoyod_sync.models import (
    FailureKind,
    QoyodConnection,
    QoyodCustomerLink,
    QoyodProductLink,
    QoyodStockAdjustment,
    SyncState,
)
from qoyod_sync.sandbox.faults import Faults, Hold
from qoyod_sync.status import Action, sync_status
from qoyod_sync.stock import stock_adjustment_send
from tests import factories
from tests.qoyod_fixtures import TEST_OPTIONS
from tests.qoyod_sync.test_push import (
    NoTransactionDuringHttp,
    accountant,
    drafts,
    make_invoice,
    options,
    qoyod,
    retry,
    send,
    sync_of,
)

__all__ = ["accountant", "options", "qoyod"]

# Inside the test's own transaction, rolled back after each cell: flushing PostgreSQL after each
# of the 48 cells, as a transactional test does, would take minutes. The send runs in this
# thread, so it sees what it wrote; the guard below still catches a call inside atomic().
pytestmark = pytest.mark.django_db

MAX_PRESSES = 3
OUR_STOCK = Decimal("7")

# The request of a send (or of Sync stock to Qoyod) a fault hits: method and API path prefix.
REQUESTS: dict[str, tuple[str, str]] = {
    "customer lookup": ("GET", "/customers"),
    "customer create": ("POST", "/customers"),
    "product lookup": ("GET", "/products"),
    "product create": ("POST", "/products"),
    "invoice create": ("POST", "/invoices"),
    "stock adjustment": ("POST", "/inventory_adjustments"),
}
FAULTS = (
    "4xx",
    "5xx before commit",
    "5xx after commit",
    "drop before commit",
    "drop after commit",
    "delay past read timeout",
    "429",
    "200 not JSON",
)

# Expected state shown after the fault: (sync state, failure kind, reason code) for a send,
# (adjustment state, "", reason code) for the stock adjustment. Only a lost answer to a write
# is "may already exist"; a refusal or a 429 was certainly not saved.
S, K, A = SyncState, FailureKind, QoyodStockAdjustment.State
_LOST = ("5xx before commit", "5xx after commit", "drop before commit", "drop after commit",
         "delay past read timeout", "200 not JSON")  # fmt: skip
_READ_FAILED = (S.FAILED, K.TEMPORARY, "send.temporary")
EXPECTED: dict[tuple[str, str], tuple[str, str, str]] = {
    **{("customer lookup", f): _READ_FAILED for f in FAULTS},
    ("customer lookup", "4xx"): (S.FAILED, K.REJECTED_CUSTOMER, "send.refused"),
    **{("product lookup", f): _READ_FAILED for f in FAULTS},
    ("product lookup", "4xx"): (S.FAILED, K.REJECTED_PRODUCT, "send.refused"),
    **{("customer create", f): (S.FAILED, K.TEMPORARY, "send.customer_maybe_saved") for f in _LOST},
    ("customer create", "4xx"): (S.FAILED, K.REJECTED_CUSTOMER, "send.refused"),
    ("customer create", "429"): (S.FAILED, K.TEMPORARY, "send.temporary"),
    # Qoyod's unique SKU makes a lost product create safe: Retry finds it by SKU and links it.
    **{("product create", f): (S.FAILED, K.TEMPORARY, "send.temporary") for f in FAULTS},
    ("product create", "4xx"): (S.FAILED, K.REJECTED_PRODUCT, "send.refused"),
    **{("invoice create", f): (S.UNKNOWN, K.OUTCOME_UNKNOWN, "send.maybe_saved") for f in _LOST},
    ("invoice create", "4xx"): (S.FAILED, K.REJECTED, "send.rejected"),
    ("invoice create", "429"): (S.FAILED, K.TEMPORARY, "send.temporary"),
    **{("stock adjustment", f): (A.UNKNOWN, "", "stock.maybe_saved") for f in _LOST},
    ("stock adjustment", "4xx"): (A.FAILED, "", "send.refused"),
    ("stock adjustment", "429"): (A.FAILED, "", "stock.temporary"),
}


class NoAtomicDuringHttp(NoTransactionDuringHttp):
    """Fails on a Qoyod call inside an atomic block deeper than the test's own transaction."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = len(db_connection.atomic_blocks)

    def __call__(self, request: httpx.Request) -> None:
        self.requests += 1
        if len(db_connection.atomic_blocks) > self.depth:
            self.violations.append(f"{request.method} {request.url.path}")
            raise AssertionError(f"{request.method} {request.url} sent inside a transaction")


@pytest.fixture
def http_guard(db) -> NoAtomicDuringHttp:
    return NoAtomicDuringHttp()


def cells() -> list[tuple[str, str]]:
    return [(request, fault) for request in REQUESTS for fault in FAULTS]


def inject(faults: Faults, fault: str, method: str, path: str) -> Hold | None:
    """Arm `fault` for the request; a read's fault hits every attempt the client makes."""
    count = TEST_OPTIONS.retry.attempts if method == "GET" else 1
    where = {"method": method, "path": path}
    if fault == "4xx":
        faults.fail_next(count, status=422, body={"message": "Refused by the matrix"}, **where)
    elif fault == "5xx before commit":
        faults.fail_next(count, status=503, **where)
    elif fault == "5xx after commit":
        faults.fail_next(count, status=502, commit=True, **where)
    elif fault == "drop before commit":
        faults.drop_next(count, commit=False, **where)
    elif fault == "drop after commit":
        faults.drop_next(count, commit=True, **where)
    elif fault == "delay past read timeout":
        return faults.hold_next(count, **where)
    elif fault == "429":
        faults.fail_next(count, status=429, retry_after=30, **where)
    elif fault == "200 not JSON":
        faults.fail_next(count, status=200, body=b"<html>Saved</html>", commit=True, **where)
    else:
        raise AssertionError(fault)
    return None


def settle(faults: Faults, hold: Hold | None) -> None:
    """After the faulty call: Qoyod finishes what it held, and no fault is left armed."""
    if hold is not None:
        received = hold.received
        hold.release()
        hold.wait_finished(received)
    faults.clear()


def impatient(options, fault: str):
    """A tiny read timeout where Qoyod is made slow, so the delay costs milliseconds."""
    if fault != "delay past read timeout":
        return options
    return replace(options, timeout=httpx.Timeout(5.0, read=0.05))


def shown(state: str, kind: str, code: str) -> str:
    return f"{state} ({kind}: {code})" if kind else f"{state} ({code})"


@pytest.mark.parametrize(("request_name", "fault"), cells(), ids=[f"{r}-{f}" for r, f in cells()])
def test_fault_then_retry_is_exactly_once(
    qoyod, options, accountant, record_property, request_name, fault
):
    QoyodConnection.objects.update(stock_gain_account_id=18, stock_loss_account_id=22)
    customer = factories.CustomerFactory()
    service = factories.ServiceItemFactory()
    part = factories.SparePartFactory()
    invoice = make_invoice(customer=customer, services=[service], parts=[(part, "2")])
    factories.PartStockFactory(part=part, branch=invoice.branch, quantity=OUR_STOCK)
    method, path = REQUESTS[request_name]

    if request_name == "stock adjustment":
        assert send(invoice, accountant, options).ok
        hold = inject(qoyod.faults, fault, method, path)
        stock_adjustment_send(branch=invoice.branch, invoice=invoice, user=accountant,
                              options=impatient(options, fault))  # fmt: skip
        settle(qoyod.faults, hold)
        first = QoyodStockAdjustment.objects.get()
        after_fault = (first.state, "", first.reason_code)
        presses = 0
        while presses < MAX_PRESSES:
            presses += 1
            if stock_adjustment_send(branch=invoice.branch, invoice=invoice, user=accountant,
                                     options=options).ok:  # fmt: skip
                break
    else:
        hold = inject(qoyod.faults, fault, method, path)
        send(invoice, accountant, impatient(options, fault))
        settle(qoyod.faults, hold)
        sync = sync_of(invoice)
        after_fault = (sync.state, sync.failure_kind, sync.reason_code)
        presses = press_retry(invoice, accountant, options)

    company = qoyod.company()
    sync = sync_of(invoice)
    [draft] = drafts(qoyod, invoice)
    customers = [c for c in company.customers.values() if c.name == customer.name_en]
    per_sku = {
        sku: [p.id for p in company.products.values() if p.sku == sku]
        for sku in (product_sku(service), product_sku(part))
    }
    adjustments = len(company.adjustments)
    record_property("cell", {
        "request": request_name, "fault": fault, "shown": shown(*after_fault),
        "presses": presses, "drafts": len(drafts(qoyod, invoice)), "customers": len(customers),
        "products": sorted(len(ids) for ids in per_sku.values()), "adjustments": adjustments,
        "final": sync.state,
    })  # fmt: skip

    assert sync.state == SyncState.DRAFT_CREATED
    assert sync.qoyod_invoice_id == draft.id
    [qoyod_customer] = customers
    assert QoyodCustomerLink.objects.get(customer=customer).qoyod_id == qoyod_customer.id
    assert draft.contact_id == qoyod_customer.id
    linked = {
        product_sku(service): QoyodProductLink.objects.get(service_item=service).qoyod_id,
        product_sku(part): QoyodProductLink.objects.get(spare_part=part).qoyod_id,
    }
    assert per_sku == {sku: [qoyod_id] for sku, qoyod_id in linked.items()}
    assert sorted(line.product_id for line in draft.lines) == sorted(linked.values())
    if request_name == "stock adjustment":
        assert adjustments == 1
        assert company.stock_of(linked[product_sku(part)], 1) == OUR_STOCK
    else:
        assert adjustments == 0
    assert after_fault == EXPECTED[request_name, fault]


def press_retry(invoice, user, options) -> int:
    """Press Retry while the row offers it and the send has not made its draft."""
    presses = 0
    while presses < MAX_PRESSES:
        invoice.refresh_from_db()
        sync = sync_of(invoice)
        if sync.state == SyncState.DRAFT_CREATED or sync_status(invoice, sync).refusal(
            Action.RETRY
        ):
            break
        if sync.reason_code == "send.customer_still_saving":
            # The row asks to retry in a moment: the moment passes.
            the_wait_passes()
        retry(invoice, user, options)
        presses += 1
    return presses


def the_wait_passes() -> None:
    QoyodCustomerLink.objects.filter(state=QoyodCustomerLink.State.UNKNOWN).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
