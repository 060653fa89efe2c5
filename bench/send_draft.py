"""HTTP requests and wall time of one Send draft to Qoyod, against the sandbox over loopback.

    .venv/bin/python bench/send_draft.py [--runs 5]

Two cases, each at 0 ms and 50 ms of latency injected by the sandbox on every request:
  first time  a customer Qoyod has never seen, two services it has never seen, and a spare part
              that is in Qoyod (bought there, with stock) but not yet linked here;
  returning   the same customer and items again: every id is stored, only stock is read.
Runs on a throwaway SQLite database. Client-side pacing (the 300-a-minute token bucket) is
lifted so the figures show the send itself, not our rate limiter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_DB = Path(tempfile.mkdtemp()) / "bench_send_draft.sqlite3"
os.environ["DATABASE_URL"] = f"sqlite:///{_DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

API_KEY = "bench-key-000000000001"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from qoyod_sync.client import ClientOptions, close_pooled_clients
    from qoyod_sync.sandbox import SandboxServer
    from qoyod_sync.services import connection_save, connection_test

    server = SandboxServer("127.0.0.1", 0, keys=[API_KEY]).start()
    # The connection may point only at the enabled sandbox, and this one has a free port.
    settings.QOYOD_SANDBOX_URL, settings.QOYOD_SANDBOX_ENABLED = server.base_url, True
    options = ClientOptions(rate_limit_per_minute=1_000_000, burst=1_000)
    try:
        connection_save(base_url=server.base_url, api_key=API_KEY, user=None)
        branch = _branch()
        connection_test(user=None, options=options)
        print(f"{'case':<12} {'latency':>8} {'requests':>9} {'median ms':>10} {'min ms':>8}")
        for latency in (0, 50):
            server.faults.set_latency(latency)
            figures: dict[str, list[tuple[int, float]]] = {"first time": [], "returning": []}
            for run in range(runs):
                customer, items = _first_time_catalogue(server, branch, f"{latency}-{run}")
                figures["first time"].append(_send(server, branch, customer, items, options))
                figures["returning"].append(_send(server, branch, customer, items, options))
            for case, rows in figures.items():
                counts = {count for count, _ms in rows}
                times = [ms for _count, ms in rows]
                count = counts.pop() if len(counts) == 1 else sorted(counts)
                print(
                    f"{case:<12} {latency:>6} ms {count!s:>9} "
                    f"{statistics.median(times):>10.1f} {min(times):>8.1f}"
                )
    finally:
        close_pooled_clients(server.base_url)
        server.stop()


def _branch():
    from garage.models import Branch

    return Branch.objects.create(code="RUH", name_en="Riyadh")


def _first_time_catalogue(server, branch, tag: str):
    """A new customer, two new services, and a part Qoyod already stocks (by SKU)."""
    from garage.models import Customer, PartStock, ServiceItem, SparePart
    from qoyod_sync.client import QoyodWriter

    customer = Customer.objects.create(
        name_en=f"Bench customer {tag}", phone=f"+9665{abs(hash(tag)) % 10**8:08d}"
    )
    services = [
        ServiceItem.objects.create(
            code=f"SRV-{tag}-{n}", name_en=f"Service {n}", default_price=Decimal("150")
        )
        for n in (1, 2)
    ]
    part = SparePart.objects.create(
        sku=f"PRT-{tag}", name_en="Oil filter", sale_price=Decimal("35"), cost=Decimal("20")
    )
    PartStock.objects.create(part=part, branch=branch, quantity=Decimal("100"))
    product = QoyodWriter(base_url=server.base_url, api_key=API_KEY).create_stock_product(
        sku=part.sku, name_ar="فلتر", name_en="Oil filter", selling_price=Decimal("35"),
        buying_price=Decimal("20"), tax_id=1, unit_id=1, category_id=2,
        sales_account_id=17,
        cogs_account_id=12,
    )  # fmt: skip
    server.state.company_for_key(API_KEY).set_stock(product.id, 1, Decimal("1000"))
    return customer, [*services, part]


def _send(server, branch, customer, items, options) -> tuple[int, float]:
    """One invoice for these items, sent; returns (HTTP requests, wall milliseconds)."""
    import datetime

    from django.utils import timezone

    from garage.models import JobCard, JobLine, SparePart, Vehicle
    from invoicing.services import invoice_create, invoice_prefill
    from qoyod_sync.push import invoice_send_draft

    vehicle = customer.vehicles.first() or Vehicle.objects.create(
        customer=customer, make="Toyota", model="Camry",
        plate_number=f"{Vehicle.objects.count() + 1} ABJ",
    )  # fmt: skip
    job = JobCard.objects.create(
        number=f"JOB-B-{JobCard.objects.count() + 1:06d}", branch=branch, customer=customer,
        vehicle=vehicle, status=JobCard.Status.COMPLETED,
    )  # fmt: skip
    for item in items:
        is_part = isinstance(item, SparePart)
        JobLine.objects.create(
            job=job, kind="part" if is_part else "service", quantity=Decimal("1"),
            spare_part=item if is_part else None, service_item=None if is_part else item,
            unit_price=item.sale_price if is_part else item.default_price,
        )  # fmt: skip
    today = timezone.localdate()
    invoice = invoice_create(
        job=job, customer=customer, vehicle=vehicle, lines=invoice_prefill(job=job),
        issue_date=today, due_date=today + datetime.timedelta(days=30), requires_qoyod=True,
        user=None,
    )  # fmt: skip
    before = server.requests.count()
    started = time.perf_counter()
    result = invoice_send_draft(invoice=invoice, user=None, options=options)
    elapsed = (time.perf_counter() - started) * 1000
    if not result.ok:
        raise SystemExit(f"send failed: {result.message}")
    return server.requests.count() - before, elapsed


if __name__ == "__main__":
    main()
