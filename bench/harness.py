"""What the PostgreSQL benches share: their databases, the production environment, gunicorn, and
a chain's worth of data seeded at COPY speed.

    seed_chain(invoices=100_000)   branches, customers, vehicles, jobs with lines, invoices with
                                   lines, Qoyod sync and payment-state rows, accounting
                                   transactions, in the proportions below; deterministic
    database_create / database_drop, production_env, gunicorn, login

The seed writes rows with COPY and explicit ids (then moves each id sequence past them), so
100,000 invoices take well under a minute instead of the ORM's several. The same count gives
the same rows: every choice comes from one seeded random generator and the position of the row,
and dates count back from the day of the seed.
"""

from __future__ import annotations

import datetime
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MAINTENANCE_DB = os.environ.get("BENCH_MAINTENANCE_DB", "postgres")
ADMIN_USERNAME = "bench-admin"
READY_TIMEOUT = 60.0
# Path, status and microseconds in the worker: the server's share of each latency.
ACCESS_FORMAT = "%(U)s %(s)s %(D)s"

# ---- databases ------------------------------------------------------------------------------


def database_name(url: str) -> str:
    import psycopg

    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    if name in (MAINTENANCE_DB, "test") or not name.startswith("bench"):
        sys.exit(f"a bench database is named bench_*, not {name!r}")
    return name


def database_exists(url: str) -> bool:
    import psycopg

    name = database_name(url)
    with psycopg.connect(url, dbname=MAINTENANCE_DB, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return found is not None


def database_create(url: str, *, fresh: bool) -> bool:
    """CREATE the database (DROP it first when `fresh`); returns whether it was created."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    if fresh:
        database_drop(url)
    elif database_exists(url):
        return False
    with psycopg.connect(url, dbname=MAINTENANCE_DB, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def database_drop(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(url, dbname=MAINTENANCE_DB, autocommit=True) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))


def vacuum() -> None:
    """Set visibility maps and statistics as autovacuum would have after a bulk load."""
    from django.db import connection

    # Without it COUNT(*) cannot use an index-only scan and the first reads rewrite every page.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# ---- the production environment and gunicorn -------------------------------------------------


def production_env(work: Path, database_url: str, *, hosts: str = "127.0.0.1") -> dict[str, str]:
    """The environment of a production process (DEBUG off) on `database_url`."""
    from cryptography.fernet import Fernet

    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_ALLOWED_HOSTS=hosts,
        DATABASE_URL=database_url,
        DJANGO_STATIC_ROOT=str(work / "static"),
        DJANGO_MEDIA_ROOT=str(work / "media"),
        # Plain http with no TLS proxy in front: what TLS costs is not measured here.
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_COOKIES="false",
        # The demo's Qoyod connection points at the sandbox (nothing here calls it).
        QOYOD_SANDBOX_ENABLED="true",
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
    )
    return env


def manage(env: dict[str, str], *args: str, cwd: Path = ROOT) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], env=env, cwd=cwd, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], work: Path, *, workers: int) -> Iterator[str]:
    """gunicorn with `workers` sync workers on a free port, healthy; yields its base URL.

    The access log (ACCESS_FORMAT) is work/access.log, everything else work/gunicorn.log.
    """
    port = free_port()
    with (work / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--access-logfile", str(work / "access.log"),
             "--access-logformat", ACCESS_FORMAT],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base_url = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base_url, timeout=5) as client:
                _wait_until_ready(client)
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_ready(client: httpx.Client) -> None:
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


def login(client: httpx.Client, username: str, password: str) -> str:
    """The session cookie of a real login through the form."""
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        sys.exit(f"GET /login/ answered {page.status_code} without a CSRF token")
    answer = client.post(
        "/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": str(client.base_url) + "/login/"},
    )
    session = answer.cookies.get("sessionid")
    if answer.status_code != 302 or not session:
        sys.exit(f"POST /login/ answered {answer.status_code} without a session")
    return session


def admin_user(password: str | None = None) -> Any:
    """The bench's user in the Admin role (a role, not a superuser: its permission checks are
    the ones a real manager's pages make)."""
    from django.contrib.auth.models import Group, User

    from core import roles

    user, _created = User.objects.get_or_create(username=ADMIN_USERNAME)
    if password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=roles.ADMIN))
    _qoyod_connected()
    return user


