"""Server time, queries and query plan of the finance API's unprocessed queue with 100,000
invoices in PostgreSQL (10% of them in the queue).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_queue .venv/bin/python \\
        bench/queue_api.py

Creates the database if it is missing, migrates it and seeds it with harness.seed_chain's
100,000 invoices (once: a seeded database is reused), marks 90% of them processed or owned by
Qoyod, then walks the queue with an API client's token through DRF's test client and times the
first, a middle and the last cursor page (50 items): p50 and p95 of RUNS requests each, their
queries, and the plan of the page's query (an index scan on invoice_finance_queue expected).
Beside the server time, this process's CPU time per request: on a loaded machine the wall clock
also counts the time spent waiting for a core, the CPU time does not (PostgreSQL's own share is
in the plan's execution time).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_queue")
os.environ["DATABASE_URL"] = URL
# The walk and the timed runs are a few hundred requests a minute: not what is measured here.
os.environ.setdefault("API_RATE_LIMIT", "100000/minute")

INVOICES = 100_000
RUNS = 40
QUEUE = "/api/v1/invoices/unprocessed/"


def queue_shape() -> int:
    """Every tenth invoice in the queue (voids never processed, so none is a cancellation),
    entering it over the two years of issue dates."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_invoice SET requires_qoyod = false, "
            "finance_state = CASE WHEN status = 'void' OR id % 10 = 0 THEN 'pending' "
            "ELSE 'processed' END, "
            "finance_queued_at = issue_date + (id % 86400) * interval '1 second'"
        )
        cursor.execute("VACUUM ANALYZE invoicing_invoice")
    from invoicing.models import FINANCE_QUEUE, Invoice

    return Invoice.objects.filter(FINANCE_QUEUE).count()


def api_caller():
    from rest_framework.test import APIClient

    from api.models import ApiClient
    from api.services import apiclient_create

    ApiClient.objects.filter(name="bench-queue").delete()
    _client, token = apiclient_create(
        name="bench-queue", scopes=["invoices:read"], branch=None, expires_at=None, user=None
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def cursors(api) -> list[str]:
    """The `next` link of every 50-item page, by walking the whole queue once."""
    links, url = [QUEUE], QUEUE
    while True:
        response = api.get(url)
        assert response.status_code == 200, response.content
        url = response.json()["next"]
        if url is None:
            return links
        links.append(url)


def plan(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(f"      {row[0]}" for row in cursor.fetchall())


def p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[int(len(ordered) * 0.95) - 1]


def measure(api, pages: list[tuple[str, str]]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print(f"\n{'page':<12} {'p50 ms':>7} {'p95 ms':>7} {'cpu p50':>7} {'cpu p95':>7} "
          f"{'queries':>7}")  # fmt: skip
    plans = []
    for label, url in pages:
        api.get(url)
        timings, cpu = [], []
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as captured:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = api.get(url)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            assert response.status_code == 200, response.status_code
        print(f"{label:<12} {statistics.median(timings):>7.1f} {p95(timings):>7.1f} "
              f"{statistics.median(cpu):>7.1f} {p95(cpu):>7.1f} "
              f"{len(captured.captured_queries):>7}")  # fmt: skip
        page_sql = next(
            q["sql"] for q in captured.captured_queries if "finance_queued_at" in q["sql"]
        )
        plans.append((label, page_sql))
    for label, sql in plans:
        print(f"\nplan, {label}:\n{plan(sql)}")


def main() -> None:
    import django
    from django.core.management import call_command

    if harness.database_create(URL, fresh=False):
        print(f"created database {harness.database_name(URL)}")
    django.setup()
    call_command("migrate", verbosity=0)

    from invoicing.models import Invoice

    if not Invoice.objects.exists():
        harness.seed_chain(invoices=INVOICES)
    print(f"queue: {queue_shape()} of {Invoice.objects.count()} invoices")
    api = api_caller()
    links = cursors(api)
    print(f"walked {len(links)} pages of 50")
    measure(api, [("first", links[0]), ("middle", links[len(links) // 2]), ("last", links[-1])])


if __name__ == "__main__":
    main()
