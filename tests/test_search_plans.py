"""Every list's search reads an index on PostgreSQL, with statistics of a realistic table.

The tables are seeded large enough (20,000 jobs and invoices, 10,000 customers and vehicles) that
without the trigram indexes PostgreSQL's own choice is a sequential scan, then ANALYZEd; the plan
of each page's query must not scan the list's table.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from garage import selectors as garage_selectors
from garage.models import Branch, Customer, JobCard, Vehicle
from invoicing import selectors as invoice_selectors
from invoicing.models import Invoice
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROWS = 20_000
CUSTOMERS = 10_000
LETTERS = "ABJDRSXTEGKLZNHUV"


def _seed() -> None:
    branch = Branch.objects.create(code="RUH", name_en="Riyadh")
    customers = Customer.objects.bulk_create(
        Customer(
            name_en=f"Customer {n}",
            name_ar=f"عميل {n}",
            phone=f"+9665{n:08d}",
            vat_number=f"3{n:013d}3",
        )
        for n in range(CUSTOMERS)
    )
    vehicles = []
    for n, customer in enumerate(customers):
        plate = f"{n % 9999 + 1} {''.join(LETTERS[(n // 17**i) % 17] for i in range(3))}"
        vehicles.append(
            Vehicle(
                customer=customer,
                make="Toyota",
                model="Camry",
                plate_number=plate,
                plate_key=plate.replace(" ", ""),
            )
        )
    vehicles = Vehicle.objects.bulk_create(vehicles)
    jobs = JobCard.objects.bulk_create(
        JobCard(
            number=f"JOB-2026-{n:06d}",
            branch=branch,
            customer=customers[n % CUSTOMERS],
            vehicle=vehicles[n % CUSTOMERS],
            status=JobCard.Status.COMPLETED,
            # One job in a hundred waits for its invoice, as on a busy day.
            invoice_pending=n % 100 == 0,
        )
        for n in range(ROWS)
    )
    day = datetime.date(2026, 1, 1)
    total = Decimal("460.00")
    Invoice.objects.bulk_create(
        Invoice(
            number=f"INV-2026-{n:06d}",
            job=job,
            branch=branch,
            customer=job.customer,
            vehicle=job.vehicle,
            customer_name=job.customer.name_en,
            customer_name_ar=job.customer.name_ar,
            customer_phone=job.customer.phone,
            customer_vat_number=job.customer.vat_number,
            vehicle_description="Toyota Camry",
            vehicle_plate=job.vehicle.plate_number,
            issue_date=day + datetime.timedelta(days=n % 300),
            due_date=day + datetime.timedelta(days=n % 300 + 30),
            net_total=Decimal("400.00"),
            vat_total=Decimal("60.00"),
            total=total,
            balance=total,
        )
        for n, job in enumerate(jobs)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# Customer 595's car is "596 ABJ" ("ا ب ح ٥٩٦" typed in Arabic); its mobile 0500000595.
SEARCHES = [
    ("invoice number", "INV-2026-012345"),
    ("plate, Latin", "596 ABJ"),
    ("plate, Arabic", "ا ب ح ٥٩٦"),
    ("mobile", "0500000595"),
    ("VAT number", "30000000005953"),
    ("customer name, English partial", "tomer 1595"),
    ("customer name, Arabic partial", "عميل 159"),
]


def _plan(queryset) -> str:
    return queryset[:25].explain()


def test_every_list_and_its_search_read_an_index_not_the_table(require_postgres):
    # One test, one seed: 20,000 rows through six trigram indexes take a while to insert.
    _seed()
    user = UserFactory(is_superuser=True)
    lists = [
        ("invoicing_invoice", invoice_selectors.invoice_list),
        ("garage_jobcard", invoice_selectors.jobs_needing_invoice),
        ("garage_jobcard", lambda search: garage_selectors.jobcard_list(user=user, search=search)),
        ("garage_customer", garage_selectors.customer_list),
        ("garage_vehicle", garage_selectors.vehicle_list),
    ]
    seq_scans = []
    for table, listing in lists:
        for label, text in SEARCHES:
            plan = _plan(listing(search=text))
            if f"Seq Scan on {table}" in plan:
                seq_scans.append((table, label, plan))
    invoices = _plan(invoice_selectors.invoice_list())
    needs = _plan(invoice_selectors.jobs_needing_invoice())

    assert seq_scans == []
    assert "invoice_list_order" in invoices
    assert "Seq Scan on invoicing_invoice" not in invoices
    assert "jobcard_invoice_pending" in needs
    assert "Seq Scan on garage_jobcard" not in needs