def _qoyod_connected() -> None:
    """A chain that sends to Qoyod has its connection: every page reads it with the retry
    queue's badge (a database seeded without one would time the fallback count instead)."""
    from django.conf import settings

    from qoyod_sync.models import QoyodConnection
    from qoyod_sync.services import connection_save

    if not QoyodConnection.objects.exists():
        connection_save(base_url=settings.QOYOD_BASE_URL, api_key="bench-key-not-used", user=None)


# ---- the chain's data ------------------------------------------------------------------------

SEED = 20261203
BRANCHES = [
    ("RUH", "Riyadh Olaya", "الرياض العليا"), ("RUN", "Riyadh North", "الرياض الشمال"),
    ("RUE", "Riyadh East", "الرياض الشرق"), ("RUS", "Riyadh South", "الرياض الجنوب"),
    ("JED", "Jeddah", "جدة"), ("JEN", "Jeddah North", "جدة الشمال"), ("MKK", "Makkah", "مكة"),
    ("MED", "Madinah", "المدينة"), ("DMM", "Dammam", "الدمام"), ("KHB", "Khobar", "الخبر"),
    ("DHR", "Dhahran", "الظهران"), ("JUB", "Jubail", "الجبيل"), ("HOF", "Hofuf", "الهفوف"),
    ("TIF", "Taif", "الطائف"), ("ABH", "Abha", "أبها"), ("KMS", "Khamis Mushait", "خميس مشيط"),
    ("TBK", "Tabuk", "تبوك"), ("HAS", "Hail", "حائل"), ("BUR", "Buraydah", "بريدة"),
    ("JIZ", "Jazan", "جازان"),
]  # fmt: skip
FIRST = [
    ("Mohammed", "محمد"), ("Abdullah", "عبدالله"), ("Fahad", "فهد"), ("Khalid", "خالد"),
    ("Sultan", "سلطان"), ("Faisal", "فيصل"), ("Saud", "سعود"), ("Nasser", "ناصر"),
    ("Turki", "تركي"), ("Omar", "عمر"), ("Ali", "علي"), ("Yousef", "يوسف"), ("Ahmed", "أحمد"),
    ("Majed", "ماجد"), ("Nawaf", "نواف"), ("Bandar", "بندر"), ("Sara", "سارة"),
    ("Noura", "نورة"), ("Reem", "ريم"), ("Hessa", "حصة"), ("Lama", "لمى"), ("Dana", "دانة"),
    ("Rashid", "راشد"), ("Hamad", "حمد"),
]  # fmt: skip
FAMILY = [
    ("Al-Qahtani", "القحطاني"), ("Al-Otaibi", "العتيبي"), ("Al-Harbi", "الحربي"),
    ("Al-Ghamdi", "الغامدي"), ("Al-Zahrani", "الزهراني"), ("Al-Dosari", "الدوسري"),
    ("Al-Shehri", "الشهري"), ("Al-Mutairi", "المطيري"), ("Al-Shammari", "الشمري"),
    ("Al-Anazi", "العنزي"), ("Al-Subaie", "السبيعي"), ("Al-Malki", "المالكي"),
    ("Al-Rashidi", "الرشيدي"), ("Al-Juhani", "الجهني"), ("Al-Yami", "اليامي"),
    ("Al-Asmari", "الأسمري"), ("Al-Balawi", "البلوي"), ("Al-Sulami", "السلمي"),
    ("Al-Amri", "العمري"), ("Al-Tamimi", "التميمي"), ("Al-Khalidi", "الخالدي"),
    ("Al-Saleh", "الصالح"), ("Al-Sayari", "السياري"), ("Al-Rajhi", "الراجحي"),
]  # fmt: skip
COMPANY = [
    ("Noor Trading", "مؤسسة النور للتجارة"), ("Rawabi Logistics", "روابي للخدمات اللوجستية"),
    ("Sahara Contracting", "شركة الصحراء للمقاولات"), ("Najd Rent a Car", "نجد لتأجير السيارات"),
    ("Gulf Fleet", "أسطول الخليج"), ("Waha Transport", "الواحة للنقل"),
]  # fmt: skip
CARS = [("Toyota", "Camry"), ("Toyota", "Hilux"), ("Toyota", "Land Cruiser"),
        ("Hyundai", "Accent"), ("Hyundai", "Elantra"), ("Nissan", "Patrol"),
        ("Nissan", "Sunny"), ("Kia", "Cerato"), ("Ford", "Taurus"), ("Chevrolet", "Tahoe"),
        ("GMC", "Yukon"), ("Lexus", "LX 600")]  # fmt: skip
