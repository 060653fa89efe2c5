"""Server time, queries and query plans of every list page at a chain's scale, and their growth.

    .venv/bin/python bench/scale.py                          # 100,000 and 300,000 invoices
    .venv/bin/python bench/scale.py --sizes 2000 --repeat 5  # a quick check that it works
    .venv/bin/python bench/scale.py --sizes 100000 --reuse --checkout /path/to/older/worktree
    .venv/bin/python bench/scale.py --sizes 100000 --reuse --only search --only detail  # by label

For each size it seeds its own PostgreSQL database bench_scale_<size> (harness.seed_chain: 20
branches, customers, vehicles, jobs, invoices, Qoyod sync rows, transactions; COPY, then VACUUM
ANALYZE), or with --reuse keeps one seeded earlier. Then, for this checkout and every --checkout,
a child process with that checkout's code (DEBUG off, in-process test client, a user in the Admin
role) requests each case after warm-up --repeat times and prints p50/p95 of the server time, the
queries of one request (and any write among them: a GET must write nothing), and the verdict of
EXPLAIN (ANALYZE, BUFFERS) on its slowest query: the index it reads, or a sequential scan of a
big table, or a sort spilled to disk. Last, each case's growth from the first size to the last
and the straight line through the last two sizes taken to 1,000,000 invoices (a falling line is
taken as flat).

The deep page is reached as the checkout's list offers it: with ?page=N links it is requested
directly; with cursor links the "next" link is followed page by page (not timed) and the page
reached is the one timed. Every checkout is measured on the same data, seeded and migrated by
this checkout: an older checkout runs on this schema (indexes added since included).

The machine's load average is printed before and after: figures from a shared machine move.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_scale")
PAGE_SIZE = 25
HORIZON = 1_000_000
# A sequential scan of a table this big is a finding; of a smaller one (branches, groups), not.
BIG_TABLE_ROWS = 1_000
# An index scan that throws away this many rows of a big table reads it all the same (a search
# walking the list's order index and filtering every row).
FILTERED_ROWS = 10_000
# The lists' capped count (core.paging.COUNT_CAP) reads at most one row more than this.
CAPPED_ROWS = 10_001
NEXT_LINK = re.compile(
    r'<a\b[^>]*\bhref="([^"]*)"[^>]*\brel="next"|<a\b[^>]*\brel="next"[^>]*\bhref="([^"]*)"'
)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def database_url(size: int) -> str:
    parts = urlsplit(BASE_URL)
    return parts._replace(path=f"/{parts.path.lstrip('/')}_{size}").geturl()


# ---- seeding (this checkout) -----------------------------------------------------------------


def prepare(size: int, *, reuse: bool, work: Path) -> None:
    """A database of `size` invoices: kept from an earlier run with --reuse, else seeded anew."""
    url = database_url(size)
    env = harness.production_env(work, url)
    if reuse and harness.database_exists(url) and _seeded(url) == size:
        print(f"reusing {harness.database_name(url)} ({size} invoices), migrated", flush=True)
        # Indexes added since it was seeded are what this checkout is measured with.
        harness.manage(env, "migrate", "--noinput", "-v0")
        return
    harness.database_create(url, fresh=True)
    harness.manage(env, "migrate", "--noinput", "-v0")
    subprocess.run(
        [str(harness.BIN / "python"), __file__, "--seed", str(size)],
        env=env, cwd=harness.ROOT, check=True,
    )  # fmt: skip


def _seeded(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        try:
            return conn.execute("SELECT count(*) FROM invoicing_invoice").fetchone()[0]
        except psycopg.Error:
            return -1


def seed(size: int) -> None:
    """In a child with the bench environment: seed, then VACUUM ANALYZE."""
    import django

    sys.path.insert(0, str(harness.ROOT))
    django.setup()
    harness.seed_chain(invoices=size)
    started = time.perf_counter()
    harness.vacuum()
    print(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)


def cases(size: int) -> list[dict[str, Any]]:
    """The cases of the issue's target list, their search words taken from the seeded rows."""
    import psycopg

    from_ar = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    with psycopg.connect(database_url(size)) as conn:

        def one(query: str) -> tuple[Any, ...]:
            row = conn.execute(query).fetchone()
            assert row is not None, query
            return row

        count = one("SELECT count(*) FROM invoicing_invoice")[0]
        pk, number, plate, phone = one(
            "SELECT id, number, vehicle_plate, customer_phone FROM invoicing_invoice "
            f"ORDER BY id OFFSET {count // 2} LIMIT 1"
        )
        (vat,) = one(
            "SELECT vat_number FROM garage_customer WHERE vat_number <> '' "
            "ORDER BY id OFFSET 10 LIMIT 1"
        )
        name_en, name_ar = one(
            "SELECT name_en, name_ar FROM garage_customer WHERE name_en <> '' "
            "AND kind = 'individual' ORDER BY id OFFSET 20 LIMIT 1"
        )
    from core.arabic import PLATE_LATIN_TO_AR  # this checkout's, only to spell the plate

    digits, letters = plate.split(" ")
    plate_ar = " ".join(PLATE_LATIN_TO_AR[c] for c in letters) + " " + digits.translate(from_ar)
    # A partial name as typed: the father's name and the start of the family name.
    words_en, words_ar = name_en.split(" "), name_ar.split(" ")
    partial_en = f"{words_en[1]} {words_en[2][:6]}"
    partial_ar = f"{words_ar[1]} {words_ar[2][:5]}"
    local_phone = "0" + phone.removeprefix("+966")
    deep = max(2, count // PAGE_SIZE // 2)
    inv, needs, jobs = "/invoices/", "/invoices/needs-invoice/", "/jobs/"
    return [
        {"label": "invoices first page", "path": inv},
        {"label": f"invoices page {deep}", "path": inv, "deep": deep},
        {"label": "invoices status=issued", "path": inv, "params": {"status": "issued"}},
        {"label": "invoices q=number", "path": inv, "params": {"q": number}},
        {"label": "invoices q=plate latin", "path": inv, "params": {"q": plate}},
        {"label": "invoices q=plate arabic", "path": inv, "params": {"q": plate_ar}},
        {"label": "invoices q=phone", "path": inv, "params": {"q": local_phone}},
        {"label": "invoices q=VAT number", "path": inv, "params": {"q": vat}},
        {"label": "invoices q=name en part", "path": inv, "params": {"q": partial_en}},
        {"label": "invoices q=name ar part", "path": inv, "params": {"q": partial_ar}},
        {"label": "invoice detail", "path": f"{inv}{pk}/"},
        {"label": "needs invoice", "path": needs},
        {"label": "needs invoice badge", "path": needs, "params": {"badge": "1"}},
        {"label": "jobs first page", "path": jobs},
        {"label": f"jobs page {deep}", "path": jobs, "deep": deep},
        {"label": "jobs q=name ar part", "path": jobs, "params": {"q": partial_ar}},
        {"label": "customers first page", "path": "/customers/"},
        {"label": "customers q=phone", "path": "/customers/", "params": {"q": local_phone}},
        {"label": "vehicles first page", "path": "/vehicles/"},
        {"label": "vehicles q=plate arabic", "path": "/vehicles/", "params": {"q": plate_ar}},
        {"label": "retry queue", "path": "/qoyod/retry-queue/"},
        {"label": "transactions", "path": "/accounting/transactions/"},
        {
            "label": "transactions verified",
            "path": "/accounting/transactions/",
            "params": {"tab": "verified"},
        },
    ]


# ---- measuring (any checkout, in a child) ----------------------------------------------------


def measure(code: Path, case_file: Path, out: Path, repeat: int) -> None:
    """In a child whose working directory and import path are `code`: time every case."""
    sys.path.insert(0, str(code))
    # Loaded as gunicorn loads it (config/wsgi.py), so the process is set up as a worker is.
    import_module("config.wsgi")
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(harness.admin_user())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s",
            [BIG_TABLE_ROWS],
        )
        big = {name for (name,) in cursor.fetchall()}
    results = []
    for case in json.loads(case_file.read_text()):
        started = time.perf_counter()
        url, how = _resolve(client, case)
        result = {"label": case["label"], "reached": how}
        response = client.get(url)
        result["status"] = response.status_code
        if response.status_code == 200:
            client.get(url)  # a second warm-up: templates, permissions, plan caches
            timings = []
            for _ in range(repeat):
                begun = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - begun) * 1000)
            result.update(_percentiles(timings))
            result.update(_queries(client, url, big))
        results.append(result)
        print(
            f"  {case['label']:<28} {result.get('p95', float('nan')):>8.1f} ms p95 "
            f"({time.perf_counter() - started:.0f} s)",
            file=sys.stderr, flush=True,
        )  # fmt: skip
    out.write_text(json.dumps(results))


