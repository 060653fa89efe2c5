"""Recording payment state read back from Qoyod: compare before write, history through
invoice_apply_paid_amount, allocations kept in step, claims and queue marks honoured.
"""

from __future__ import annotations

import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from invoicing.models import Invoice
from payments.models import QoyodAllocation, QoyodPaymentState, QoyodStatus
from payments.services import (
    QoyodAllocationData,
    QoyodPaymentData,
    qoyod_payment_states_claim,
    qoyod_payment_states_queue,
    qoyod_payment_states_record,
    qoyod_payment_states_unqueue,
)
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory

pytestmark = pytest.mark.django_db

D = Decimal
TOTAL = D("276.00")
MARCH = datetime.date(2025, 3, 1)


def _claim(invoice: Invoice, token: str = "t") -> None:
    until = timezone.now() + timedelta(minutes=1)
    assert qoyod_payment_states_claim(invoice_ids=[invoice.pk], token=token, until=until) == [
        invoice.pk
    ]


def _receipt(qoyod_id: int, amount: str, day: int = 1) -> QoyodAllocationData:
    return QoyodAllocationData(
        qoyod_id=qoyod_id,
        source_type="Receipt",
        source_id=500 + qoyod_id,
        date=MARCH.replace(day=day),
        amount=D(amount),
    )


def _qoyod(status: str, paid: str, *allocations: QoyodAllocationData, total: D = TOTAL):
    return QoyodPaymentData(
        status=status, total=total, paid=D(paid), due=total - D(paid), allocations=allocations
    )


def _record(invoice: Invoice, remote: QoyodPaymentData | None, user=None, token="t") -> set[int]:
    _claim(invoice, token)
    return qoyod_payment_states_record(results={invoice.pk: remote}, token=token, user=user)


def _allocations(invoice: Invoice) -> list[tuple]:
    return list(
        QoyodAllocation.objects.filter(invoice=invoice).values_list(
            "qoyod_id", "source_type", "source_id", "date", "amount"
        )
    )


def test_a_partial_payment_is_recorded_with_a_history_row_by_the_user():
    accountant = UserFactory()
    invoice = InvoiceFactory()

    changed = _record(
        invoice, _qoyod(QoyodStatus.PARTIALLY_PAID, "100", _receipt(1, "100")), accountant
    )

    assert changed == {invoice.pk}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.balance) == (
        Invoice.Status.PARTIALLY_PAID, D("100.00"), D("176.00")
    )  # fmt: skip
    assert [(c.to_status, c.note, c.changed_by_id) for c in invoice.history.all()] == [
        ("issued", "", None),
        ("partially_paid", "Read back from Qoyod: Partially paid, paid 100 SAR", accountant.pk),
    ]
    assert _allocations(invoice) == [(1, "Receipt", 501, MARCH, D("100.00"))]
    state = QoyodPaymentState.objects.get(invoice=invoice)
    assert (state.qoyod_status, state.qoyod_total, state.qoyod_paid, state.qoyod_due) == (
        QoyodStatus.PARTIALLY_PAID, TOTAL, D("100.00"), D("176.00")
    )  # fmt: skip
    assert state.refreshed_at == state.checked_at == state.changed_at
    assert (state.claim_token, state.claimed_until, state.queued_until) == ("", None, None)


def test_the_same_answer_again_only_touches_the_refreshed_time_in_one_update():
    invoice = InvoiceFactory()
    answer = _qoyod(QoyodStatus.PARTIALLY_PAID, "100", _receipt(1, "100"))
    _record(invoice, answer)
    before = QoyodPaymentState.objects.get(invoice=invoice)
    invoice.refresh_from_db()
    _claim(invoice)

    with CaptureQueriesContext(connection) as queries:
        changed = qoyod_payment_states_record(results={invoice.pk: answer}, token="t")

    assert changed == set()
    writes = [q["sql"] for q in queries if not q["sql"].startswith("SELECT")]
    assert len(writes) == 1 and writes[0].startswith('UPDATE "payments_qoyodpaymentstate"')
    after = QoyodPaymentState.objects.get(invoice=invoice)
    assert after.refreshed_at > before.refreshed_at and after.changed_at == before.changed_at
    assert Invoice.objects.get(pk=invoice.pk).updated_at == invoice.updated_at
    assert invoice.history.count() == 2


