from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from invoicing.models import Invoice, InvoiceLine
from invoicing.services import LineData
from tests.factories import ServiceItemFactory
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory


def _tenth(item) -> LineData:
    return LineData(
        kind="service", item=item, description_en="Washer fluid top-up",
        quantity=Decimal("1"), unit_price=Decimal("0.10"), vat_rate=Decimal("0.15"),
    )  # fmt: skip


@pytest.mark.django_db
def test_four_lines_of_ten_halalas_are_saved_with_the_adjusted_vat():
    item = ServiceItemFactory()

    invoice = InvoiceFactory(job=CompletedJobFactory(lines=False), lines=[_tenth(item)] * 4)

    assert (invoice.net_total, invoice.vat_total, invoice.total) == (
        Decimal("0.40"), Decimal("0.06"), Decimal("0.46"),
    )  # fmt: skip
    assert [
        (line.line_vat, line.line_total, line.vat_adjustment)
        for line in invoice.lines.order_by("position")
    ] == [
        (Decimal("0.01"), Decimal("0.11"), Decimal("-0.01")),
        (Decimal("0.01"), Decimal("0.11"), Decimal("-0.01")),
        (Decimal("0.02"), Decimal("0.12"), Decimal("0.00")),
        (Decimal("0.02"), Decimal("0.12"), Decimal("0.00")),
    ]


@pytest.mark.django_db
def test_postgresql_refuses_totals_that_do_not_add_up(require_postgres):
    invoice = InvoiceFactory()
    line = invoice.lines.first()

    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total=invoice.total + Decimal("0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(balance=Decimal("0.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).update(line_vat=line.line_vat + Decimal("0.01"))

    invoice.refresh_from_db()
    assert invoice.total == invoice.net_total + invoice.vat_total == invoice.balance
