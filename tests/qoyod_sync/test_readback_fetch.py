"""Reading payment state back from Qoyod, against the sandbox over loopback HTTP.

The accountant approves, pays (in full, in part, twice) and deletes drafts in the sandbox; a
refresh brings exact amounts and states here, in batches of 100 invoices per request, with a
claim that keeps overlapping refreshes from both asking Qoyod. transaction=True, so the request
hook can check that no database transaction is open while Qoyod is asked.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.db import connection as db_connection
from django.utils import timezone

from invoicing.models import Invoice
from payments.models import QoyodAllocation, QoyodPaymentState, QoyodStatus
from payments.services import qoyod_payment_states_claim
from qoyod_sync.readback import fetch
from tests.invoicing_factories import run_in_threads
from tests.qoyod_sync.refresh_helpers import managed_invoice, qoyod_id

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
INVOICES = "/2.0/invoices"


class NoTransactionDuringHttp:
    """A request hook that fails any Qoyod call made inside transaction.atomic."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        if db_connection.in_atomic_block:
            self.violations.append(f"{request.method} {request.url.path}")


@pytest.fixture
def guard() -> NoTransactionDuringHttp:
    return NoTransactionDuringHttp()


@pytest.fixture
def reader(qoyod_sandbox, guard):
    yield qoyod_sandbox.reader(event_hooks={"request": [guard]})
    assert guard.violations == []


def _state(invoice: Invoice) -> QoyodPaymentState:
    return QoyodPaymentState.objects.get(invoice=invoice)


def _money(invoice: Invoice) -> tuple[str, Decimal, Decimal]:
    invoice.refresh_from_db()
    return invoice.status, invoice.amount_paid, invoice.balance


def test_approved_unpaid_draft_reads_back_as_approved_and_stays_issued(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox)
    qoyod_sandbox.act("invoices", qoyod_id(invoice), "approve")

    result = fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)

    state = _state(invoice)
    assert result.changed == {invoice.pk}
    assert (state.qoyod_status, state.qoyod_total, state.qoyod_paid, state.qoyod_due) == (
        QoyodStatus.APPROVED, D("276.00"), D("0.00"), D("276.00")
    )  # fmt: skip
    assert state.total_difference == D("0.00")
    assert not state.returned_by_accounting
    assert state.refreshed_at is not None and state.checked_at == state.refreshed_at
    assert (state.claim_token, state.claimed_until, state.queued_until) == ("", None, None)
    assert _money(invoice) == (Invoice.Status.ISSUED, D("0.00"), D("276.00"))
    assert invoice.history.count() == 1  # issued, nothing since


def test_full_payment_in_qoyod_makes_the_invoice_paid_here(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox)
    qid = qoyod_id(invoice)
    qoyod_sandbox.act("invoices", qid, "approve")
    paid = qoyod_sandbox.act("invoices", qid, "payments", {"date": "2025-03-03"})

    fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)

    assert _money(invoice) == (Invoice.Status.PAID, D("276.00"), D("0.00"))
    state = _state(invoice)
    assert (state.qoyod_status, state.qoyod_paid, state.qoyod_due) == (
        QoyodStatus.PAID, D("276.00"), D("0.00")
    )  # fmt: skip
    allocation = paid["receipt"]["allocations"][0]
    assert list(
        QoyodAllocation.objects.filter(invoice=invoice).values_list(
            "qoyod_id", "source_type", "source_id", "date", "amount"
        )
    ) == [
        (
            allocation["id"],
            "Receipt",
            paid["receipt"]["id"],
            timezone.datetime(2025, 3, 3).date(),
            D("276.00"),
        )
    ]
    assert [(c.from_status, c.to_status, c.note) for c in invoice.history.all()] == [
        ("", "issued", ""),
        ("issued", "paid", "Read back from Qoyod: Paid, paid 276.00 SAR"),
    ]


def test_partial_payment_records_the_paid_amount_and_keeps_the_balance_open(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox)
    qid = qoyod_id(invoice)
    qoyod_sandbox.act("invoices", qid, "approve")
    qoyod_sandbox.act("invoices", qid, "payments", {"amount": "100.50"})

    fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)

    assert _money(invoice) == (Invoice.Status.PARTIALLY_PAID, D("100.50"), D("175.50"))
    state = _state(invoice)
    assert (state.qoyod_status, state.qoyod_paid, state.qoyod_due) == (
        QoyodStatus.PARTIALLY_PAID, D("100.50"), D("175.50")
    )  # fmt: skip
    assert QoyodAllocation.objects.filter(invoice=invoice).count() == 1


