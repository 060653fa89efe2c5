"""Sales reported by a finance system: its invoice number and due date for one of our invoices,
and the payments it received, recorded here through payments.services.payment_record.

A payment is known by the finance system's reference: a sale sent again records only the
payments not seen before, so nothing is counted twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from api.models import ApiClient, Sale, SalePayment
from invoicing.models import Invoice
from payments.services import payment_record


@dataclass(frozen=True)
class SalePaymentData:
    amount: Decimal
    paid_on: datetime.date
    method: str
    reference: str


class SaleRefused(Exception):
    """The sale cannot be recorded; `status` is 409 (the invoice's state or an earlier report
    contradicts it) or 422 (over-payment). `code` is stable for clients."""

    def __init__(
        self, status: int, code: str, detail: str, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.params = status, code, detail, params or {}


def _same(known: SalePayment, data: SalePaymentData) -> bool:
    payment = known.payment
    return (payment.amount, payment.paid_on, payment.method) == (
        data.amount,
        data.paid_on,
        data.method,
    )


@transaction.atomic
def sale_record(
    *,
    client: ApiClient,
    invoice: Invoice,
    external_reference: str,
    due_date: datetime.date,
    payments: Sequence[SalePaymentData],
) -> tuple[Sale, bool]:
    """Record (or repeat) a sale and its new payments; returns the sale and whether it is new.

    A payment reference seen before (in this request or an earlier one) is the same payment,
    recorded once; the same reference with another amount, date, method or invoice is refused.
    """
    # The invoice row first, as payment_record locks it: one lock order for every writer.
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    number = invoice.number
    if invoice.qoyod_managed or invoice.requires_qoyod:
        raise SaleRefused(
            409,
            "qoyod_managed",
            _("%(number)s is invoiced through Qoyod, which owns its payments.")
            % {"number": number},
        )
    if invoice.is_void:
        raise SaleRefused(409, "void", _("%(number)s is void.") % {"number": number})
    sale = Sale.objects.filter(client=client, invoice=invoice).first()
    if sale is not None and sale.external_reference != external_reference:
        raise SaleRefused(
            409,
            "sale_reference_conflict",
            _("%(number)s was already reported as sale %(current)s, not %(requested)s.")
            % {
                "number": number,
                "current": sale.external_reference,
                "requested": external_reference,
            },
            {"current": sale.external_reference, "requested": external_reference},
        )
    taken = (
        Sale.objects.filter(client=client, external_reference=external_reference)
        .exclude(invoice=invoice)
        .select_related("invoice")
        .first()
    )
    if taken is not None:
        raise SaleRefused(
            409,
            "sale_reference_taken",
            _("Sale %(reference)s was already reported for invoice %(other)s.")
            % {"reference": external_reference, "other": taken.invoice.number},
            {"current": taken.invoice.number, "requested": number},
        )
    known = {
        row.external_reference: row
        for row in SalePayment.objects.select_related("payment", "sale").filter(
            client=client, external_reference__in=[p.reference for p in payments]
        )
    }
    new: dict[str, SalePaymentData] = {}
    for data in payments:
        row = known.get(data.reference)
        if row is None and new.setdefault(data.reference, data) == data:
            continue
        if row is None or row.sale.invoice_id != invoice.pk or not _same(row, data):
            raise SaleRefused(
                409,
                "payment_conflict",
                _("Payment %(reference)s was already reported differently.")
                % {"reference": data.reference},
                {"reference": data.reference},
            )
    adding = sum((p.amount for p in new.values()), Decimal("0"))
    if adding > invoice.balance:
        raise SaleRefused(422, "overpayment", _(
            "The new payments of %(amount)s SAR are more than the balance of %(balance)s SAR."
        ) % {"amount": adding, "balance": invoice.balance},
            {"amount": str(adding), "balance": str(invoice.balance)})  # fmt: skip
    created = sale is None
    if sale is None:
        sale = Sale.objects.create(
            client=client, invoice=invoice, external_reference=external_reference, due_date=due_date
        )
    elif sale.due_date != due_date:
        sale.due_date = due_date
        sale.save(update_fields=["due_date", "updated_at"])
    for data in new.values():
        payment = payment_record(
            invoice=invoice, method=data.method, amount=data.amount, paid_on=data.paid_on,
            user=None, reference=data.reference,
        )  # fmt: skip
        SalePayment.objects.create(
            client=client, sale=sale, payment=payment, external_reference=data.reference
        )
    return sale, created
