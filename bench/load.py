"""Fixed-rate load on gunicorn + PostgreSQL, as production serves the app.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_load .venv/bin/python bench/load.py

Creates the database afresh (dropping a leftover of an earlier run), migrates it, loads the demo
data (seed_demo, told it is not production) and BENCH_INVOICES bulk invoices (bench/invoice_list's
seed), runs collectstatic into a temporary folder, starts gunicorn with BENCH_WEB_WORKERS workers
on a free port with DEBUG off, logs in, times each page alone (no queueing), then sends BENCH_RATE
requests a second for BENCH_SECONDS, in turn to the invoices list, a job page and the Needs
Invoice tab. Then it stops gunicorn, drops the database and prints p50/p95/p99 latency and the
errors of each URL.

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
import socket
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

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_load")
MAINTENANCE_DB = os.environ.get("BENCH_MAINTENANCE_DB", "postgres")
RATE = float(os.environ.get("BENCH_RATE", "50"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
INVOICES = int(os.environ.get("BENCH_INVOICES", "2000"))
# Enough client threads that the generator never waits for a free one below a few seconds of
# server latency at the target rate.
CLIENT_THREADS = int(os.environ.get("BENCH_CLIENT_THREADS", "64"))
BASELINE_REQUESTS = 10
REQUEST_TIMEOUT = 30.0
READY_TIMEOUT = 60.0
USERNAME = "bench-admin"
# Path, status and microseconds in the worker: the server's share of each latency.
ACCESS_FORMAT = "%(U)s %(s)s %(D)s"
BIN = Path(sys.executable).parent


def database(action: str) -> None:
    """DROP (and for 'create', CREATE) the bench database through the maintenance database."""
    import psycopg
    from psycopg import sql

    name = psycopg.conninfo.conninfo_to_dict(DATABASE_URL)["dbname"]
    if name == MAINTENANCE_DB:
        sys.exit(f"BENCH_DATABASE_URL must name a database of its own, not {name!r}")
    with psycopg.connect(DATABASE_URL, dbname=MAINTENANCE_DB, autocommit=True) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))
        if action == "create":
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def production_env(work: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=DATABASE_URL,
        DJANGO_STATIC_ROOT=str(work / "static"),
        DJANGO_MEDIA_ROOT=str(work / "media"),
        # Plain http to gunicorn with no TLS proxy in front: what TLS costs is not measured here.
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_COOKIES="false",
        # The demo's Qoyod connection points at the sandbox (nothing here calls it).
        QOYOD_SANDBOX_ENABLED="true",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], env=env, cwd=ROOT, check=True)


def seed_invoices() -> None:
    """Run in a child process with the bench environment: bulk invoices through invoice_list."""
    import django

    django.setup()
    import invoice_list  # bench/ is this script's folder, so first on sys.path

    invoice_list.INVOICES = INVOICES
    invoice_list.CUSTOMERS = max(1, INVOICES // 4)
    invoice_list.seed()
    invoice_list.vacuum()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(client: httpx.Client) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            response = client.get("/healthz")
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            return
        if time.monotonic() > deadline:
            sys.exit(f"gunicorn did not become healthy within {READY_TIMEOUT:.0f} s")
        time.sleep(0.2)


def login(client: httpx.Client, password: str) -> str:
    """The session cookie of a real login through the form."""
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        sys.exit(f"GET /login/ answered {page.status_code} without a CSRF token")
    answer = client.post(
        "/login/",
        data={"username": USERNAME, "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": str(client.base_url) + "/login/"},
    )
    session = answer.cookies.get("sessionid")
    if answer.status_code != 302 or not session:
        sys.exit(f"POST /login/ answered {answer.status_code} without a session")
    return session


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


def load(base_url: str, session: str, urls: list[str]) -> tuple[Results, float]:
    """Send RATE requests a second for SECONDS, round-robin over urls; return results and the
    wall time it took (longer than SECONDS when the last answers came late)."""
    total = int(RATE * SECONDS)
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
                due = start + index / RATE
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


def report(results: Results, elapsed: float, urls: list[str], server: dict[str, list[float]]):
    sent = sum(len(v) for v in results.latencies.values())
    print(
        f"\n{sent} requests at {RATE:g}/s target over {SECONDS:g} s; all answered after "
        f"{elapsed:.1f} s ({sent / elapsed:.1f} requests/s achieved), gunicorn --workers "
        f"{WEB_WORKERS}, {INVOICES} bulk invoices + demo data"
    )
    print("latency from when each request was due (client), and inside the worker (server), ms")
    print(
        f"{'URL':<28} {'n':>5} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}"
        f" {'srv p50':>8} {'srv p95':>8} {'srv p99':>8}  errors"
    )
    for url in urls:
        values = results.latencies.get(url, [])
        p50, p95, p99 = percentiles(values)
        s50, s95, s99 = percentiles(server.get(url.split("?")[0], []))
        errors = results.errors.get(url, Counter())
        described = ", ".join(f"{n} {kind}" for kind, n in errors.most_common()) or "0"
        print(
            f"{url:<28} {len(values):>5} {p50 * 1000:>9.1f} {p95 * 1000:>9.1f} "
            f"{p99 * 1000:>9.1f} {max(values, default=0) * 1000:>9.1f} {s50 * 1000:>8.1f} "
            f"{s95 * 1000:>8.1f} {s99 * 1000:>8.1f}  {described}"
        )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = production_env(work)
    password = secrets.token_urlsafe(24)
    gunicorn: subprocess.Popen[bytes] | None = None
    database("create")
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_demo", "--i-know-this-is-not-production")
        subprocess.run(
            [str(BIN / "python"), __file__, "--seed-invoices"], env=env, cwd=ROOT, check=True
        )
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(
            {**env, "DJANGO_SUPERUSER_PASSWORD": password},
            "createsuperuser", "--noinput", "--username", USERNAME, "--email", "bench@example.com",
        )  # fmt: skip

        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = (work / "gunicorn.log").open("wb")
        gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(WEB_WORKERS), "--access-logfile", str(work / "access.log"),
             "--access-logformat", ACCESS_FORMAT],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
            wait_until_ready(client)
            session = login(client, password)
            jobs = client.get("/jobs/", cookies={"sessionid": session})
            job = re.search(r'href="(/jobs/\d+/)"', jobs.text)
            if job is None:
                sys.exit(f"GET /jobs/ answered {jobs.status_code} without a job link")
            urls = ["/invoices/", job.group(1), "/invoices/needs-invoice/"]
            print(f"gunicorn on {base_url}; load on {', '.join(urls)}", flush=True)
            baseline(client, session, urls)
        (work / "access.log").write_text("")
        results, elapsed = load(base_url, session, urls)
        # Gunicorn writes its access log line after the answer; give the last ones a moment.
        time.sleep(1)
        report(results, elapsed, urls, server_times(work / "access.log"))
        errors = [
            line
            for line in (work / "gunicorn.log").read_text().splitlines()
            if '"level": "ERROR"' in line
        ]
        print(f"{len(errors)} ERROR log lines from gunicorn's workers")
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        database("drop")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--seed-invoices"]:
        sys.path.insert(0, str(ROOT))
        seed_invoices()
    else:
        main()
