"""Fixed-rate load on gunicorn + PostgreSQL, as production serves the app.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_load .venv/bin/python bench/load.py
    # the capacity: rate steps on the 100,000 invoices bench/scale.py --reuse kept
    BENCH_REUSE=1 BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_scale_100000 \
        BENCH_RATES=25,50,75,100,125 BENCH_SECONDS=30 .venv/bin/python bench/load.py

Creates the database afresh (dropping a leftover of an earlier run), migrates it, loads the demo
data (seed_demo, told it is not production) and BENCH_INVOICES bulk invoices (bench/invoice_list's
seed), runs collectstatic into a temporary folder, starts gunicorn with BENCH_WEB_WORKERS workers
on a free port with DEBUG off, logs in, times each page alone (no queueing), then sends BENCH_RATE
requests a second for BENCH_SECONDS, in turn to the invoices list, a job page and the Needs
Invoice tab. Then it stops gunicorn, drops the database and prints p50/p95/p99 latency and the
errors of each URL.

BENCH_RATES (comma-separated) runs one step of BENCH_SECONDS per rate, lowest first, up to the
first step not held, and ends with the capacity: the highest rate held, that is answered in
full at that rate (at least 98% of it achieved) with no error and a p95 under HELD_P95.
BENCH_WRK=1 first measures each URL alone at saturation with wrk (Debian's package, a C client
that leaves the cores to the server): closed loop, BENCH_WRK_CONNECTIONS connections (default
twice the workers) for BENCH_SECONDS; the requests a second it gets is the most the workers
serve of that page, with the client's own CPU kept small.
BENCH_REUSE=1 measures an existing seeded database (for instance one bench/scale.py --reuse
kept) and leaves it in place.

The load is open-loop: request i is due at start + i / rate whatever the earlier ones are doing,
and its latency counts from when it was due, so a server that falls behind shows it in the
percentiles instead of silently slowing the generator down. REDIS_URL is used as production
would (cache and broker); unset, the cache is in-process and the broker a folder.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = harness.ROOT
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_load")
_RATES = os.environ.get("BENCH_RATES", os.environ.get("BENCH_RATE", "50"))
RATES = [float(rate) for rate in _RATES.split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
INVOICES = int(os.environ.get("BENCH_INVOICES", "2000"))
REUSE = os.environ.get("BENCH_REUSE", "") == "1"
WRK = os.environ.get("BENCH_WRK", "") == "1"
WRK_CONNECTIONS = int(os.environ.get("BENCH_WRK_CONNECTIONS", str(2 * WEB_WORKERS)))
# Enough client threads that the generator never waits for a free one below a few seconds of
# server latency at the target rate.
CLIENT_THREADS = int(os.environ.get("BENCH_CLIENT_THREADS", "64"))
BASELINE_REQUESTS = 10
REQUEST_TIMEOUT = 30.0
# A step is held when its p95 stays under this: the bar at 50 requests a second.
HELD_P95 = 0.100
BIN = harness.BIN


def seed_invoices() -> None:
    """Run in a child process with the bench environment: bulk invoices through invoice_list."""
    import django

    django.setup()
    import invoice_list  # bench/ is this script's folder, so first on sys.path

    invoice_list.INVOICES = INVOICES
    invoice_list.CUSTOMERS = max(1, INVOICES // 4)
    invoice_list.seed()
    harness.vacuum()


def set_password(password: str) -> None:
    """Run in a child process: the bench's Admin-role user, with this password."""
    import django

    django.setup()
    harness.admin_user(password)


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, Counter[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, url: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(url, []).append(seconds)
            if error:
                self.errors.setdefault(url, Counter())[error] += 1


def baseline(client: httpx.Client, session: str, urls: list[str]) -> None:
    """One request at a time (after one to warm up each URL): what a page costs the server when
    nothing queues, to read the loaded percentiles against."""
    for url in urls:
        client.get(url, cookies={"sessionid": session})
        times = []
        for _ in range(BASELINE_REQUESTS):
            started = time.monotonic()
            response = client.get(url, cookies={"sessionid": session})
            times.append(time.monotonic() - started)
            if response.status_code != 200:
                sys.exit(f"GET {url} answered {response.status_code}")
        print(f"unloaded {url:<28} median {statistics.median(times) * 1000:.1f} ms", flush=True)


def load(base_url: str, session: str, urls: list[str], rate: float) -> tuple[Results, float]:
    """Send `rate` requests a second for SECONDS, round-robin over urls; return results and the
    wall time it took (longer than SECONDS when the last answers came late)."""
    total = int(rate * SECONDS)
    results = Results()
    next_index = iter(range(total))
    index_lock = threading.Lock()
    start = time.monotonic() + 0.5

    def worker() -> None:
        with httpx.Client(
            base_url=base_url,
            cookies={"sessionid": session},
            timeout=REQUEST_TIMEOUT,
            follow_redirects=False,
        ) as client:
            while True:
                with index_lock:
                    index = next(next_index, None)
                if index is None:
                    return
                due = start + index / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                url = urls[index % len(urls)]
                error = None
                try:
                    response = client.get(url)
                    response.read()
                    if response.status_code != 200:
                        error = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    error = type(exc).__name__
                results.record(url, time.monotonic() - due, error)

    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - start


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (0.0, 0.0, 0.0)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def server_times(access_log: Path) -> dict[str, list[float]]:
    """Seconds each request spent in gunicorn's worker (ACCESS_FORMAT), by path."""
    times: dict[str, list[float]] = {}
    for line in access_log.read_text().splitlines():
        path, _status, micros = line.split()
        times.setdefault(path, []).append(int(micros) / 1_000_000)
    return times


def report(
    results: Results, elapsed: float, urls: list[str], server: dict[str, list[float]], rate: float
) -> bool:
    """Print one step's latencies and errors; returns whether the step was held."""
    sent = sum(len(v) for v in results.latencies.values())
    achieved = sent / elapsed
    data = "the reused database" if REUSE else f"{INVOICES} bulk invoices + demo data"
    print(
        f"\n{sent} requests at {rate:g}/s target over {SECONDS:g} s; all answered after "
        f"{elapsed:.1f} s ({achieved:.1f} requests/s achieved), gunicorn --workers "
        f"{WEB_WORKERS}, {data}; load average {os.getloadavg()[0]:.2f}"
    )
    print("latency from when each request was due (client), and inside the worker (server), ms")
    print(
        f"{'URL':<28} {'n':>5} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}"
        f" {'srv p50':>8} {'srv p95':>8} {'srv p99':>8}  errors"
    )
    held = achieved >= 0.98 * rate
    for url in urls:
        values = results.latencies.get(url, [])
        p50, p95, p99 = percentiles(values)
        s50, s95, s99 = percentiles(server.get(url.split("?")[0], []))
        errors = results.errors.get(url, Counter())
        held = held and not errors and p95 < HELD_P95
        described = ", ".join(f"{n} {kind}" for kind, n in errors.most_common()) or "0"
        print(
            f"{url:<28} {len(values):>5} {p50 * 1000:>9.1f} {p95 * 1000:>9.1f} "
            f"{p99 * 1000:>9.1f} {max(values, default=0) * 1000:>9.1f} {s50 * 1000:>8.1f} "
            f"{s95 * 1000:>8.1f} {s99 * 1000:>8.1f}  {described}"
        )
    return held


def prepare(env: dict[str, str], password: str) -> None:
    """A fresh database with the demo data and bulk invoices, unless BENCH_REUSE; the user."""
    if not REUSE:
        harness.database_create(DATABASE_URL, fresh=True)
        harness.manage(env, "migrate", "--noinput", "-v0")
        harness.manage(env, "seed_demo", "--i-know-this-is-not-production")
        subprocess.run(
            [str(BIN / "python"), __file__, "--seed-invoices"], env=env, cwd=ROOT, check=True
        )
    elif not harness.database_exists(DATABASE_URL):
        sys.exit(f"BENCH_REUSE=1 but {harness.database_name(DATABASE_URL)} does not exist")
    subprocess.run(
        [str(BIN / "python"), __file__, "--set-password"],
        input=password.encode(), env=env, cwd=ROOT, check=True,
    )  # fmt: skip
    harness.manage(env, "collectstatic", "--noinput", "-v0")


def saturate(base_url: str, session: str, urls: list[str]) -> None:
    """Each URL alone under wrk's closed loop: the most requests a second the workers serve."""
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("BENCH_WRK=1 needs wrk: apt-get install wrk")
    print(
        f"\nsaturation (wrk, closed loop, {WRK_CONNECTIONS} connections, {SECONDS:g} s per URL, "
        f"load average {os.getloadavg()[0]:.2f})"
    )
    print(f"{'URL':<28} {'req/s':>8} {'p50':>9} {'p90':>9} {'p99':>9} {'non-2xx':>8}")
    for url in urls:
        run = subprocess.run(
            [wrk, "-t1", f"-c{WRK_CONNECTIONS}", f"-d{SECONDS:g}s", "--latency",
             "-H", f"Cookie: sessionid={session}", base_url + url],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        out = run.stdout
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
        latency = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.MULTILINE))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(
            f"{url:<28} {float(rate.group(1)) if rate else 0:>8.1f} {latency.get('50', '-'):>9} "
            f"{latency.get('90', '-'):>9} {latency.get('99', '-'):>9} "
            f"{bad.group(1) if bad else '0':>8}",
            flush=True,
        )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = harness.production_env(work, DATABASE_URL)
    password = secrets.token_urlsafe(24)
    try:
        prepare(env, password)
        with harness.gunicorn(env, work, workers=WEB_WORKERS) as base_url:
            with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
                session = harness.login(client, harness.ADMIN_USERNAME, password)
                jobs = client.get("/jobs/", cookies={"sessionid": session})
                job = re.search(r'href="(/jobs/\d+/)"', jobs.text)
                if job is None:
                    sys.exit(f"GET /jobs/ answered {jobs.status_code} without a job link")
                urls = ["/invoices/", job.group(1), "/invoices/needs-invoice/"]
                print(f"gunicorn on {base_url}; load on {', '.join(urls)}", flush=True)
                baseline(client, session, urls)
            if WRK:
                saturate(base_url, session, urls)
            held = []
            for rate in sorted(RATES):
                (work / "access.log").write_text("")
                results, elapsed = load(base_url, session, urls, rate)
                # Gunicorn writes its access log line after the answer; give the last a moment.
                time.sleep(1)
                if not report(results, elapsed, urls, server_times(work / "access.log"), rate):
                    # A higher rate only queues longer behind the one already missed.
                    break
                held.append(rate)
        errors = [
            line
            for line in (work / "gunicorn.log").read_text().splitlines()
            if '"level": "ERROR"' in line
        ]
        print(f"{len(errors)} ERROR log lines from gunicorn's workers")
        if len(RATES) > 1:
            print(
                f"capacity: {max(held):g} requests/s held (no error, p95 < "
                f"{HELD_P95 * 1000:.0f} ms)"
                if held
                else "capacity: no step held"
            )
    finally:
        if not REUSE:
            harness.database_drop(DATABASE_URL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--seed-invoices"]:
        sys.path.insert(0, str(ROOT))
        seed_invoices()
    elif sys.argv[1:] == ["--set-password"]:
        sys.path.insert(0, str(ROOT))
        set_password(sys.stdin.read())
    else:
        main()