PLATE_LETTERS = "ABJDRSXTEGKLZNHUV"
SERVICES = [("SRV-OIL", "Oil change", "تغيير الزيت", "120"), ("SRV-BRK", "Brake service",
            "صيانة الفرامل", "180"), ("SRV-AC", "A/C service", "صيانة المكيف", "250")]  # fmt: skip
PARTS = [("PRT-FLT", "Oil filter", "فلتر زيت", "45"), ("PRT-PAD", "Brake pads", "فحمات فرامل",
         "220"), ("PRT-BAT", "Battery 70Ah", "بطارية", "390")]  # fmt: skip
# Of every 100 invoices: status, then how many of the 60 that go to Qoyod are in each sync state
# (the failed, unknown and collision ones are the retry queue).
INVOICE_STATUSES = ["paid"] * 72 + ["issued"] * 20 + ["partially_paid"] * 7 + ["void"]
QOYOD_STATES = ["draft_created"] * 95 + ["ready"] * 2 + ["failed"] * 2 + ["unknown"]
# Jobs without an invoice, per 1,000 invoices, over the last so many days: cancelled, completed
# and waiting for their invoice (Needs Invoice), open.
JOBS_WITHOUT_INVOICE = [(10, 730, "cancelled"), (10, 30, "pending"), (5, 7, "open")]
CUSTOMERS_PER_INVOICE = 0.25
TRANSACTIONS_PER_INVOICE = 0.2
VAT = Decimal("0.15")
CENT = Decimal("0.01")


