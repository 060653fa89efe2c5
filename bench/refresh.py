"""HTTP requests and wall time to read back 50, 500 and 5,000 Qoyod-managed invoices: the batched
refresh (100 ids per request) against a naive loop of one GET per invoice, in the same run.

    .venv/bin/python bench/refresh.py [--sizes 50 500 5000] [--latency 50]

The sandbox injects the latency on every request. Half the invoices are paid in Qoyod, the other
half are unpaid drafts. Each variant runs twice from a reset state: "first" records the changes
(half the invoices become paid here, through the same service for both), "again" finds nothing
changed, so it is the cost of the reads alone. Runs on a throwaway SQLite database, with the
sandbox in this process. Client-side pacing (the 300-a-minute token bucket) is lifted so the
figures show the reads, not our rate limiter: under Qoyod's real limit a loop of 5,000 GETs also
needs at least 5,000 / 290 ≈ 17 minutes.

Then the periodic refresh at a chain's scale (--open, default 100,000 open invoices): how long
its beat task takes to queue one run's chunks (measured on the invoices above, per chunk), and
how long until every open invoice has been read at Qoyod's 300 requests a minute and at our own
QOYOD_RATE_LIMIT_PER_MINUTE: in Qoyod's time (one request per chunk of 100) and in calendar
time (QOYOD_REFRESH_CHUNKS_PER_RUN chunks every QOYOD_REFRESH_PERIOD_MINUTES), against the
longest any one task takes and the task time limit.
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
_DB = Path(tempfile.mkdtemp()) / "bench_refresh.sqlite3"
os.environ["DATABASE_URL"] = f"sqlite:///{_DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

API_KEY = "bench-key-000000000002"
TOTAL = Decimal("276.00")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500, 5000])
    parser.add_argument("--latency", type=float, default=50, help="milliseconds per request")
    parser.add_argument("--open", type=int, default=100_000, help="open invoices to cover")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from qoyod_sync.client import ClientOptions, QoyodReader, close_pooled_clients
    from qoyod_sync.sandbox import SandboxServer

    server = SandboxServer("127.0.0.1", 0, keys=[API_KEY]).start()
    options = ClientOptions(rate_limit_per_minute=1_000_000, burst=1_000)
    try:
        reader = QoyodReader(base_url=server.base_url, api_key=API_KEY, options=options)
        targets = _invoices(server, max(args.sizes))
        server.faults.set_latency(args.latency)
        print(f"latency {args.latency:g} ms per request; half of the invoices paid in Qoyod")
        print(
            f"{'':>8} {'batched':^26} {'naive, one GET each':^27} {'naive / batched':^17}\n"
            f"{'invoices':>8} {'requests':>9} {'first s':>8} {'again s':>8} "
            f"{'requests':>9} {'first s':>8} {'again s':>8} {'first':>8} {'again':>8}"
        )
        for size in sorted(args.sizes):
            ids = list(targets)[:size]
            requests, b_first, b_again = _measure(server, lambda ids=ids: _batched(reader, ids))
            naive_requests, n_first, n_again = _measure(
                server, lambda ids=ids: _naive(reader, targets, ids)
            )
            print(
                f"{size:>8} {requests:>9} {b_first:>8.2f} {b_again:>8.2f} "
                f"{naive_requests:>9} {n_first:>8.2f} {n_again:>8.2f} "
                f"{n_first / b_first:>7.1f}x {n_again / b_again:>7.1f}x",
                flush=True,
            )
        largest = max(args.sizes)
        read_seconds = _measure(server, lambda: _batched(reader, list(targets)[:largest]))[2] / (
            math.ceil(largest / 100)
        )
        _coverage(args.open, read_seconds, _queueing_seconds_per_chunk(largest))
    finally:
        close_pooled_clients(server.base_url)
        server.stop()


def _queueing_seconds_per_chunk(size: int) -> float:
    """What the beat task spends queueing one chunk, measured on `size` open invoices; the
    marks are rolled back and nothing is published."""
    from django.db import transaction
    from django.test.utils import override_settings

    from qoyod_sync import tasks

    _reset()
    chunks_of_all = math.ceil(size / 100)
    with override_settings(QOYOD_REFRESH_CHUNKS_PER_RUN=chunks_of_all), transaction.atomic():
        started = time.perf_counter()
        chunks = tasks.open_invoices_refresh_enqueue()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed / chunks


def _coverage(open_invoices: int, read_seconds: float, queue_seconds: float) -> None:
    """Print how long the periodic refresh takes to read `open_invoices` open invoices."""
    from django.conf import settings

    chunks = math.ceil(open_invoices / 100)
    per_run = settings.QOYOD_REFRESH_CHUNKS_PER_RUN
    period = settings.QOYOD_REFRESH_PERIOD_MINUTES
    runs = math.ceil(chunks / per_run)
    limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
    print(
        f"\nperiodic refresh of {open_invoices:,} open invoices: {chunks:,} chunks of 100, "
        f"{per_run} per run every {period} min, so {runs} run(s); one read "
        f"{read_seconds * 1000:.0f} ms here"
    )
    print(
        f"beat task: queues a run's {min(chunks, per_run)} chunks in "
        f"{queue_seconds * min(chunks, per_run):.1f} s ({queue_seconds * 1000:.1f} ms a chunk, "
        f"measured); a chunk's task is one read; soft time limit {limit} s"
    )
    print(
        f"{'rate/min':>9} {'rate bound':>11} {'Qoyod time':>11} {'all covered after':>18} "
        f"{'one task for all':>17}"
    )
    for rate in sorted({300, settings.QOYOD_RATE_LIMIT_PER_MINUTE}):
        per_chunk = max(60 / rate, read_seconds)
        last_run = chunks - (runs - 1) * per_run
        calendar = (runs - 1) * period * 60 + last_run * per_chunk
        single = chunks * per_chunk
        verdict = "over the limit" if single > limit else "under the limit"
        print(
            f"{rate:>9} {chunks / rate:>9.1f} m {chunks * per_chunk / 60:>9.1f} m "
            f"{calendar / 60:>16.1f} m "
            f"{single:>8.0f} s ({verdict})"
        )


def _invoices(server, count: int) -> dict[int, int]:
    """`count` Qoyod-managed invoices here with their drafts in the sandbox; our id → Qoyod id."""
    import datetime

    from django.utils import timezone

    from garage.models import Branch, Customer, JobCard, Vehicle
    from invoicing.models import Invoice
    from qoyod_sync.models import QoyodInvoiceSync, SyncState
    from qoyod_sync.sandbox import documents
    from qoyod_sync.sandbox.control import act

    company = server.state.company_for_key(API_KEY)
    contact = company.create_customer({"name": "Bench customer", "status": "Active"})
    product = company.create_product(
        {"sku": "SRV-BENCH", "name_ar": "خدمة", "name_en": "Service", "type": "Service",
         "track_quantity": 0, "selling_price": "240", "buying_price": "0",
         # The sandbox chart's sales account: a strict tenant refuses a product without one.
         "sales_account_id": 17, "tax_id": 1, "product_unit_type_id": 1, "category_id": 1}
    )  # fmt: skip
    branch = Branch.objects.create(code="RUH", name_en="Riyadh")
    customer = Customer.objects.create(name_en="Bench customer", phone="+966500000002")
    vehicle = Vehicle.objects.create(
        customer=customer, make="Toyota", model="Camry", plate_number="1234 ABJ"
    )
    today = timezone.localdate()
    jobs = JobCard.objects.bulk_create(
        JobCard(number=f"JOB-B-{n:06d}", branch=branch, customer=customer, vehicle=vehicle,
                status=JobCard.Status.COMPLETED)
        for n in range(count)
    )  # fmt: skip
    invoices = Invoice.objects.bulk_create(
        Invoice(number=f"INV-B-{n:06d}", job=job, branch=branch, customer=customer,
                vehicle=vehicle, customer_name=customer.name_en, vehicle_description="Camry",
                vehicle_plate="1234ABJ", issue_date=today,
                due_date=today + datetime.timedelta(days=30), net_total=Decimal("240.00"),
                vat_total=Decimal("36.00"), total=TOTAL, balance=TOTAL, requires_qoyod=True,
                qoyod_managed=True)
        for n, job in enumerate(jobs)
    )  # fmt: skip
    targets = {}
    for n, invoice in enumerate(invoices):
        draft = documents.create_invoice(
            company,
            # What approval needs under ZATCA Phase 2, as our sends carry.
            {"contact_id": contact.id, "reference": invoice.number,
             "due_date": invoice.due_date.isoformat(), "supply_date": today.isoformat(),
             "payment_method": 10,
             "line_items": [{"product_id": product.id, "quantity": "1",
                             "unit_price": str(TOTAL), "is_inclusive": True}]},
        )  # fmt: skip
        if n % 2 == 0:
            act(company, "invoices", draft.id, "approve", {})
            act(company, "invoices", draft.id, "payments", {})
        targets[invoice.pk] = draft.id
    QoyodInvoiceSync.objects.bulk_create(
        QoyodInvoiceSync(invoice_id=pk, state=SyncState.DRAFT_CREATED, qoyod_invoice_id=qid)
        for pk, qid in targets.items()
    )
    return targets


def _reset() -> None:
    """Back to never refreshed: no read-back rows, every invoice issued and unpaid."""
    from django.db.models import F

    from invoicing.models import Invoice, InvoiceStatusChange
    from payments.models import QoyodAllocation, QoyodPaymentState

    QoyodAllocation.objects.all().delete()
    QoyodPaymentState.objects.all().delete()
    InvoiceStatusChange.objects.exclude(from_status="").delete()
    Invoice.objects.update(amount_paid=Decimal("0"), balance=F("total"), status="issued")


def _measure(server, run) -> tuple[int, float, float]:
    """Requests of one run, and seconds of a first run (changes) and of a second (none)."""
    _reset()
    before = server.requests.count()
    started = time.perf_counter()
    run()
    first = time.perf_counter() - started
    requests = server.requests.count() - before
    started = time.perf_counter()
    run()
    return requests, first, time.perf_counter() - started


def _batched(reader, ids: list[int]) -> None:
    from qoyod_sync.readback.fetch import invoices_refresh

    result = invoices_refresh(invoice_ids=ids, reader=reader)
    assert len(result.refreshed) == len(ids), result.failed


def _naive(reader, targets: dict[int, int], ids: list[int]) -> None:
    """One GET per invoice, then the same claim and record as the batched refresh."""
    from django.utils import timezone

    from payments.services import qoyod_payment_states_claim, qoyod_payment_states_record
    from qoyod_sync.readback.fetch import CLAIM, payment_data

    results = {pk: payment_data(reader.get_invoice(targets[pk])) for pk in ids}
    until = timezone.now() + CLAIM
    qoyod_payment_states_claim(invoice_ids=ids, token="naive", until=until)
    qoyod_payment_states_record(results=results, token="naive")


if __name__ == "__main__":
    main()
