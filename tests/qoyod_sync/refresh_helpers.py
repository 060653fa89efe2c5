"""Qoyod-managed invoices and sent expense bills for the read-back and reconciliation tests:
ours, with a matching document in the sandbox.

The drafts are put into the sandbox company directly (as the send of issue 5 would have left
them), so a test of 250 invoices spends its requests only on what it measures.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections
from django.utils import timezone

from accounting.models import Transaction
from config.celery import app
from invoicing.models import Invoice
from qoyod_sync.models import QoyodInvoiceSync, SyncState
from qoyod_sync.sandbox import bills, documents
from qoyod_sync.services import connection_save
from tests.accounting_factories import TransactionFactory
from tests.invoicing_factories import InvoiceFactory
from tests.qoyod_fixtures import SALES_ACCOUNT, SANDBOX_KEY, SandboxHandle, choose_send_mappings


def connect(sandbox: SandboxHandle) -> None:
    """Store the Qoyod connection to the sandbox, as the finance manager would."""
    connection_save(base_url=sandbox.base_url, api_key=SANDBOX_KEY, user=None)
    choose_send_mappings()


def _catalogue(sandbox: SandboxHandle) -> tuple[int, int]:
    """A Qoyod customer and service product to put drafts on (made once per sandbox)."""
    company = sandbox.company()
    with company.lock:
        customer = next(iter(company.customers.values()), None)
        if customer is None:
            customer = company.create_customer({"name": "Read-back customer", "status": "Active"})
        product = next(iter(company.products.values()), None)
        if product is None:
            product = company.create_product(
                {
                    "sku": "SRV-READBACK",
                    "name_ar": "خدمة",
                    "name_en": "Service",
                    "type": "Service",
                    "track_quantity": 0,
                    "selling_price": "100",
                    "buying_price": "0",
                    "sales_account_id": SALES_ACCOUNT,
                    "tax_id": 1,
                    "product_unit_type_id": 1,
                    "category_id": 1,
                }
            )
        return customer.id, product.id


def qoyod_draft(sandbox: SandboxHandle, *, total: Decimal, reference: str) -> int:
    """A Draft in the sandbox whose total is `total` (one VAT-inclusive line); its id."""
    contact_id, product_id = _catalogue(sandbox)
    company = sandbox.company()
    today = timezone.localdate()
    with company.lock:
        draft = documents.create_invoice(
            company,
            {
                "contact_id": contact_id,
                "reference": reference,
                "issue_date": today.isoformat(),
                "due_date": (today + datetime.timedelta(days=30)).isoformat(),
                # What the accountant's Approve needs under ZATCA Phase 2, as our sends carry.
                "supply_date": today.isoformat(),
                "payment_method": 10,
                "line_items": [
                    {
                        "product_id": product_id,
                        "quantity": "1",
                        "unit_price": str(total),
                        "tax_percent": "15",
                        "is_inclusive": True,
                    }
                ],
            },
        )
    return draft.id


def managed_invoice(
    sandbox: SandboxHandle, *, qoyod_total: Decimal | None = None, **factory: object
) -> Invoice:
    """An invoice of ours whose Qoyod draft exists (total as ours unless `qoyod_total`)."""
    invoice = InvoiceFactory(requires_qoyod=True, **factory)
    qoyod_id = qoyod_draft(sandbox, total=qoyod_total or invoice.total, reference=invoice.number)
    QoyodInvoiceSync.objects.create(
        invoice=invoice, state=SyncState.DRAFT_CREATED, qoyod_invoice_id=qoyod_id
    )
    Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=True)
    invoice.refresh_from_db()
    return invoice


def qoyod_id(invoice: Invoice) -> int:
    return QoyodInvoiceSync.objects.get(invoice=invoice).qoyod_invoice_id


def purge_queue() -> None:
    """Empty the test broker's queue."""
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)


@contextmanager
def celery_worker(*, purge: bool = True) -> Iterator[Any]:
    """A real Celery worker in a thread of this process, on the test broker, queue emptied first
    unless `purge` is false (a test that queued its task before starting the worker).

    Its thread closes its database connections after each task: they would outlive the thread
    (CONN_MAX_AGE) and keep the test database from being dropped.
    """
    if purge:
        purge_queue()

    def close_connections(**kwargs: Any) -> None:
        connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
            yield w
    finally:
        task_postrun.disconnect(close_connections)


SUPPLIES, VAT_15, WAREHOUSE = 22, 1, 1


def qoyod_bill(sandbox: SandboxHandle, *, reference: str, amount: str, on: datetime.date) -> int:
    """A Qoyod simple bill as the expense-bill sync makes one: one line, VAT included."""
    company = sandbox.company()
    with company.lock:
        vendor = next(iter(company.vendors.values()), None) or bills.create_vendor(
            company, {"name": "Al Jazira Auto Parts"}
        )
        return bills.create_simple_bill(
            company,
            {
                "contact_id": vendor.id, "reference": reference, "issue_date": on.isoformat(),
                "inventory_id": WAREHOUSE,
                "simple_bill_items_attributes": [{
                    "expense_category_id": SUPPLIES, "total_amount": str(amount),
                    "tax_id": VAT_15, "is_inclusive": True,
                }],
            },
        ).id  # fmt: skip


def sent_bill(
    sandbox: SandboxHandle, *, amount: str = "115.00", billed: str | None = None
) -> Transaction:
    """Our expense of today, sent as a draft bill Qoyod holds for `billed` (else its amount)."""
    today = timezone.localdate()
    row = TransactionFactory(
        date=today, amount=Decimal(amount), qoyod_document=Transaction.Document.SIMPLE_BILL
    )
    row.qoyod_entry_id = qoyod_bill(
        sandbox, reference=row.number, amount=billed or amount, on=today
    )
    row.save(update_fields=["qoyod_entry_id"])
    return row
