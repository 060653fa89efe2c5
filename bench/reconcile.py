"""HTTP requests and wall time to reconcile 5,000 Qoyod-managed invoices with the sandbox.

    .venv/bin/python bench/reconcile.py [--size 5000] [--latency 50]

The sandbox injects the latency on every request. Three invoices are broken in Qoyod first (one
duplicated, one deleted, one with a changed total), so the run has exceptions to report. Runs on
a throwaway SQLite database, with the sandbox in this process; client-side pacing is lifted so
the figures show the reads, not our rate limiter (under Qoyod's real limit the ⌈N/100⌉ list
requests, and the customer pages read to find a customer created twice, are well inside one
minute's budget).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_DB = Path(tempfile.mkdtemp()) / "bench_reconcile.sqlite3"
os.environ["DATABASE_URL"] = f"sqlite:///{_DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

API_KEY = "bench-key-000000000003"
TOTAL = Decimal("276.00")
# The sandbox chart's sales account (qoyod_sync/sandbox/chart.py), as tests/qoyod_fixtures.py.
SALES_ACCOUNT = 17


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=50, help="milliseconds per request")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.utils import timezone

    from qoyod_sync.client import ClientOptions, QoyodReader, close_pooled_clients
    from qoyod_sync.reconcile import reconciliation_run
    from qoyod_sync.sandbox import SandboxServer
    from qoyod_sync.sandbox.control import act

    server = SandboxServer("127.0.0.1", 0, keys=[API_KEY]).start()
    options = ClientOptions(rate_limit_per_minute=1_000_000, burst=1_000)
    try:
        reader = QoyodReader(base_url=server.base_url, api_key=API_KEY, options=options)
        drafts = _invoices(server, args.size)
        company = server.state.company_for_key(API_KEY)
        act(company, "invoices", drafts[0], "duplicate", {})
        act(company, "invoices", drafts[1], "delete", {})
        act(company, "invoices", drafts[2], "inflate", {})
        server.faults.set_latency(args.latency)
        today = timezone.localdate()
        before = server.requests.count()
        started = time.perf_counter()
        run = reconciliation_run(date_from=today, date_to=today, reader=reader)
        seconds = time.perf_counter() - started
        requests = server.requests.count() - before
        exceptions = run.findings.count()
        print(f"latency {args.latency:g} ms per request")
        print(
            f"{run.invoices} invoices: {run.in_qoyod_once} in Qoyod once, {run.missing} missing, "
            f"{run.duplicates} duplicates, {run.drift} drift, {run.orphans} orphans"
        )
        customers = len(company.customers)
        print(
            f"requests {requests} (bound: ⌈{args.size}/100⌉ = {math.ceil(args.size / 100)}"
            f" invoice pages + ⌈{customers}/100⌉ = {math.ceil(customers / 100)} customer pages"
            " + 1 credit-notes page + 1 journal-entries read + 1 expense-bills page"
            f" + {exceptions} exceptions), wall time {seconds:.2f} s"
        )
    finally:
        close_pooled_clients(server.base_url)
        server.stop()


def _invoices(server, count: int) -> list[int]:
    """`count` Qoyod-managed invoices here with their drafts in the sandbox; the Qoyod ids."""
    import datetime

    from django.utils import timezone

    from garage.models import Branch, Customer, JobCard, Vehicle
    from invoicing.models import Invoice
    from qoyod_sync.models import QoyodInvoiceSync, SyncState
    from qoyod_sync.sandbox import documents

    company = server.state.company_for_key(API_KEY)
    contact = company.create_customer({"name": "Bench customer", "status": "Active"})
    product = company.create_product(
        {"sku": "SRV-BENCH", "name_ar": "خدمة", "name_en": "Service", "type": "Service",
         "track_quantity": 0, "selling_price": "240", "buying_price": "0",
         "sales_account_id": SALES_ACCOUNT, "tax_id": 1, "product_unit_type_id": 1,
         "category_id": 1}
    )  # fmt: skip
    branch = Branch.objects.create(code="RUH", name_en="Riyadh")
    customer = Customer.objects.create(name_en="Bench customer", phone="+966500000003")
    vehicle = Vehicle.objects.create(
        customer=customer, make="Toyota", model="Camry", plate_number="1234 ABJ"
    )
    today = timezone.localdate()
    jobs = JobCard.objects.bulk_create(
        JobCard(number=f"JOB-R-{n:06d}", branch=branch, customer=customer, vehicle=vehicle,
                status=JobCard.Status.COMPLETED)
        for n in range(count)
    )  # fmt: skip
    invoices = Invoice.objects.bulk_create(
        Invoice(number=f"INV-R-{n:06d}", job=job, branch=branch, customer=customer,
                vehicle=vehicle, customer_name=customer.name_en, vehicle_description="Camry",
                vehicle_plate="1234ABJ", issue_date=today,
                due_date=today + datetime.timedelta(days=30), net_total=Decimal("240.00"),
                vat_total=Decimal("36.00"), total=TOTAL, balance=TOTAL, requires_qoyod=True,
                qoyod_managed=True)
        for n, job in enumerate(jobs)
    )  # fmt: skip
    drafts = []
    for invoice in invoices:
        draft = documents.create_invoice(
            company,
            {"contact_id": contact.id, "reference": invoice.number,
             "issue_date": today.isoformat(), "due_date": invoice.due_date.isoformat(),
             "line_items": [{"product_id": product.id, "quantity": "1",
                             "unit_price": str(TOTAL), "is_inclusive": True}]},
        )  # fmt: skip
        drafts.append(draft.id)
    QoyodInvoiceSync.objects.bulk_create(
        QoyodInvoiceSync(invoice_id=invoice.pk, state=SyncState.DRAFT_CREATED, qoyod_invoice_id=qid)
        for invoice, qid in zip(invoices, drafts, strict=True)
    )
    return drafts


if __name__ == "__main__":
    main()