def plate(n: int) -> tuple[str, str]:
    """The n-th plate (unique for n below 9999 × 17³): printed "1234 ABJ" and its key."""
    digits = str(n % 9999 + 1)
    rest = n // 9999
    letters = "".join(PLATE_LETTERS[(rest // 17**i + n) % 17] for i in range(3))
    return f"{digits} {letters}", digits + letters


def seed_chain(*, invoices: int, progress: Callable[[str], None] = print) -> None:
    """Seed a chain of 20 branches with `invoices` invoices and everything around them.

    Refuses a database that already holds invoices: seed a fresh one.
    """
    from django.db import connection, transaction

    from invoicing.models import Invoice

    if Invoice.objects.exists():
        sys.exit("the database already holds invoices: seed a fresh one")
    started = time.perf_counter()
    rng = random.Random(SEED)
    now = datetime.datetime.now(datetime.UTC)
    today = now.date()
    with transaction.atomic():
        loader = _Loader(connection.connection, now)
        _chain(loader, rng, invoices=invoices, today=today, now=now)
        loader.finish()
    progress(
        f"seeded {invoices} invoices ({loader.summary()}) in {time.perf_counter() - started:.1f} s"
    )


class _Loader:
    """COPY rows into a model's table with explicit ids; defaults fill the columns not given."""

    def __init__(self, raw: Any, now: datetime.datetime) -> None:
        self.raw = raw
        self.now = now
        self.counts: dict[str, int] = {}
        self.models: list[Any] = []
        self.rng = random.Random(SEED + 1)

    def next_id(self, model: Any) -> int:
        table = model._meta.db_table
        with self.raw.cursor() as cursor:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')
            return cursor.fetchone()[0]

    def copy(self, model: Any, rows: Iterable[dict[str, Any]]) -> None:
        from django.db import models
        from psycopg.types.json import Jsonb

        fields = model._meta.concrete_fields
        columns = ", ".join(f'"{f.column}"' for f in fields)
        constant: dict[str, Any] = {}
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                constant[f.attname] = self.now
            elif f.has_default() and not callable(f.default):
                constant[f.attname] = f.default
            elif f.has_default():
                constant[f.attname] = None if f.default is uuid.uuid4 else f.get_default()
            elif f.null:
                constant[f.attname] = None
            else:
                constant[f.attname] = ""
        json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
        uuid_fields = {f.attname for f in fields if f.has_default() and f.default is uuid.uuid4}
        count = 0
        with self.raw.cursor() as cursor:
            sql = f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN'
            with cursor.copy(sql) as copy:
                for row in rows:
                    values = []
                    for f in fields:
                        value = row.get(f.attname, constant[f.attname])
                        if f.attname in json_fields:
                            value = Jsonb(value)
                        elif f.attname in uuid_fields and value is None:
                            value = uuid.UUID(int=self.rng.getrandbits(128), version=4)
                        values.append(value)
                    copy.write_row(values)
                    count += 1
        self.counts[model._meta.label] = self.counts.get(model._meta.label, 0) + count
        self.models.append(model)

    def finish(self) -> None:
        with self.raw.cursor() as cursor:
            for model in dict.fromkeys(self.models):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT MAX(id) FROM "{table}"))'
                )

    def summary(self) -> str:
        return ", ".join(f"{n} {label.split('.')[1]}" for label, n in self.counts.items())


