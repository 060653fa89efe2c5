from __future__ import annotations

from decimal import Decimal

import pytest

from garage import selectors
from invoicing import services as invoicing
from tests.factories import JobCardFactory, PartLineFactory, ServiceLineFactory

pytestmark = pytest.mark.django_db


def _totals(job):
    return selectors.jobcard_totals(lines=selectors.jobcard_lines(job=job))


def test_job_totals_are_what_the_invoice_of_the_same_lines_calculates():
    job = JobCardFactory()
    # Each line's VAT rounds 0.015 up; the rate's 0.03 is within the halala ZATCA allows, so
    # the invoice keeps 0.04 and the job page now shows the same.
    for _ in range(2):
        ServiceLineFactory(job=job, unit_price=Decimal("0.10"), service_item__vat_rate="0.15")
    PartLineFactory(
        job=job, quantity=Decimal("2"), unit_price=Decimal("10.05"), spare_part__vat_rate="0"
    )

    totals = _totals(job)
    invoice = invoicing.invoice_preview(lines=invoicing.invoice_prefill(job=job))

    assert [(row.net, row.vat_rate) for row in totals.rows] == [
        (Decimal("0.10"), Decimal("0.15")),
        (Decimal("0.10"), Decimal("0.15")),
        (Decimal("20.10"), Decimal("0")),
    ]
    assert (totals.net, totals.vat, totals.total) == (
        Decimal("20.30"),
        Decimal("0.04"),
        Decimal("20.34"),
    )
    assert (totals.net, totals.vat, totals.total) == (invoice.net, invoice.vat, invoice.total)


def test_job_without_lines_totals_zero():
    totals = _totals(JobCardFactory())

    assert (totals.rows, totals.net, totals.vat, totals.total) == (
        [],
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
