"""Factories for completed jobs, invoices and payments, and two helpers their tests share.

Invoices and payments are made through their services, so every factory-made invoice has a real
number, consistent totals and a history row, exactly like one made from the page.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import factory
from django.db import connection
from django.utils import timezone

from garage.models import JobCard
from invoicing.models import Invoice, InvoiceLine
from invoicing.services import invoice_create, invoice_prefill
from payments.models import Payment
from payments.services import payment_record
from tests.factories import JobCardFactory, PartLineFactory, ServiceLineFactory


class CompletedJobFactory(JobCardFactory):
    """A completed job with, unless `lines=False`, a 150.00 service and two 45.00 parts."""

    class Meta:
        skip_postgeneration_save = True

    status = JobCard.Status.COMPLETED
    completed_at = factory.LazyFunction(timezone.now)
    # As jobcard_complete leaves it: completed and not invoiced yet.
    invoice_pending = True

    @factory.post_generation
    def lines(self, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if not create or extracted is False:
            return
        ServiceLineFactory(job=self)
        PartLineFactory(job=self, quantity=Decimal("2"))


class InvoiceFactory(factory.Factory):
    """An invoice issued by invoice_create from its job's lines (or the `lines` given)."""

    class Meta:
        model = Invoice

    job = factory.SubFactory(CompletedJobFactory)
    issue_date = factory.LazyFunction(timezone.localdate)
    due_date = factory.LazyAttribute(lambda o: o.issue_date + datetime.timedelta(days=30))
    requires_qoyod = False
    user = None
    lines = None
    notes = ""
    custom_values = None

    @classmethod
    def _create(cls, model_class: type[Invoice], *args: Any, **kwargs: Any) -> Invoice:
        job = kwargs["job"]
        return invoice_create(
            job=job,
            customer=kwargs.get("customer", job.customer),
            vehicle=kwargs.get("vehicle", job.vehicle),
            lines=kwargs["lines"] or invoice_prefill(job=job),
            issue_date=kwargs["issue_date"],
            due_date=kwargs["due_date"],
            requires_qoyod=kwargs["requires_qoyod"],
            notes=kwargs["notes"],
            user=kwargs["user"],
            custom_values=kwargs["custom_values"],
        )


class PaymentFactory(factory.Factory):
    """A counter payment recorded by payment_record."""

    class Meta:
        model = Payment

    invoice = factory.SubFactory(InvoiceFactory)
    method = Payment.Method.CASH
    amount = Decimal("10.00")
    paid_on = factory.LazyFunction(timezone.localdate)
    reference = ""
    user = None

    @classmethod
    def _create(cls, model_class: type[Payment], *args: Any, **kwargs: Any) -> Payment:
        return payment_record(**kwargs)


def invoice_state(invoice: Invoice) -> tuple:
    """Everything about an invoice that a refused write must leave as it was."""
    invoice = Invoice.objects.get(pk=invoice.pk)
    lines = list(
        InvoiceLine.objects.filter(invoice=invoice).values_list(
            "description_en", "quantity", "unit_price", "line_net", "line_vat", "line_total"
        )
    )
    return (
        invoice.status,
        invoice.net_total,
        invoice.vat_total,
        invoice.total,
        invoice.amount_paid,
        invoice.balance,
        invoice.void_reason,
        invoice.qoyod_managed,
        lines,
        invoice.history.count(),
        invoice.events.count(),
        Payment.objects.filter(invoice=invoice).count(),
    )


def run_in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in `count` threads released together by a barrier; return each result or
    the exception it raised. Each thread closes its own database connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as exc:  # the test inspects every outcome
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
