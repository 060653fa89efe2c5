"""Payments recorded here, at the counter, on invoices Qoyod does not manage."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from invoicing.models import Invoice
from invoicing.services import invoice_set_status
from payments.models import Payment


def invoice_apply_paid_amount(
    *, invoice: Invoice, amount_paid: Decimal, user: AbstractBaseUser | None, note: str = ""
) -> None:
    """Set the paid amount and balance of a locked invoice and move its status to match."""
    invoice.amount_paid = amount_paid
    invoice.balance = invoice.total - amount_paid
    if amount_paid <= 0:
        target = Invoice.Status.ISSUED
    elif amount_paid < invoice.total:
        target = Invoice.Status.PARTIALLY_PAID
    else:
        target = Invoice.Status.PAID
    invoice_set_status(invoice=invoice, to_status=target, user=user, note=note)
    invoice.save(update_fields=["amount_paid", "balance", "status", "updated_at"])


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    method: str,
    amount: Decimal,
    paid_on: datetime.date,
    user: AbstractBaseUser | None,
    reference: str = "",
) -> Payment:
    """Record a counter payment; the invoice row is locked so two cashiers cannot overpay it."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.qoyod_managed or invoice.requires_qoyod:
        raise ValidationError(
            _("%(number)s is invoiced through Qoyod: record the payment in Qoyod, then refresh.")
            % {"number": invoice.number}
        )
    if invoice.is_void:
        raise ValidationError(_("A void invoice cannot be paid."))
    if amount is None or amount <= 0:
        raise ValidationError({"amount": [_("The amount must be more than zero.")]})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": [_("Amounts are in SAR with at most two decimals.")]})
    if amount > invoice.balance:
        raise ValidationError(
            {"amount": [_("That is more than the balance of %(balance)s SAR.")
                        % {"balance": invoice.balance}]}
        )  # fmt: skip
    payment = Payment.objects.create(
        invoice=invoice, method=method, amount=amount, paid_on=paid_on, reference=reference,
        created_by=user,
    )  # fmt: skip
    invoice_apply_paid_amount(
        invoice=invoice,
        amount_paid=invoice.amount_paid + amount,
        user=user,
        note=_("%(method)s payment of %(amount)s SAR")
        % {"method": payment.get_method_display(), "amount": amount},
    )
    return payment