def test_two_partial_payments_add_up_then_the_rest_pays_it(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox)
    qid = qoyod_id(invoice)
    qoyod_sandbox.act("invoices", qid, "approve")
    qoyod_sandbox.act("invoices", qid, "payments", {"amount": "76.00", "date": "2025-03-01"})
    qoyod_sandbox.act("invoices", qid, "payments", {"amount": "100.00", "date": "2025-03-02"})

    fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)

    assert _money(invoice) == (Invoice.Status.PARTIALLY_PAID, D("176.00"), D("100.00"))
    assert list(QoyodAllocation.objects.filter(invoice=invoice).values_list("date", "amount")) == [
        (timezone.datetime(2025, 3, 1).date(), D("76.00")),
        (timezone.datetime(2025, 3, 2).date(), D("100.00")),
    ]

    qoyod_sandbox.act("invoices", qid, "payments", {"date": "2025-03-09"})
    fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)

    assert _money(invoice) == (Invoice.Status.PAID, D("276.00"), D("0.00"))
    assert QoyodAllocation.objects.filter(invoice=invoice).count() == 3
    assert list(invoice.history.values_list("to_status", flat=True)) == [
        "issued",
        "partially_paid",
        "paid",
    ]


def test_a_draft_deleted_in_qoyod_is_flagged_returned_by_accounting(qoyod_sandbox, reader):
    kept, deleted = managed_invoice(qoyod_sandbox), managed_invoice(qoyod_sandbox)
    qoyod_sandbox.act("invoices", qoyod_id(deleted), "delete")

    result = fetch.invoices_refresh(invoice_ids=[kept.pk, deleted.pk], reader=reader)

    assert result.refreshed == {kept.pk, deleted.pk}
    state = _state(deleted)
    assert (state.qoyod_status, state.returned_by_accounting) == (QoyodStatus.MISSING, True)
    assert state.returned_at is not None
    assert _money(deleted) == (Invoice.Status.ISSUED, D("0.00"), D("276.00"))
    assert _state(kept).qoyod_status == QoyodStatus.DRAFT
    assert not _state(kept).returned_by_accounting
    # One request for both: the missing one is simply absent from the answer.
    assert qoyod_sandbox.requests.count(path=INVOICES) == 1

    returned_at = state.returned_at
    assert fetch.invoices_refresh(invoice_ids=[deleted.pk], reader=reader).changed == set()
    assert _state(deleted).returned_at == returned_at


def test_a_total_changed_in_qoyod_is_flagged_and_paid_in_full_is_still_paid(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox, qoyod_total=D("300.00"))
    qid = qoyod_id(invoice)
    qoyod_sandbox.act("invoices", qid, "approve")
    qoyod_sandbox.act("invoices", qid, "payments", {})

    fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)

    state = _state(invoice)
    assert (state.qoyod_total, state.total_difference) == (D("300.00"), D("24.00"))
    assert state.has_total_difference
    # Paid in full in Qoyod is paid here; the amount here never exceeds our own total.
    assert _money(invoice) == (Invoice.Status.PAID, D("276.00"), D("0.00"))


def test_250_stale_invoices_are_read_in_3_requests_all_get(qoyod_sandbox, reader):
    invoices = [managed_invoice(qoyod_sandbox) for _ in range(250)]
    for invoice in invoices[::2]:
        qoyod_sandbox.act("invoices", qoyod_id(invoice), "approve")
        qoyod_sandbox.act("invoices", qoyod_id(invoice), "payments", {})
    qoyod_sandbox.requests.clear()

    result = fetch.invoices_refresh(invoice_ids=[i.pk for i in invoices], reader=reader)

    sent = qoyod_sandbox.requests.all()
    assert len(sent) == 3 <= 4
    assert {r.method for r in sent} == {"GET"}
    assert len(result.refreshed) == 250
    assert len(result.changed) == 250
    paid = Invoice.objects.filter(pk__in=[i.pk for i in invoices], status=Invoice.Status.PAID)
    assert paid.count() == 125