def _resolve(client: Any, case: dict[str, Any]) -> tuple[str, str]:
    """The URL of the case; for a deep page, as this checkout's own next links lead to it."""
    url = case["path"] + (f"?{urlencode(case['params'])}" if case.get("params") else "")
    deep = case.get("deep")
    if not deep:
        return url, ""
    link = _next_link(client.get(url).content.decode())
    if link is None:
        return url, "no next link"
    query = dict(parse_qsl(urlsplit(link).query))
    if query.get("page", "").isdigit():
        return f"{case['path']}?{urlencode({**query, 'page': deep})}", "?page=N"
    for page in range(2, deep):
        following = _next_link(client.get(_absolute(case["path"], link)).content.decode())
        if following is None:
            return _absolute(case["path"], link), f"next link x{page - 1} (last)"
        link = following
    return _absolute(case["path"], link), f"next link x{deep - 1}"


def _next_link(page: str) -> str | None:
    found = NEXT_LINK.search(page)
    return None if found is None else html.unescape(found.group(1) or found.group(2))


def _absolute(path: str, link: str) -> str:
    return link if link.startswith("/") else path + link


def _percentiles(timings: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(timings, n=20, method="inclusive")
    return {"p50": statistics.median(timings), "p95": cuts[18]}


def _queries(client: Any, url: str, big: set[str]) -> dict[str, Any]:
    """Queries of one request, its writes, and the plan of its slowest read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    sql = [q["sql"] for q in captured.captured_queries]
    plans = []
    with connection.cursor() as cursor:
        for statement in sql:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement)
            [plan] = cursor.fetchone()[0]
            plans.append(_verdict(plan, big))
    main = max(plans, key=lambda p: p["ms"], default=None)
    others = sorted({f for p in plans if p is not main for f in p["findings"]})
    return {
        "queries": len(sql),
        "writes": sum(1 for s in sql if WRITE.match(s)),
        "plan": "-" if main is None else main["text"],
        "plan_ms": 0.0 if main is None else main["ms"],
        "other_findings": others,
    }


def _verdict(plan: dict[str, Any], big: set[str]) -> dict[str, Any]:
    findings, indexes, capped = [], [], []
    stack = [(plan["Plan"], False)]
    while stack:
        node, limited = stack.pop()
        kind, relation = node["Node Type"], node.get("Relation Name", "")
        stack.extend((child, limited or kind == "Limit") for child in node.get("Plans", []))
        if kind == "Seq Scan" and relation in big:
            # Under a LIMIT and stopped there (the lists' capped count), the scan reads as many
            # rows at a million as at a hundred thousand: bounded, not a finding.
            if limited and node["Actual Rows"] * node.get("Actual Loops", 1) <= CAPPED_ROWS:
                capped.append(f"{relation} scan stopped at {node['Actual Rows']:,} rows")
            else:
                findings.append(f"SEQ SCAN {relation}")
        removed = node.get("Rows Removed by Filter", 0) * node.get("Actual Loops", 1)
        if kind != "Seq Scan" and relation in big and removed >= FILTERED_ROWS:
            findings.append(f"{kind.upper()} FILTERING {removed:,} ROWS OF {relation}")
        if node.get("Sort Space Type") == "Disk":
            findings.append(f"SORT ON DISK {node.get('Sort Space Used', '?')} kB")
        if "Index Name" in node:
            indexes.append(node["Index Name"])
    ms = float(plan["Execution Time"])
    text = (
        "; ".join(dict.fromkeys(findings))
        or "; ".join(
            [*(["index " + ", ".join(dict.fromkeys(indexes))] if indexes else []), *capped]
        )
        or "no big table"
    )
    return {"ms": ms, "text": text, "findings": findings}


def run_checkout(code: Path, size: int, case_list: list[dict[str, Any]], repeat: int, work: Path):
    case_file, out = work / "cases.json", work / f"result-{size}.json"
    case_file.write_text(json.dumps(case_list))
    env = harness.production_env(work, database_url(size), hosts="testserver")
    env["PYTHONPATH"] = str(code)
    # Pages name their static files through the manifest, so each checkout collects its own.
    static = work / f"static-{abs(hash(code))}"
    env["DJANGO_STATIC_ROOT"] = str(static)
    if not static.exists():
        harness.manage(env, "collectstatic", "--noinput", "-v0", cwd=code)
    subprocess.run(
        [str(harness.BIN / "python"), __file__, "--measure", str(code), str(case_file), str(out),
         str(repeat)],
        env=env, cwd=code, check=True,
    )  # fmt: skip
    return json.loads(out.read_text())


# ---- reporting -------------------------------------------------------------------------------


def print_size(size: int, code: Path, results: list[dict[str, Any]]) -> None:
    print(f"\n{size:,} invoices, code of {code}")
    print(
        f"{'case':<28} {'p50 ms':>7} {'p95 ms':>7} {'queries':>7} {'writes':>6} "
        f"{'main query':>10}  plan of the main query; other queries' findings"
    )
    for r in results:
        if r["status"] != 200:
            print(f"{r['label']:<28} HTTP {r['status']}")
            continue
        note = f" [{r['reached']}]" if r["reached"] else ""
        others = f"; others: {', '.join(r['other_findings'])}" if r["other_findings"] else ""
        print(
            f"{r['label']:<28} {r['p50']:>7.1f} {r['p95']:>7.1f} {r['queries']:>7} "
            f"{r['writes']:>6} {r['plan_ms']:>8.1f}ms  {r['plan']}{others}{note}"
        )


def print_growth(sizes: list[int], code: Path, by_size: dict[int, list[dict[str, Any]]]) -> None:
    if len(sizes) < 2:
        return
    low, high = sizes[-2], sizes[-1]
    print(f"\np95 growth, code of {code}; 1M by the line through {low:,} and {high:,}")
    print(
        f"{'case':<28} "
        + " ".join(f"{f'{s:,}':>9}" for s in sizes)
        + f" {'growth':>7} {'at 1M':>8}"
    )
    for index, first in enumerate(by_size[sizes[0]]):
        rows = [by_size[s][index] for s in sizes]
        if any("p95" not in r for r in rows):
            continue
        p95 = [r["p95"] for r in rows]
        # A line that falls is noise or a plan that got better with size: taken as flat.
        slope = max(0.0, (p95[-1] - p95[-2]) / (high - low))
        at_horizon = p95[-1] + slope * (HORIZON - high)
        label = re.sub(r"page \d+", "deep page", first["label"])
        print(
            f"{label:<28} "
            + " ".join(f"{v:>9.1f}" for v in p95)
            + f" {p95[-1] / p95[0]:>6.2f}x {at_horizon:>8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--rows", type=int, help="one size only: --rows 1000000 seeds 1M")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per case")
    parser.add_argument(
        "--reuse", action="store_true", help="keep seeded databases (migrated before use)"
    )
    parser.add_argument("--only", action="append", default=[], help="cases whose label has this")
    parser.add_argument(
        "--checkout", type=Path, action="append", default=[],
        help="also measure with this checkout's code (repeatable)",
    )  # fmt: skip
    args = parser.parse_args()
    sizes = sorted([args.rows] if args.rows else args.sizes)
    codes = [harness.ROOT, *(path.resolve() for path in args.checkout)]
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    results: dict[Path, dict[int, list[dict[str, Any]]]] = {code: {} for code in codes}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as folder:
        work = Path(folder)
        sys.path.insert(0, str(harness.ROOT))
        for size in sizes:
            prepare(size, reuse=args.reuse, work=work)
            case_list = [
                c for c in cases(size) if not args.only or any(o in c["label"] for o in args.only)
            ]
            for code in codes:
                print(f"measuring {size:,} invoices with {code}", flush=True)
                results[code][size] = run_checkout(code, size, case_list, args.repeat, work)
                print_size(size, code, results[code][size])
            if not args.reuse:
                harness.database_drop(database_url(size))
    for code in codes:
        print_growth(sizes, code, results[code])
    print(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--seed"]:
        seed(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--measure"]:
        code, case_file, out, repeat = sys.argv[2:6]
        measure(Path(code), Path(case_file), Path(out), int(repeat))
    else:
        main()
