"""Requests per second and p50/p95 latency of the Qoyod client against the sandbox.

    .venv/bin/python bench/qoyod_client.py

Starts the sandbox in-process on a free loopback port and measures, with 0 ms and with 50 ms
of latency injected by the sandbox: single-invoice reads (GET /invoices/{id}), list reads that
walk pages (GET /customers, 250 rows = 3 pages), and draft creation (POST /invoices, 2 lines).
Requests are sequential, one client, one pooled keep-alive connection. The client's token
bucket is lifted for the measurement (it would cap us at 280 a minute, which is its purpose);
the last lines show the bucket at the production setting.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qoyod_sync.client import ClientOptions, QoyodWriter, close_pooled_clients  # noqa: E402
from qoyod_sync.sandbox import SandboxServer  # noqa: E402
from qoyod_sync.types import DraftInvoice, DraftLine  # noqa: E402

KEY = "bench-key-0001"
UNLIMITED = ClientOptions(rate_limit_per_minute=10_000_000, burst=100_000)


def measure(label: str, runs: int, call: Callable[[int], object]) -> None:
    timings = []
    started = time.perf_counter()
    for i in range(runs):
        t0 = time.perf_counter()
        call(i)
        timings.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(timings, n=20)
    print(
        f"  {label:<34} {runs:>4} calls  {runs / elapsed:>7.1f}/s  "
        f"p50 {statistics.median(timings) * 1000:>6.1f} ms  p95 {cuts[18] * 1000:>6.1f} ms"
    )


def main() -> None:
    sandbox = SandboxServer(keys=[KEY]).start()
    try:
        writer = QoyodWriter(base_url=sandbox.base_url, api_key=KEY, options=UNLIMITED)
        reader = writer.reader
        company = sandbox.company(KEY)
        for i in range(250):
            company.create_customer({"name": f"Customer {i}"})
        customer = writer.create_customer(name="Bench customer")
        service = writer.create_service_product(
            sku="SVC-1",
            name_ar="خدمة",
            name_en="Service",
            selling_price=Decimal("150"),
            tax_id=1,
            unit_id=2,
            category_id=1,
            sales_account_id=17,
        )
        part = writer.create_service_product(
            sku="SVC-2",
            name_ar="خدمة ٢",
            name_en="Service 2",
            selling_price=Decimal("35"),
            tax_id=1,
            unit_id=1,
            category_id=1,
            sales_account_id=17,
        )

        def draft(n: int) -> DraftInvoice:
            return DraftInvoice(
                contact_id=customer.id,
                reference=f"BENCH-{n:08}",
                issue_date=date(2025, 3, 2),
                due_date=date(2025, 3, 9),
                inventory_id=1,
                lines=(
                    DraftLine(product_id=part.id, quantity=Decimal("2"), unit_price=Decimal("35")),
                    DraftLine(
                        product_id=service.id, quantity=Decimal("1"), unit_price=Decimal("150")
                    ),
                ),
            )

        first = writer.create_draft_invoice(draft(0))
        counter = iter(range(1, 1_000_000))
        for latency_ms, runs in ((0, 500), (50, 40)):
            sandbox.faults.set_latency(latency_ms)
            print(f"sandbox latency {latency_ms} ms")
            measure("read one invoice", runs, lambda i: reader.get_invoice(first.id))
            measure(
                "list 250 customers (3 pages)",
                max(runs // 5, 20),
                lambda i: reader.list_customers(),
            )
            measure(
                "create a draft invoice",
                runs,
                lambda i: writer.create_draft_invoice(draft(next(counter))),
            )

        sandbox.faults.set_latency(0)
        paced = QoyodWriter(
            base_url=sandbox.base_url,
            api_key=KEY,
            options=ClientOptions(rate_limit_per_minute=280, burst=10),
        )
        print("token bucket at 280/min, burst 10, sandbox latency 0 ms")
        measure("read one invoice", 20, lambda i: paced.reader.get_invoice(first.id))
        print(f"TCP connections the sandbox accepted in all: {sandbox.connections_accepted}")
    finally:
        close_pooled_clients(sandbox.base_url)
        sandbox.stop()


if __name__ == "__main__":
    main()
