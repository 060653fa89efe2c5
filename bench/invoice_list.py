"""Server time and query count of /invoices/ with 100,000 invoices in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_invoices .venv/bin/python \\
        bench/invoice_list.py

Creates the database if it is missing, migrates it, seeds 100,000 invoices with two lines each
(once: a seeded database is reused), then requests the first, a middle and the last page, a
search and a filter through Django's test client, and prints the median time of each and its
queries (the slowest one with its own time, which shows what COUNT(*) and OFFSET cost).
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

INVOICES = 100_000
BATCH = 5_000
CUSTOMERS = 5_000
RUNS = 7
PLATE_LETTERS = "ABJDRSXTEGKLZNHUV"


def seed() -> None:
    """Bulk-create branches, customers, vehicles, completed jobs and invoices with lines."""
    from django.db import transaction

    from core.models import Sequence
    from garage.models import (
        Branch,
        Customer,
        JobCard,
        ServiceItem,
        SparePart,
        Vehicle,
    )
    from invoicing.models import Invoice, InvoiceLine

    have = Invoice.objects.count()
    if have >= INVOICES:
        print(f"already seeded: {have} invoices")
        return
    if have:
        sys.exit(f"{have} invoices from an interrupted seed: drop the database and run again")

    started = time.perf_counter()
    branches = [
        Branch.objects.get_or_create(code=code, defaults={"name_en": name, "name_ar": name})[0]
        for code, name in [("RUH", "Riyadh"), ("JED", "Jeddah"), ("DMM", "Dammam")]
    ]
    service = ServiceItem.objects.get_or_create(
        code="BENCH-SRV", defaults={"name_en": "Brake service", "default_price": Decimal("180")}
    )[0]
    part = SparePart.objects.get_or_create(
        sku="BENCH-PRT", defaults={"name_en": "Brake pads", "sale_price": Decimal("220")}
    )[0]
    customers = Customer.objects.bulk_create(
        Customer(name_en=f"Customer {n}", name_ar=f"عميل {n}", phone=f"+9665{n:08d}")
        for n in range(CUSTOMERS)
    )
    vehicles = []
    for n, customer in enumerate(customers):
        letters = "".join(PLATE_LETTERS[(n // 17**i) % 17] for i in range(3))
        plate = f"{n % 9999 + 1} {letters}"
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

    today = datetime.date.today()
    # Two years of invoices, newest first, numbered per year in issue order.
    dates = sorted(today - datetime.timedelta(days=n * 730 // INVOICES) for n in range(INVOICES))
    sequences: dict[int, int] = {}
    statuses = ["issued", "issued", "partially_paid", "paid", "paid", "paid", "void"]
    net, vat = Decimal("400.00"), Decimal("60.00")
    for start in range(0, INVOICES, BATCH):
        with transaction.atomic():
            chunk = range(start, min(start + BATCH, INVOICES))
            jobs = JobCard.objects.bulk_create(
                JobCard(
                    number=f"JOB-BENCH-{n:06d}",
                    branch=branches[n % 3],
                    customer=customers[n % CUSTOMERS],
                    vehicle=vehicles[n % CUSTOMERS],
                    status=JobCard.Status.COMPLETED,
                )
                for n in chunk
            )
            invoices = []
            for n, job in zip(chunk, jobs, strict=True):
                issued = dates[n]
                sequences[issued.year] = sequences.get(issued.year, 0) + 1
                status = statuses[n % len(statuses)]
                paid = {"paid": net + vat, "partially_paid": Decimal("100.00")}.get(
                    status, Decimal("0")
                )
                customer, vehicle = customers[n % CUSTOMERS], vehicles[n % CUSTOMERS]
                invoices.append(
                    Invoice(
                        number=f"INV-{issued.year}-{sequences[issued.year]:06d}",
                        job=job,
                        branch=job.branch,
                        customer=customer,
                        vehicle=vehicle,
                        customer_name=customer.name_en,
                        customer_name_ar=customer.name_ar,
                        customer_phone=customer.phone,
                        vehicle_description="Toyota Camry",
                        vehicle_plate=vehicle.plate_number,
                        issue_date=issued,
                        due_date=issued + datetime.timedelta(days=30),
                        net_total=net,
                        vat_total=vat,
                        total=net + vat,
                        amount_paid=paid,
                        balance=net + vat - paid,
                        status=status,
                        requires_qoyod=n % 2 == 0,
                        void_reason="bench" if status == "void" else "",
                    )
                )
            invoices = Invoice.objects.bulk_create(invoices)
            lines = []
            for invoice in invoices:
                for position, (kind, item, price) in enumerate(
                    [("service", service, Decimal("180.00")), ("part", part, Decimal("220.00"))],
                    start=1,
                ):
                    lines.append(
                        InvoiceLine(
                            invoice=invoice,
                            position=position,
                            kind=kind,
                            service_item=item if kind == "service" else None,
                            spare_part=item if kind == "part" else None,
                            description_en=item.name_en,
                            quantity=Decimal("1"),
                            unit_price=price,
                            vat_rate=Decimal("0.15"),
                            line_net=price,
                            line_vat=price * Decimal("0.15"),
                            line_total=price * Decimal("1.15"),
                        )
                    )
            InvoiceLine.objects.bulk_create(lines)
        print(f"  {start + BATCH:>7} invoices", end="\r", flush=True)
    for year, last in sequences.items():
        Sequence.objects.update_or_create(name="invoice", year=year, defaults={"last_value": last})
    print(f"seeded {INVOICES} invoices in {time.perf_counter() - started:.1f} s")


def measure() -> None:
    """GET pages of /invoices/ and print the median server time and the queries of each."""
    # Rendered in-process by the test client: the time is the server's, without a network.
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core import roles

    user, _created = User.objects.get_or_create(username="bench-accountant")
    user.groups.add(Group.objects.get(name=roles.ACCOUNTANT))
    client = Client()
    client.force_login(user)
    last_page = -(-client_count() // 25)
    invoices, needs = "/invoices/", "/invoices/needs-invoice/"
    cases = [
        ("first page", invoices, {}),
        ("middle page", invoices, {"page": last_page // 2}),
        ("last page", invoices, {"page": last_page}),
        # Customer 595's car is 596 ABJ (see seed): 20 invoices, typed in Arabic.
        ("search 'ا ب ح ٥٩٦'", invoices, {"q": "ا ب ح ٥٩٦"}),
        ("status=paid, page 100", invoices, {"status": "paid", "page": 100}),
        ("Needs Invoice badge", needs, {"badge": "1"}),
    ]
    print(f"\n{'case':<26} {'median ms':>9} {'min ms':>7} {'queries':>7}  two slowest queries (ms)")
    for label, url, params in cases:
        timings, queries = [], None
        client.get(url, params)  # warm caches (session, permissions, templates)
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, params)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            queries = captured.captured_queries
        slowest = sorted(queries, key=lambda q: -float(q["time"]))[:2]
        detail = "; ".join(
            f"{float(q['time']) * 1000:.1f} {' '.join(q['sql'].split())[:38]}…" for q in slowest
        )
        print(
            f"{label:<26} {statistics.median(timings):>9.1f} {min(timings):>7.1f} "
            f"{len(queries):>7}  {detail}"
        )


def client_count() -> int:
    from invoicing.models import Invoice

    return Invoice.objects.count()


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. .../bench_invoices")
    if harness.database_create(url, fresh=False):
        print(f"created database {harness.database_name(url)}")

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    seed()
    harness.vacuum()
    measure()


if __name__ == "__main__":
    main()
