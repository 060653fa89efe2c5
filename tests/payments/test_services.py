from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from invoicing.models import Invoice, InvoiceStatusChange
from payments.models import Payment
from payments.services import payment_record
from tests.factories import UserFactory
from tests.invoicing_factories import (
    InvoiceFactory,
    PaymentFactory,
    invoice_state,
    run_in_threads,
)

D = Decimal
pytestmark = pytest.mark.django_db


def test_payments_partial_then_paid_with_exact_balance_and_history():
    cashier = UserFactory()
    invoice = InvoiceFactory()

    payment_record(
        invoice=invoice,
        method=Payment.Method.CASH,
        amount=D("100.00"),
        paid_on=timezone.localdate(),
        user=cashier,
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.balance) == (
        Invoice.Status.PARTIALLY_PAID,
        D("100.00"),
        D("176.00"),
    )

    payment_record(
        invoice=invoice,
        method=Payment.Method.CARD,
        amount=D("176.00"),
        paid_on=timezone.localdate(),
        reference="POS 4411",
        user=cashier,
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.balance) == (
        Invoice.Status.PAID,
        D("276.00"),
        D("0.00"),
    )
    assert [
        (c.from_status, c.to_status, c.note, c.changed_by_id) for c in invoice.history.all()
    ] == [
        ("", "issued", "", None),
        ("issued", "partially_paid", "Cash payment of 100.00 SAR", cashier.pk),
        ("partially_paid", "paid", "Card payment of 176.00 SAR", cashier.pk),
    ]
    assert list(invoice.payments.values_list("method", "amount", "reference")) == [
        ("cash", D("100.00"), ""),
        ("card", D("176.00"), "POS 4411"),
    ]


def test_overpayment_is_rejected_and_changes_nothing():
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=D("200.00"))
    before = invoice_state(invoice)

    with pytest.raises(ValidationError) as raised:
        payment_record(
            invoice=invoice,
            method=Payment.Method.CASH,
            amount=D("76.01"),
            paid_on=timezone.localdate(),
            user=None,
        )

    assert raised.value.message_dict == {"amount": ["That is more than the balance of 76.00 SAR."]}
    assert invoice_state(invoice) == before


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_payments_cannot_overpay(require_postgres):
    invoice = InvoiceFactory()

    def pay(index: int) -> Payment:
        return payment_record(
            invoice=invoice,
            method=Payment.Method.CASH,
            amount=D("200.00"),
            paid_on=timezone.localdate(),
            user=None,
        )

    results = run_in_threads(2, pay)

    succeeded = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert (len(succeeded), len(refused)) == (1, 1)
    assert refused[0].message_dict == {"amount": ["That is more than the balance of 76.00 SAR."]}
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.balance, invoice.status) == (
        D("200.00"),
        D("76.00"),
        Invoice.Status.PARTIALLY_PAID,
    )
    assert Payment.objects.count() == 1
    assert InvoiceStatusChange.objects.filter(invoice=invoice).count() == 2


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (D("0"), "The amount must be more than zero."),
        (D("-5.00"), "The amount must be more than zero."),
        (D("10.005"), "Amounts are in SAR with at most two decimals."),
    ],
)
def test_amounts_that_are_not_payments_are_refused(amount, message):
    invoice = InvoiceFactory()
    before = invoice_state(invoice)

    with pytest.raises(ValidationError) as raised:
        payment_record(
            invoice=invoice,
            method=Payment.Method.CASH,
            amount=amount,
            paid_on=timezone.localdate(),
            user=None,
        )

    assert raised.value.message_dict == {"amount": [message]}
    assert invoice_state(invoice) == before


def test_a_void_invoice_cannot_be_paid():
    invoice = InvoiceFactory()
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID)
    before = invoice_state(invoice)

    with pytest.raises(ValidationError) as raised:
        payment_record(
            invoice=invoice,
            method=Payment.Method.CASH,
            amount=D("1.00"),
            paid_on=timezone.localdate(),
            user=None,
        )

    assert raised.value.messages == ["A void invoice cannot be paid."]
    assert invoice_state(invoice) == before


def test_an_invoice_that_requires_qoyod_cannot_be_paid_here():
    invoice = InvoiceFactory(requires_qoyod=True)
    before = invoice_state(invoice)

    with pytest.raises(ValidationError) as raised:
        payment_record(
            invoice=invoice,
            method=Payment.Method.CASH,
            amount=D("1.00"),
            paid_on=timezone.localdate(),
            user=None,
        )

    assert raised.value.messages == [
        f"{invoice.number} is invoiced through Qoyod: record the payment in Qoyod, then refresh."
    ]
    assert invoice_state(invoice) == before