def _chain(
    loader: _Loader,
    rng: random.Random,
    *,
    invoices: int,
    today: datetime.date,
    now: datetime.datetime,
) -> None:
    from accounting.models import Transaction
    from core.models import Sequence
    from garage.models import Branch, Customer, JobCard, JobLine, ServiceItem, SparePart, Vehicle
    from invoicing.models import Invoice, InvoiceLine
    from payments.models import QoyodPaymentState
    from qoyod_sync.models import QoyodInvoiceSync

    user = admin_user()
    first_branch = loader.next_id(Branch)
    branches = list(range(first_branch, first_branch + len(BRANCHES)))
    loader.copy(
        Branch,
        (
            {"id": pk, "code": code, "name_en": en, "name_ar": ar}
            for pk, (code, en, ar) in zip(branches, BRANCHES, strict=True)
        ),
    )
    service_id, part_id = loader.next_id(ServiceItem), loader.next_id(SparePart)
    loader.copy(
        ServiceItem,
        (
            {"id": service_id + i, "code": code, "name_en": en, "name_ar": ar,
             "default_price": Decimal(price)}
            for i, (code, en, ar, price) in enumerate(SERVICES)
        ),
    )  # fmt: skip
    loader.copy(
        SparePart,
        (
            {"id": part_id + i, "sku": sku, "name_en": en, "name_ar": ar,
             "sale_price": Decimal(price), "cost": Decimal(price) / 2}
            for i, (sku, en, ar, price) in enumerate(PARTS)
        ),
    )  # fmt: skip

    # Customers: one in seven a company with a VAT number; a quarter of the people gave only an
    # Arabic name.
    customer_count = max(10, int(invoices * CUSTOMERS_PER_INVOICE))
    first_customer = loader.next_id(Customer)
    customers: list[tuple[str, str, str, str]] = []  # name_en, name_ar, phone, vat
    for n in range(customer_count):
        company = n % 7 == 3
        if company:
            en, ar = COMPANY[n % len(COMPANY)]
            en, ar = f"{en} {n}", f"{ar} {n}"
            vat = f"3{n:013d}3"
        else:
            first_en, first_ar = FIRST[rng.randrange(len(FIRST))]
            family_en, family_ar = FAMILY[rng.randrange(len(FAMILY))]
            father_en, father_ar = FIRST[n % len(FIRST)]
            en = f"{first_en} {father_en} {family_en}" if n % 4 else ""
            ar = f"{first_ar} {father_ar} {family_ar}"
            vat = ""
        customers.append((en, ar, f"+9665{n * 7919 % 100_000_000:08d}", vat))
    loader.copy(
        Customer,
        (
            {"id": first_customer + n, "name_en": en, "name_ar": ar, "phone": phone,
             "vat_number": vat, "kind": "company" if vat else "individual",
             "city": BRANCHES[n % len(BRANCHES)][1]}
            for n, (en, ar, phone, vat) in enumerate(customers)
        ),
    )  # fmt: skip

    # Vehicles: one per customer, a second for every fifth (a family's, a fleet's).
    vehicles: list[tuple[int, str, str, str]] = []  # customer index, plate, key, description
    for n in range(customer_count):
        for _extra in range(2 if n % 5 == 0 else 1):
            make, model = CARS[rng.randrange(len(CARS))]
            printed, key = plate(len(vehicles))
            vehicles.append((n, printed, key, f"{make} {model}"))
    first_vehicle = loader.next_id(Vehicle)
    loader.copy(
        Vehicle,
        (
            {"id": first_vehicle + v, "customer_id": first_customer + c,
             "make": d.split(" ", 1)[0], "model": d.split(" ", 1)[1], "plate_number": printed,
             "plate_key": key, "year": 2010 + v % 15}
            for v, (c, printed, key, d) in enumerate(vehicles)
        ),
    )  # fmt: skip
    by_customer: dict[int, list[int]] = {}
    for v, (c, *_rest) in enumerate(vehicles):
        by_customer.setdefault(c, []).append(v)

    # Jobs: one per invoice over two years, and without one: a few cancelled all along, the
    # completed ones of the last month waiting for their invoice (Needs Invoice), and the open
    # ones of the last week. The job of a void invoice is cancelled, so Needs Invoice holds
    # only the waiting ones, whichever way a checkout finds them.
    timeline = [(730 - i * 730 // invoices, "invoiced") for i in range(invoices)]
    for share, span, kind in JOBS_WITHOUT_INVOICE:
        count = max(1, invoices * share // 1000)
        timeline += [(span - k * span // count, kind) for k in range(count)]
    timeline.sort(key=lambda entry: -entry[0])
    jobs: list[tuple[int, int, int, datetime.date, str]] = []  # branch, cust, vehicle, day, kind
    for j, (days_ago, kind) in enumerate(timeline):
        c = rng.randrange(customer_count)
        v = by_customer[c][j % len(by_customer[c])]
        day = today - datetime.timedelta(days=days_ago)
        jobs.append((branches[j % len(branches)], c, v, day, kind))
    job_count = len(jobs)
    first_job = loader.next_id(JobCard)
    invoiced_jobs = [j for j, row in enumerate(jobs) if row[4] == "invoiced"]
    voids = {j for i, j in enumerate(invoiced_jobs) if INVOICE_STATUSES[i * 37 % 100] == "void"}
    statuses = {"invoiced": "completed", "pending": "completed", "open": "open"}
    numbering: dict[int, int] = {}

    def job_rows() -> Iterator[dict[str, Any]]:
        for j, (branch, c, v, day, kind) in enumerate(jobs):
            numbering[day.year] = numbering.get(day.year, 0) + 1
            when = datetime.datetime.combine(day, datetime.time(9), datetime.UTC)
            yield {
                "id": first_job + j, "number": f"JOB-{day.year}-{numbering[day.year]:07d}",
                "branch_id": branch, "customer_id": first_customer + c,
                "vehicle_id": first_vehicle + v,
                "status": "cancelled" if j in voids else statuses.get(kind, kind),
                "complaint": "Noise when braking / صوت عند الفرملة", "odometer_in": 20_000 + j,
                "created_by_id": user.pk, "created_at": when,
                "completed_at": when + datetime.timedelta(hours=5)
                if kind in ("invoiced", "pending") else None,
                "invoice_pending": kind == "pending",
            }  # fmt: skip

    loader.copy(JobCard, job_rows())
    first_job_line = loader.next_id(JobLine)
    loader.copy(
        JobLine,
        (
            row
            for j in range(job_count)
            for row in (
                {"id": first_job_line + 2 * j, "job_id": first_job + j, "kind": "service",
                 "service_item_id": service_id + j % 3, "description": SERVICES[j % 3][1],
                 "quantity": Decimal("1"), "unit_price": Decimal(SERVICES[j % 3][3])},
                {"id": first_job_line + 2 * j + 1, "job_id": first_job + j, "kind": "part",
                 "spare_part_id": part_id + j % 3, "description": PARTS[j % 3][1],
                 "quantity": Decimal("1"), "unit_price": Decimal(PARTS[j % 3][3])},
            )
        ),
    )  # fmt: skip

    # Invoices, numbered per year in issue order, each with the two lines of its job.
    first_invoice = loader.next_id(Invoice)
    sequences: dict[int, int] = {}
    qoyod: list[tuple[int, str, str]] = []  # invoice id, sync state, invoice status
    lines: list[dict[str, Any]] = []

    # Asked before the COPY: a connection runs nothing else while one is open.
    first_line = loader.next_id(InvoiceLine)

    def invoice_rows() -> Iterator[dict[str, Any]]:
        for i, j in enumerate(invoiced_jobs):
            branch, c, v, day, _status = jobs[j]
            en, ar, phone, vat = customers[c]
            _cv, printed, _key, description = vehicles[v]
            sequences[day.year] = sequences.get(day.year, 0) + 1
            status = INVOICE_STATUSES[i * 37 % 100]
            service, part = SERVICES[j % 3], PARTS[j % 3]
            net = Decimal(service[3]) + Decimal(part[3])
            tax = (net * VAT).quantize(CENT)
            total = net + tax
            paid = {"paid": total, "partially_paid": (total / 2).quantize(CENT)}.get(
                status, Decimal("0.00")
            )
            requires = i % 5 < 3
            state = QOYOD_STATES[i * 53 % 100] if requires else ""
            pk = first_invoice + i
            if state:
                qoyod.append((pk, state, status))
            for position, (kind, item, item_id) in enumerate(
                [("service", service, service_id + j % 3), ("part", part, part_id + j % 3)],
                start=1,
            ):
                price = Decimal(item[3])
                lines.append(
                    {"id": first_line + len(lines), "invoice_id": pk, "position": position,
                     "kind": kind, "service_item_id": item_id if kind == "service" else None,
                     "spare_part_id": item_id if kind == "part" else None,
                     "description_en": item[1], "description_ar": item[2],
                     "quantity": Decimal("1"), "unit_price": price, "vat_rate": VAT,
                     "line_net": price, "line_vat": (price * VAT).quantize(CENT),
                     "line_total": price + (price * VAT).quantize(CENT)}
                )  # fmt: skip
            yield {
                "id": pk, "number": f"INV-{day.year}-{sequences[day.year]:06d}",
                "job_id": first_job + j, "branch_id": branch, "customer_id": first_customer + c,
                "vehicle_id": first_vehicle + v, "customer_name": en or ar,
                "customer_name_ar": ar, "customer_phone": phone, "customer_vat_number": vat,
                "vehicle_description": description, "vehicle_plate": printed,
                "issue_date": day, "due_date": day + datetime.timedelta(days=30),
                "net_total": net, "vat_total": tax, "total": total, "amount_paid": paid,
                "balance": total - paid, "status": status, "requires_qoyod": requires,
                "qoyod_managed": state == "draft_created",
                "void_reason": "Wrong customer" if status == "void" else "",
                "created_by_id": user.pk,
                "created_at": datetime.datetime.combine(day, datetime.time(15), datetime.UTC),
            }  # fmt: skip

    loader.copy(Invoice, invoice_rows())
    loader.copy(InvoiceLine, lines)
    for year, last in sequences.items():
        Sequence.objects.update_or_create(name="invoice", year=year, defaults={"last_value": last})
    for year, last in numbering.items():
        Sequence.objects.update_or_create(name="job", year=year, defaults={"last_value": last})

    first_sync = loader.next_id(QoyodInvoiceSync)
    loader.copy(
        QoyodInvoiceSync,
        (
            {"id": first_sync + n, "invoice_id": pk, "state": state,
             "qoyod_invoice_id": 500_000 + n if state == "draft_created" else None,
             "attempts": 0 if state == "ready" else 1,
             "last_attempt_at": None if state == "ready"
             else now - datetime.timedelta(hours=n % 900),
             "last_attempt_by_id": None if state == "ready" else user.pk,
             "failure_kind": "rejected" if state == "failed" else "",
             "reason_code": "send.rejected" if state == "failed" else "",
             "reason_params": {"status": 422} if state == "failed" else {},
             "qoyod_message": "Contact is not valid" if state == "failed" else ""}
            for n, (pk, state, _status) in enumerate(qoyod)
        ),
    )  # fmt: skip
    # Qoyod-managed invoices read back within the last day, the open ones more recently.
    first_state = loader.next_id(QoyodPaymentState)
    words = {"paid": "paid", "partially_paid": "partially_paid", "issued": "approved"}
    loader.copy(
        QoyodPaymentState,
        (
            {"id": first_state + n, "invoice_id": pk, "qoyod_status": words.get(status, "draft"),
             "refreshed_at": now - datetime.timedelta(minutes=n % 1440),
             "checked_at": now - datetime.timedelta(minutes=n % 1440)}
            for n, (pk, state, status) in enumerate(qoyod)
            if state == "draft_created"
        ),
    )  # fmt: skip

    count = int(invoices * TRANSACTIONS_PER_INVOICE)
    first_transaction = loader.next_id(Transaction)
    payees = ["SASCO", "Aldrees", "Jarir", "Panda", "STC", "Saudi Electricity", "Bin Dawood"]

    def transaction_rows() -> Iterator[dict[str, Any]]:
        for t in range(count):
            day = today - datetime.timedelta(days=730 - t * 730 // max(1, count))
            amount = Decimal(20 + t * 7 % 980) + Decimal(t % 100) / 100
            money_in = t % 10 == 0
            state = ("synced", "synced", "synced", "not_synced", "failed")[t % 5]
            yield {
                "id": first_transaction + t, "number": f"TRX-{day.year}-{t + 1:07d}",
                "kind": "cash_in" if money_in else "expense",
                "direction": "in" if money_in else "out", "date": day, "amount": amount,
                "vat_amount": (amount * Decimal("0.13")).quantize(CENT),
                "payee": payees[t % len(payees)], "description": f"Fuel and supplies {t}",
                "branch_id": branches[t % len(branches)], "created_by_id": user.pk,
                "state": state, "qoyod_entry_id": 900_000 + t if state == "synced" else None,
                "verified_at": now if t % 3 else None,
                "verified_by_id": user.pk if t % 3 else None,
            }  # fmt: skip

    loader.copy(Transaction, transaction_rows())
