"""The guards on Invoice: each refusal is one exact sentence (None when allowed), and the service
behind each action refuses with that same sentence and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from core import roles
from invoicing.models import Invoice
from invoicing.services import (
    InvoiceAlreadyExists,
    invoice_prefill,
    invoice_reissue,
    invoice_send_to_customer,
    invoice_update,
    invoice_void,
)
from payments.models import Payment
from payments.services import payment_record
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory, PaymentFactory, invoice_state

pytestmark = pytest.mark.django_db


def _issued() -> Invoice:
    return InvoiceFactory()


def _managed() -> Invoice:
    invoice = InvoiceFactory(requires_qoyod=True)
    Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=True)
    invoice.refresh_from_db()
    return invoice


def _for_qoyod() -> Invoice:
    return InvoiceFactory(requires_qoyod=True)


def _void() -> Invoice:
    return invoice_void(invoice=InvoiceFactory(), reason="Wrong customer", user=None)


def _reissued() -> Invoice:
    invoice = _void()
    invoice_reissue(invoice=invoice, user=None)
    return Invoice.objects.get(pk=invoice.pk)


def _partly_paid() -> Invoice:
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=D("20.00"))
    return Invoice.objects.get(pk=invoice.pk)


def _paid() -> Invoice:
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=invoice.total)
    return Invoice.objects.get(pk=invoice.pk)


def _no_email() -> Invoice:
    return InvoiceFactory(job__customer__email="")


def _managed_sentence(action: str) -> Callable[[Invoice], str]:
    return lambda i: (
        f"{i.number} is managed in Qoyod: {action} there, or void and reissue it here."
    )


def _has_payments(i: Invoice) -> str:
    return f"{i.number} already has payments; void is not possible either — issue a credit note."


def _through_qoyod(i: Invoice) -> str:
    return f"{i.number} is invoiced through Qoyod: record the payment in Qoyod, then refresh."


ALLOWED = None
# guard -> [(invoice maker, expected sentence for that invoice, or None when allowed)]
CASES: dict[str, list[tuple[Callable[[], Invoice], Callable[[Invoice], str] | None]]] = {
    "edit_refusal": [
        (_issued, ALLOWED),
        (_for_qoyod, ALLOWED),
        (_no_email, ALLOWED),
        (_managed, _managed_sentence("edit it")),
        (_void, lambda i: "A void invoice cannot be edited."),
        (_partly_paid, _has_payments),
        (_paid, _has_payments),
    ],
    "void_refusal": [
        (_issued, ALLOWED),
        (_managed, ALLOWED),
        (_void, lambda i: f"{i.number} is already void."),
        (
            _partly_paid,
            lambda i: f"{i.number} has payments of 20.00 SAR and cannot be voided: issue a "
            "credit note instead.",
        ),
    ],
    "reissue_refusal": [
        (_void, ALLOWED),
        (_issued, lambda i: f"Only a void invoice can be reissued; void {i.number} first."),
        (_paid, lambda i: f"Only a void invoice can be reissued; void {i.number} first."),
        (
            _reissued,
            lambda i: f"Job {i.job.number} already has invoice {i.replaced_by.number}.",
        ),
    ],
    "payment_refusal": [
        (_issued, ALLOWED),
        (_partly_paid, ALLOWED),
        (_for_qoyod, _through_qoyod),
        (_managed, _through_qoyod),
        (_void, lambda i: "A void invoice cannot be paid."),
        (_paid, lambda i: f"{i.number} is paid in full."),
    ],
    "send_refusal": [
        (_issued, ALLOWED),
        (_partly_paid, ALLOWED),
        (_managed, _managed_sentence("send it to the customer")),
        (_void, lambda i: "A void invoice cannot be sent."),
        (_no_email, lambda i: "The customer has no email address; add one first."),
    ],
}

TABLE = [
    pytest.param(guard, make, expected, id=f"{guard}-{make.__name__.strip('_')}")
    for guard, rows in CASES.items()
    for make, expected in rows
]


@pytest.mark.parametrize(("guard", "make", "expected"), TABLE)
def test_each_guard_gives_none_or_its_exact_sentence(guard, make, expected):
    invoice = make()

    assert getattr(invoice, guard)() == (expected(invoice) if expected else None)


def _edit(invoice: Invoice) -> None:
    invoice_update(
        invoice=invoice, customer=invoice.customer, vehicle=invoice.vehicle,
        lines=invoice_prefill(job=invoice.job), issue_date=invoice.issue_date,
        due_date=invoice.due_date, requires_qoyod=invoice.requires_qoyod, user=None,
    )  # fmt: skip


def _void_it(invoice: Invoice) -> None:
    invoice_void(invoice=invoice, reason="Typo", user=None)


def _reissue(invoice: Invoice) -> None:
    invoice_reissue(invoice=invoice, user=None)


def _pay(invoice: Invoice) -> None:
    payment_record(
        invoice=invoice, method=Payment.Method.CASH, amount=D("1.00"),
        paid_on=timezone.localdate(), user=None,
    )  # fmt: skip


def _send(invoice: Invoice) -> None:
    invoice_send_to_customer(invoice=invoice, link="https://x.example/", user=None)


SERVICE_OF = {
    "edit_refusal": _edit,
    "void_refusal": _void_it,
    "reissue_refusal": _reissue,
    "payment_refusal": _pay,
    "send_refusal": _send,
}
REFUSALS = [p for p in TABLE if p.values[2] is not None]


@pytest.mark.parametrize(("guard", "make", "expected"), REFUSALS)
def test_the_service_refuses_with_the_guards_sentence_and_changes_nothing(guard, make, expected):
    invoice = make()
    before = invoice_state(invoice)
    invoices = Invoice.objects.count()

    with pytest.raises(ValidationError) as raised:
        SERVICE_OF[guard](invoice)

    assert raised.value.messages == [expected(invoice)]
    assert invoice_state(invoice) == before
    assert Invoice.objects.count() == invoices
    assert mail.outbox == []


def test_reissuing_twice_hands_back_the_replacement():
    invoice = _reissued()

    with pytest.raises(InvoiceAlreadyExists) as raised:
        invoice_reissue(invoice=invoice, user=None)

    assert raised.value.invoice == invoice.replaced_by


CAN_OF = {
    "edit_refusal": "can_edit",
    "void_refusal": "can_void",
    "reissue_refusal": "can_reissue",
    "payment_refusal": "can_pay_here",
}


# Emailing has no can_ property: the page draws the button disabled, with the reason as its title.
@pytest.mark.parametrize(("guard", "make", "expected"), [p for p in TABLE if p.values[0] in CAN_OF])
def test_the_can_properties_follow_the_guards(guard, make, expected):
    invoice = make()

    assert getattr(invoice, CAN_OF[guard]) is (expected is None)


@pytest.mark.parametrize("make", [_issued, _managed, _no_email])
def test_the_invoice_page_disables_send_to_customer_with_the_guards_sentence(make, client):
    invoice = make()
    client.force_login(UserFactory(role=roles.ADMIN))

    html = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()

    button = re.search(r'<button type="submit"[^>]*data-testid="send-to-customer">', html)[0]
    refusal = invoice.send_refusal()
    assert ("disabled" in button) is (refusal is not None)
    if refusal:
        assert f'title="{escape(refusal)}"' in button


def test_the_edit_page_turns_a_refused_invoice_away_with_the_guards_sentence(client):
    invoice = _partly_paid()
    client.force_login(UserFactory(role=roles.ADMIN))

    response = client.get(reverse("invoicing:invoice_edit", args=[invoice.pk]), follow=True)

    assert [str(m) for m in response.context["messages"]] == [invoice.edit_refusal()]


def test_the_invoice_page_says_why_a_paid_invoice_cannot_be_voided(client):
    invoice = _partly_paid()
    client.force_login(UserFactory(role=roles.ADMIN))

    html = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()

    assert f'data-testid="void-refusal">{escape(invoice.void_refusal())}</p>' in html
    assert "Void…" not in html