def test_qoyod_figures_alone_are_written_in_one_update_without_touching_invoices():
    first, second = InvoiceFactory(), InvoiceFactory()
    for invoice in (first, second):
        _record(invoice, _qoyod(QoyodStatus.DRAFT, "0"))
        _claim(invoice)
    before = {i.pk: i.updated_at for i in Invoice.objects.filter(pk__in=[first.pk, second.pk])}
    approved = _qoyod(QoyodStatus.APPROVED, "0")

    with CaptureQueriesContext(connection) as queries:
        changed = qoyod_payment_states_record(
            results={first.pk: approved, second.pk: approved}, token="t"
        )

    assert changed == {first.pk, second.pk}
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1 and updates[0].startswith('UPDATE "payments_qoyodpaymentstate"')
    after = {i.pk: i.updated_at for i in Invoice.objects.filter(pk__in=[first.pk, second.pk])}
    assert after == before
    assert set(QoyodPaymentState.objects.values_list("qoyod_status", flat=True)) == {
        QoyodStatus.APPROVED
    }


def test_amounts_from_qoyod_compare_equal_whatever_their_trailing_zeros():
    invoice = InvoiceFactory()
    _record(invoice, _qoyod(QoyodStatus.APPROVED, "0.0"))

    assert _record(invoice, _qoyod(QoyodStatus.APPROVED, "0")) == set()


def test_allocations_follow_qoyod_added_changed_and_removed():
    invoice = InvoiceFactory()
    _record(
        invoice, _qoyod(QoyodStatus.PARTIALLY_PAID, "150", _receipt(1, "100"), _receipt(2, "50"))
    )
    kept = QoyodAllocation.objects.get(invoice=invoice, qoyod_id=1).pk

    credit = QoyodAllocationData(
        qoyod_id=3, source_type="CreditNote", source_id=77, date=MARCH, amount=D("26")
    )
    _record(invoice, _qoyod(QoyodStatus.PARTIALLY_PAID, "146", _receipt(1, "120"), credit))

    assert _allocations(invoice) == [
        (1, "Receipt", 501, MARCH, D("120.00")),
        (3, "CreditNote", 77, MARCH, D("26.00")),
    ]
    assert QoyodAllocation.objects.get(invoice=invoice, qoyod_id=1).pk == kept
    assert QoyodAllocation.objects.get(qoyod_id=3).source_label == "Credit note"


def test_a_payment_deleted_in_qoyod_takes_the_paid_invoice_back_to_partially_paid():
    invoice = InvoiceFactory()
    _record(invoice, _qoyod(QoyodStatus.PAID, "276", _receipt(1, "200"), _receipt(2, "76")))

    _record(invoice, _qoyod(QoyodStatus.PARTIALLY_PAID, "200", _receipt(1, "200")))

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.balance) == (
        Invoice.Status.PARTIALLY_PAID, D("200.00"), D("76.00")
    )  # fmt: skip
    assert list(invoice.history.values_list("to_status", flat=True)) == [
        "issued", "paid", "partially_paid"
    ]  # fmt: skip


def test_paid_here_never_exceeds_our_total_when_qoyod_total_is_higher():
    invoice = InvoiceFactory()

    _record(invoice, _qoyod(QoyodStatus.PARTIALLY_PAID, "290", _receipt(1, "290"), total=D("300")))

    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.balance, invoice.status) == (
        TOTAL, D("0.00"), Invoice.Status.PAID
    )  # fmt: skip
    state = QoyodPaymentState.objects.get(invoice=invoice)
    assert (state.qoyod_paid, state.total_difference) == (D("290.00"), D("24.00"))