def test_nothing_changed_writes_only_the_refreshed_time(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox)
    qid = qoyod_id(invoice)
    qoyod_sandbox.act("invoices", qid, "approve")
    qoyod_sandbox.act("invoices", qid, "payments", {"amount": "10.00"})
    fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)
    first = _state(invoice)
    allocation_pks = list(QoyodAllocation.objects.values_list("pk", flat=True))
    invoice.refresh_from_db()
    updated_at, history = invoice.updated_at, invoice.history.count()

    result = fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)

    assert result.refreshed == {invoice.pk} and result.changed == set()
    again = _state(invoice)
    assert again.refreshed_at > first.refreshed_at
    assert again.changed_at == first.changed_at
    assert list(QoyodAllocation.objects.values_list("pk", flat=True)) == allocation_pks
    invoice.refresh_from_db()
    assert (invoice.updated_at, invoice.history.count()) == (updated_at, history)


def test_a_qoyod_failure_is_recorded_and_changes_nothing(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox)
    fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)
    before = _state(invoice)
    qoyod_sandbox.act("invoices", qoyod_id(invoice), "approve")
    qoyod_sandbox.faults.fail_next(5, status=503, method="GET", path="/invoices")

    result = fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)

    assert result.failed[invoice.pk].render() == (
        "Could not refresh from Qoyod: Qoyod had a server error (HTTP 503)"
    )
    state = _state(invoice)
    assert (state.qoyod_status, state.refreshed_at) == (QoyodStatus.DRAFT, before.refreshed_at)
    assert state.checked_at > before.checked_at
    assert state.failed_last_time
    assert (state.claim_token, state.claimed_until) == ("", None)
    # Reads are retried (3 attempts), never more.
    assert qoyod_sandbox.requests.count(path=INVOICES) == 1 + 3

    qoyod_sandbox.faults.clear()
    fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)
    assert (_state(invoice).qoyod_status, _state(invoice).last_error) == (QoyodStatus.APPROVED, "")


def test_after_one_batch_fails_the_others_are_not_asked_again(qoyod_sandbox, reader):
    invoices = [managed_invoice(qoyod_sandbox) for _ in range(150)]
    qoyod_sandbox.faults.fail_next(10, status=503, method="GET", path="/invoices")

    result = fetch.invoices_refresh(invoice_ids=[i.pk for i in invoices], reader=reader)

    assert len(result.failed) == 150
    assert qoyod_sandbox.requests.count(path=INVOICES) == 3  # one batch, its 3 attempts
    assert QoyodPaymentState.objects.filter(last_error_code="readback.failed").count() == 150


def test_invoices_another_refresh_is_reading_are_left_to_it(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox)
    until = timezone.now() + fetch.CLAIM
    assert qoyod_payment_states_claim(invoice_ids=[invoice.pk], token="other", until=until) == [
        invoice.pk
    ]

    result = fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader)

    assert result.busy == {invoice.pk} and result.refreshed == set()
    assert qoyod_sandbox.requests.count() == 0


def test_a_redelivered_task_takes_back_its_own_claim(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox)
    # The worker that held this claim was killed mid-read; its task comes back with its id.
    until = timezone.now() + fetch.CLAIM
    qoyod_payment_states_claim(invoice_ids=[invoice.pk], token="task-1", until=until)

    result = fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader, token="task-1")

    assert result.refreshed == {invoice.pk}
    assert _state(invoice).claim_token == ""


def test_a_lapsed_claim_is_taken_over(qoyod_sandbox, reader):
    invoice = managed_invoice(qoyod_sandbox)
    lapsed = timezone.now() - timedelta(seconds=1)
    qoyod_payment_states_claim(invoice_ids=[invoice.pk], token="dead", until=lapsed)

    assert fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader).refreshed == {invoice.pk}


def test_invoices_not_managed_in_qoyod_are_not_read(qoyod_sandbox, reader):
    from tests.invoicing_factories import InvoiceFactory

    local = InvoiceFactory()
    voided = managed_invoice(qoyod_sandbox)
    Invoice.objects.filter(pk=voided.pk).update(status=Invoice.Status.VOID)

    result = fetch.invoices_refresh(invoice_ids=[local.pk, voided.pk], reader=reader)

    assert result.refreshed == set() and qoyod_sandbox.requests.count() == 0
    assert not QoyodPaymentState.objects.exists()


def test_the_periodic_refresh_leaves_out_those_paid_here(qoyod_sandbox, reader):
    open_one, paid_one = managed_invoice(qoyod_sandbox), managed_invoice(qoyod_sandbox)
    qoyod_sandbox.act("invoices", qoyod_id(paid_one), "approve")
    qoyod_sandbox.act("invoices", qoyod_id(paid_one), "payments", {})
    fetch.invoices_refresh(invoice_ids=[paid_one.pk], reader=reader)

    assert fetch.open_invoices_stalest(limit=10) == [open_one.pk]


