"""Time and queries of bulk-assigning one account to 10,000 transactions (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_bulk_assign .venv/bin/python \\
        bench/bulk_assign.py

Creates and migrates the database if it is missing, replaces its transactions with 10,000
unassigned ones, then runs accounting.verification.transaction_bulk_assign over all of them
and prints the time, the number of queries and how many of those are UPDATEs (target: one).
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from invoice_list import database_create_if_missing  # noqa: E402

ROWS = 10_000


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    database_create_if_missing(url)

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounting.models import Account, Transaction, TransactionEvent
    from accounting.verification import transaction_bulk_assign
    from garage.models import Branch

    call_command("migrate", verbosity=0)
    user, _created = User.objects.get_or_create(username="bench")
    branch, _created = Branch.objects.get_or_create(
        code="BN", defaults={"name_en": "Bench", "name_ar": "قياس"}
    )
    account, _created = Account.objects.get_or_create(
        qoyod_id=990001,
        defaults={"code": "5990", "name_en": "Bench expenses", "account_type": "Expense",
                  "last_seen_at": timezone.now()},
    )  # fmt: skip
    TransactionEvent.objects.filter(transaction__branch=branch).delete()
    Transaction.objects.filter(branch=branch).delete()
    Transaction.objects.bulk_create(
        Transaction(number=f"BENCH-{n:06d}", kind="expense", direction="out",
                    date=datetime.date(2026, 11, 1), amount=Decimal("115.00"),
                    vat_amount=Decimal("15.00"), branch=branch, created_by=user)
        for n in range(ROWS)
    )  # fmt: skip

    scope = Transaction.objects.filter(branch=branch)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        changed = transaction_bulk_assign(queryset=scope, account=account, user=user)
        elapsed = time.perf_counter() - started
    updates = sum(q["sql"].lstrip().upper().startswith("UPDATE") for q in captured)
    print(f"bulk assign: {changed} transactions in {elapsed:.3f} s")
    print(f"queries: {len(captured)} ({updates} UPDATE), history rows: {changed}")
    for query in captured:
        print(f"  {query['time']} s  {query['sql'][:90]}")


if __name__ == "__main__":
    main()