def test_paid_in_full_in_qoyod_is_paid_here_when_qoyod_total_is_lower():
    invoice = InvoiceFactory()

    _record(invoice, _qoyod(QoyodStatus.PAID, "250", _receipt(1, "250"), total=D("250")))

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (Invoice.Status.PAID, TOTAL)
    assert QoyodPaymentState.objects.get(invoice=invoice).total_difference == D("-26.00")


def test_a_void_invoice_keeps_its_status_and_amounts():
    invoice = InvoiceFactory()
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID)

    _record(invoice, _qoyod(QoyodStatus.PAID, "276", _receipt(1, "276")))

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (Invoice.Status.VOID, D("0.00"))
    assert QoyodPaymentState.objects.get(invoice=invoice).qoyod_status == QoyodStatus.PAID


def test_missing_is_flagged_once_and_cleared_if_the_invoice_is_found_again():
    invoice = InvoiceFactory()
    _record(invoice, None)
    state = QoyodPaymentState.objects.get(invoice=invoice)
    assert (state.qoyod_status, state.returned_by_accounting) == (QoyodStatus.MISSING, True)

    assert _record(invoice, None) == set()
    assert QoyodPaymentState.objects.get(invoice=invoice).returned_at == state.returned_at

    _record(invoice, _qoyod(QoyodStatus.DRAFT, "0"))
    state = QoyodPaymentState.objects.get(invoice=invoice)
    assert (state.returned_by_accounting, state.returned_at) == (False, None)


def test_nothing_is_written_for_an_invoice_another_refresh_took_over():
    invoice = InvoiceFactory()
    _claim(invoice, "old")
    QoyodPaymentState.objects.filter(invoice=invoice).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    _claim(invoice, "new")

    changed = qoyod_payment_states_record(
        results={invoice.pk: _qoyod(QoyodStatus.PAID, "276")}, token="old"
    )

    assert changed == set()
    state = QoyodPaymentState.objects.get(invoice=invoice)
    assert (state.qoyod_status, state.claim_token) == ("", "new")
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.ISSUED


def test_a_claimed_invoice_is_not_claimed_again_and_one_checked_since_is_left():
    first, second = InvoiceFactory(), InvoiceFactory()
    until = timezone.now() + timedelta(minutes=1)
    started = timezone.now()
    qoyod_payment_states_claim(invoice_ids=[first.pk], token="a", until=until)
    QoyodPaymentState.objects.create(invoice=second, checked_at=timezone.now())

    claimed = qoyod_payment_states_claim(
        invoice_ids=[first.pk, second.pk], token="b", until=until, checked_before=started
    )

    assert claimed == []


def test_queue_marks_each_invoice_for_one_task_only():
    stale, fresh, reading = InvoiceFactory(), InvoiceFactory(), InvoiceFactory()
    now = timezone.now()
    QoyodPaymentState.objects.create(invoice=fresh, checked_at=now)
    QoyodPaymentState.objects.create(
        invoice=reading, claimed_until=now + timedelta(minutes=1), claim_token="x"
    )
    ids = [stale.pk, fresh.pk, reading.pk]
    until = now + timedelta(minutes=2)

    first = qoyod_payment_states_queue(
        invoice_ids=ids, token="t1", until=until, checked_before=now - timedelta(minutes=10)
    )
    again = qoyod_payment_states_queue(invoice_ids=ids, token="t2", until=until)

    assert first == [stale.pk]
    assert again == [fresh.pk]  # forced: fresh ones too, but not the queued or the claimed

    qoyod_payment_states_unqueue(token="t2")
    state = QoyodPaymentState.objects.get(invoice=fresh)
    assert (state.queued_until, state.claim_token) == (None, "")
    assert QoyodPaymentState.objects.get(invoice=stale).claim_token == "t1"
