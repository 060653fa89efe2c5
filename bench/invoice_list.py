"""Server time and query count of /invoices/ with 100,000 invoices in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_invoices .venv/bin/python \\
        bench/invoice_list.py

Creates the database if it is missing, migrates it, seeds 100,000 invoices with two lines each
(once: a seeded database is reused), gives the newest invoices every Qoyod sync and read-back
state and leaves 300 completed jobs waiting for an invoice, then requests the first page, a
search, a filter, the Needs Invoice tab and an invoice page through Django's test client, and
prints the median wall and CPU time of each and its queries (the slowest one with its own time).
Deep pages are reached through the lists' cursor links: bench/scale.py times them.

    .venv/bin/python bench/invoice_list.py --profile

adds the functions that take the most time while rendering the first page of /invoices/, of
Needs Invoice and an invoice page with a Qoyod draft (cProfile, own time).
"""

from __future__ import annotations

import cProfile
import datetime
import os
import pstats
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
RUNS = 50
# The newest invoices (the first pages) cycle through every Qoyod state a row can show.
QOYOD_ROWS = 1_000
NEEDS_INVOICE = 300
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


def seed_qoyod() -> None:
    """The newest QOYOD_ROWS invoices in every sync state, the drafts in every read-back state."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from invoicing.models import Invoice
    from payments.models import QoyodPaymentState
    from qoyod_sync.models import FailureKind, QoyodInvoiceSync, SyncState
    from qoyod_sync.services import connection_get, connection_save

    if connection_get() is None:
        connection_save(base_url=settings.QOYOD_BASE_URL, api_key="bench-key-0001", user=None)
    if QoyodInvoiceSync.objects.exists():
        return
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    # (sync row fields or None for no row, payment state fields or None, requires_qoyod)
    states: list[tuple[dict | None, dict | None, bool]] = [
        (None, None, False),
        (None, None, True),
        ({"state": SyncState.READY}, None, True),
        ({"state": SyncState.SENDING, "lease_until": now + 24 * hour}, None, True),
        (
            {
                "state": SyncState.FAILED,
                "failure_kind": FailureKind.REJECTED,
                "reason_code": "send.rejected",
                "reason_params": {"status": 422},
                "qoyod_message": "reference has already been taken",
            },
            None,
            True,
        ),
        ({"state": SyncState.UNKNOWN, "reason_code": "qoyod.error.maybe_saved"}, None, True),
        ({"state": SyncState.REFERENCE_COLLISION}, None, True),
        ({"state": SyncState.DRAFT_CREATED}, None, True),
        ({"state": SyncState.DRAFT_CREATED}, {"qoyod_status": "draft"}, True),
        ({"state": SyncState.DRAFT_CREATED}, {"qoyod_status": "awaiting_approval"}, True),
        (
            {"state": SyncState.DRAFT_CREATED, "total_difference": Decimal("0.01")},
            {"qoyod_status": "approved", "total_difference": Decimal("0.01")},
            True,
        ),
        ({"state": SyncState.DRAFT_CREATED}, {"qoyod_status": "partially_paid"}, True),
        ({"state": SyncState.DRAFT_CREATED}, {"qoyod_status": "paid"}, True),
        ({"state": SyncState.DRAFT_CREATED}, {"qoyod_status": "missing"}, True),
        ({"state": SyncState.DRAFT_CREATED, "draft_deleted_at": now}, None, True),
        (
            {"state": SyncState.DRAFT_CREATED},
            {"qoyod_status": "approved", "last_error_code": "readback.failed"},
            True,
        ),
        (
            {"state": SyncState.DRAFT_CREATED},
            {"qoyod_status": "draft", "queued_until": now + hour},
            True,
        ),
    ]
    newest = list(Invoice.objects.order_by("-issue_date", "-id")[:QOYOD_ROWS])
    syncs, payments = [], []
    with transaction.atomic():
        for n, invoice in enumerate(newest):
            sync, payment, requires = states[n % len(states)]
            managed = sync is not None and sync["state"] == SyncState.DRAFT_CREATED
            Invoice.objects.filter(pk=invoice.pk).update(
                requires_qoyod=requires, qoyod_managed=managed
            )
            if sync is not None:
                qoyod_id = 500_000 + n if managed else None
                syncs.append(QoyodInvoiceSync(invoice=invoice, qoyod_invoice_id=qoyod_id, **sync))
            if payment is not None:
                read = {"qoyod_total": invoice.total, "qoyod_paid": Decimal("0")}
                read.update(refreshed_at=now - hour, checked_at=now - hour, **payment)
                payments.append(QoyodPaymentState(invoice=invoice, **read))
        QoyodInvoiceSync.objects.bulk_create(syncs)
        QoyodPaymentState.objects.bulk_create(payments)
    print(f"gave the newest {len(newest)} invoices {len(states)} Qoyod states in turn")


def seed_needs_invoice() -> None:
    """NEEDS_INVOICE completed jobs without an invoice, for the Needs Invoice tab."""
    from django.utils import timezone

    from garage.models import Branch, Customer, JobCard, Vehicle

    if JobCard.objects.filter(invoice_pending=True).exists():
        return
    branches = list(Branch.objects.all())
    customers = list(Customer.objects.order_by("pk")[:NEEDS_INVOICE])
    vehicles = {v.customer_id: v for v in Vehicle.objects.filter(customer__in=customers)}
    now = timezone.now()
    JobCard.objects.bulk_create(
        JobCard(
            number=f"JOB-WAIT-{n:06d}",
            branch=branches[n % len(branches)],
            customer=customer,
            vehicle=vehicles[customer.pk],
            status=JobCard.Status.COMPLETED,
            completed_at=now - datetime.timedelta(minutes=n),
            invoice_pending=True,
        )
        for n, customer in enumerate(customers)
    )
    print(f"seeded {len(customers)} completed jobs waiting for an invoice")


def _cases(client) -> list[tuple[str, str, dict]]:
    from invoicing.models import Invoice

    invoices, needs = "/invoices/", "/invoices/needs-invoice/"
    draft = Invoice.objects.filter(qoyod_payment_state__qoyod_status="partially_paid").first()
    assert draft is not None, "seed_qoyod gives some drafts a read-back state"
    # Deep pages are reached by following the lists' cursor links: bench/scale.py times them.
    return [
        ("first page", invoices, {}),
        # Customer 595's car is 596 ABJ (see seed): 20 invoices, typed in Arabic.
        ("search 'ا ب ح ٥٩٦'", invoices, {"q": "ا ب ح ٥٩٦"}),
        ("status=paid", invoices, {"status": "paid"}),
        ("Needs Invoice", needs, {}),
        ("Needs Invoice badge", needs, {"badge": "1"}),
        ("invoice page (Qoyod draft)", f"/invoices/{draft.pk}/", {}),
    ]


def _client():
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from core import roles

    user, _created = User.objects.get_or_create(username="bench-accountant")
    user.groups.add(Group.objects.get(name=roles.ACCOUNTANT))
    client = Client()
    client.force_login(user)
    return client


def profile() -> None:
    """cProfile the first page of /invoices/, of Needs Invoice and an invoice page."""
    client = _client()
    for label, url, params in _cases(client):
        if label not in ("first page", "Needs Invoice", "invoice page (Qoyod draft)"):
            continue
        client.get(url, params)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            client.get(url, params)
        profiler.disable()
        print(f"\n--- {label}: 10 requests, functions by own time")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


def measure() -> None:
    """GET pages of /invoices/ and print the median server time and the queries of each."""
    # Rendered in-process by the test client: the time is the server's, without a network.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client()
    # CPU is this process's own (Python: the view, the ORM and the templates), without the
    # database server's; it is what bounds the requests a second of a gunicorn worker.
    print(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {RUNS} runs each")
    print(
        f"\n{'case':<27} {'median ms':>9} {'min ms':>7} {'CPU ms':>7} {'queries':>7}"
        "  two slowest queries (ms)"
    )
    for label, url, params in _cases(client):
        timings, cpu, queries = [], [], None
        client.get(url, params)  # warm caches (session, permissions, templates)
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url, params)
                cpu.append((time.process_time() - started_cpu) * 1000)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            queries = captured.captured_queries
        slowest = sorted(queries, key=lambda q: -float(q["time"]))[:2]
        detail = "; ".join(
            f"{float(q['time']) * 1000:.1f} {' '.join(q['sql'].split())[:38]}…" for q in slowest
        )
        print(
            f"{label:<27} {statistics.median(timings):>9.1f} {min(timings):>7.1f} "
            f"{statistics.median(cpu):>7.1f} {len(queries):>7}  {detail}"
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
    seed_qoyod()
    seed_needs_invoice()
    harness.vacuum()
    measure()
    if "--profile" in sys.argv[1:]:
        profile()


if __name__ == "__main__":
    main()
