"""HTTP requests and wall time to sync 200 verified transactions to Qoyod as journal entries.

    .venv/bin/python bench/journal_sync.py [--count 200] [--latency 50]

Against the sandbox over loopback, with the latency injected by the sandbox on every request,
on a throwaway SQLite database. The chart is synced first (that is configuration, not sync);
the sync itself goes five transactions per call, as the Verified tab's page posts them.
Client-side pacing (the 300-a-minute token bucket) is lifted so the figures show the sync.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_DB = Path(tempfile.mkdtemp()) / "bench_journal_sync.sqlite3"
os.environ["DATABASE_URL"] = f"sqlite:///{_DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

API_KEY = "bench-key-000000000002"
BATCH = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--latency", type=float, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.contrib.auth.models import User
    from django.utils import timezone

    from accounting.configuration import configuration_sync
    from accounting.models import Account, AccountingSettings, Transaction
    from accounting.sync import transaction_sync
    from garage.models import Branch
    from qoyod_sync.client import ClientOptions, close_pooled_clients
    from qoyod_sync.sandbox import SandboxServer
    from qoyod_sync.services import connection_save, connection_test

    server = SandboxServer("127.0.0.1", 0, keys=[API_KEY]).start()
    settings.QOYOD_SANDBOX_URL, settings.QOYOD_SANDBOX_ENABLED = server.base_url, True
    options = ClientOptions(rate_limit_per_minute=1_000_000, burst=1_000)
    try:
        connection_save(base_url=server.base_url, api_key=API_KEY, user=None)
        branch = Branch.objects.create(code="RUH", name_en="Riyadh")
        connection_test(user=None, options=options)
        assert configuration_sync(user=None, options=options).ok
        AccountingSettings.objects.filter(singleton=True).update(
            source_account=Account.objects.get(qoyod_id=8),
            vat_account=Account.objects.get(qoyod_id=20),
        )
        user = User.objects.create(username="bench")
        expense = Account.objects.get(qoyod_id=22)
        rows = [
            Transaction(
                number=f"EXP-2026-{n:06d}",
                direction="out",
                date=timezone.localdate(),
                amount=Decimal("115.00"),
                vat_amount=Decimal("15.00"),
                branch=branch,
                account=expense,
                verified_at=timezone.now(),
                receipt_lost_reason="bench",
                created_by=user,
            )  # fmt: skip
            for n in range(1, args.count + 1)
        ]
        pks = [row.pk for row in Transaction.objects.bulk_create(rows)]
        if not pks[0]:
            pks = list(Transaction.objects.order_by("pk").values_list("pk", flat=True))
        server.faults.set_latency(args.latency)
        server.requests.clear()
        started = time.perf_counter()
        synced = 0
        for start in range(0, len(pks), BATCH):
            results = transaction_sync(
                pks=pks[start : start + BATCH], user=user, site="https://garage.example/",
                options=options,
            )  # fmt: skip
            synced += sum(r.ok for r in results)
        elapsed = time.perf_counter() - started
        requests = server.requests.all()
        posts = sum(
            1 for r in requests if r.method == "POST" and r.path.endswith("/journal_entries")
        )
        print(f"transactions {args.count}, synced {synced}, latency {args.latency:g} ms")
        other = len(requests) - posts
        print(f"requests {len(requests)} (POST /journal_entries {posts}, other {other})")
        print(f"requests per transaction {len(requests) / args.count:.2f}")
        print(f"wall time {elapsed:.2f} s ({elapsed * 1000 / args.count:.1f} ms per transaction)")
    finally:
        close_pooled_clients(server.base_url)
        server.stop()


if __name__ == "__main__":
    main()