def test_row_refresh_waits_for_the_refresh_already_reading_it(qoyod_sandbox, reader, monkeypatch):
    invoice = managed_invoice(qoyod_sandbox)
    qoyod_sandbox.act("invoices", qoyod_id(invoice), "approve")
    held = qoyod_sandbox.faults.hold_next(method="GET", path="/invoices")
    background = threading.Thread(
        target=lambda: (
            fetch.invoices_refresh(invoice_ids=[invoice.pk], reader=reader),
            db_connection.close(),
        )
    )
    background.start()
    # The background refresh has claimed the invoice and is reading it from Qoyod.
    held.wait_received()
    pending = fetch.invoices_pending

    def pending_then_release(*args, **kwargs):
        running = pending(*args, **kwargs)
        # The row refresh found it busy and is waiting: let the background read finish.
        held.release()
        return running

    monkeypatch.setattr(fetch, "invoices_pending", pending_then_release)

    outcome = fetch.invoice_refresh_now(invoice=invoice, user=None, reader=reader)
    background.join(timeout=30)

    assert outcome.ok and outcome.message == "Refreshed from Qoyod."
    assert qoyod_sandbox.requests.count(path=INVOICES) == 1
    assert _state(invoice).qoyod_status == QoyodStatus.APPROVED


def test_row_refresh_messages(qoyod_sandbox, reader):
    from tests.invoicing_factories import InvoiceFactory

    invoice = managed_invoice(qoyod_sandbox)
    first = fetch.invoice_refresh_now(invoice=invoice, user=None, reader=reader)
    second = fetch.invoice_refresh_now(invoice=invoice, user=None, reader=reader)
    local = InvoiceFactory()
    not_in_qoyod = fetch.invoice_refresh_now(invoice=local, user=None, reader=reader)

    assert (first.ok, first.message) == (True, "Updated from Qoyod.")
    assert (second.ok, second.message) == (True, "Checked with Qoyod: nothing changed.")
    assert (not_in_qoyod.ok, not_in_qoyod.message) == (
        False,
        f"{local.number} has no draft in Qoyod.",
    )


def test_without_a_connection_the_failure_is_recorded(qoyod_sandbox):
    invoice = managed_invoice(qoyod_sandbox)

    result = fetch.invoices_refresh(invoice_ids=[invoice.pk])

    assert {pk: m.render() for pk, m in result.failed.items()} == {
        invoice.pk: "Could not refresh from Qoyod: Qoyod is not connected."
    }
    assert _state(invoice).last_error == result.failed[invoice.pk].render()


def test_overlapping_refreshes_of_the_same_invoices_ask_qoyod_once(qoyod_sandbox, require_postgres):
    invoices = [managed_invoice(qoyod_sandbox) for _ in range(150)]
    ids = [i.pk for i in invoices]
    for invoice in invoices:
        qoyod_sandbox.act("invoices", qoyod_id(invoice), "approve")
        qoyod_sandbox.act("invoices", qoyod_id(invoice), "payments", {"amount": "1.00"})
    # Two threads claim a batch each and read it; Qoyod holds both reads until the six others
    # have found both batches claimed and returned, so every thread starts while they are out.
    held = qoyod_sandbox.faults.hold_next(2, method="GET", path="/invoices")
    reader = qoyod_sandbox.reader()
    returned: list[int] = []
    lock = threading.Lock()

    def refresh_all(index: int) -> fetch.RefreshResult:
        try:
            return fetch.invoices_refresh(invoice_ids=ids, reader=reader)
        finally:
            with lock:
                returned.append(index)
                if len(returned) == 6:
                    held.release()

    results = run_in_threads(8, refresh_all)

    assert not [r for r in results if isinstance(r, Exception)]
    assert qoyod_sandbox.requests.count(path=INVOICES) == 2  # 150 invoices, one read each
    assert sum(len(r.refreshed) for r in results) == 150
    assert Invoice.objects.filter(pk__in=ids, status=Invoice.Status.PARTIALLY_PAID).count() == 150
    # One history row per invoice for the change, not one per thread.
    assert all(i.history.count() == 2 for i in Invoice.objects.filter(pk__in=ids))
