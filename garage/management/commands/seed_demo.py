"""Demo data for a trial install: branches, a user per role, customers, catalogue, jobs.

Idempotent: every object is looked up by a natural key first, so running it again changes
nothing. The demo password is printed because this is for trials only, and the command refuses
to run with DEBUG off: the users it creates, a superuser among them, share one published
password.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounting.demo import (
    demo_accounting_seed,
    demo_transactions_seed,
    demo_transactions_sync,
)
from api.models import ApiClient, Scope
from api.services import apiclient_create, apiclient_demo_token, token_join
from core import roles
from core.money import to_money
from garage import services
from garage.models import Branch, Customer, JobCard, JobLine, PartStock, ServiceItem, SparePart
from garage.tax import TaxCategory
from invoicing.models import FINANCE_QUEUE, Invoice
from invoicing.processing import invoice_mark_failed, invoice_mark_processed
from invoicing.services import invoice_create, invoice_prefill, invoice_void_and_reissue
from payments.models import Payment
from payments.services import payment_record
from qoyod_sync.demo import PLAN as QOYOD_PLAN
from qoyod_sync.demo import demo_qoyod_seed, demo_sandbox
from qoyod_sync.models import PaymentMethod, QoyodConnection, QoyodInvoiceSync
from qoyod_sync.sandbox import SandboxServer
from qoyod_sync.services import connection_mappings_save, connection_save

DEMO_PASSWORD = "demo12345"
# `make run` starts the sandbox with --accept-any-key, so this key opens its company there.
DEMO_QOYOD_KEY = "demo0000000000000000qoyod"
# The sandbox chart's sales and cost of goods sold accounts (qoyod_sync/sandbox/chart.py).
DEMO_SALES_ACCOUNT, DEMO_COGS_ACCOUNT = 17, 12
USERS = [
    ("advisor", "Sara", "Al-Qahtani", roles.ADVISOR),
    ("technician", "Khalid", "Al-Harbi", roles.TECHNICIAN),
    ("accountant", "Noura", "Al-Otaibi", roles.ACCOUNTANT),
    ("finance", "Faisal", "Al-Dosari", roles.FINANCE_MANAGER),
    ("admin", "Admin", "", roles.ADMIN),
]
BRANCHES = [
    ("RUH", "Riyadh - Al Olaya", "الرياض - العليا"),
    ("JED", "Jeddah - Al Rawdah", "جدة - الروضة"),
]
SERVICES = [
    ("OIL-CHG", "Oil change (labour)", "تغيير الزيت (أجور)", "60.00"),
    ("BRK-SVC", "Brake service", "صيانة الفرامل", "180.00"),
    ("AC-CHK", "A/C inspection", "فحص المكيف", "120.00"),
    ("DIAG", "Computer diagnostics", "فحص كمبيوتر", "150.00"),
    ("WHL-ALN", "Wheel alignment", "ضبط زوايا", "100.00"),
]
PARTS = [
    ("TOY-04152-YZZA1", "Oil filter (Toyota)", "فلتر زيت تويوتا", "35.00", "18.00"),
    ("MOB-5W30-4L", "Engine oil 5W-30 4L", "زيت محرك 5W-30 ٤ لتر", "140.00", "95.00"),
    ("BRK-PAD-FR-CAM", "Front brake pads (Camry)", "فحمات فرامل أمامية كامري", "220.00", "140.00"),
    ("AIR-FLT-HYU", "Air filter (Hyundai)", "فلتر هواء هيونداي", "55.00", "30.00"),
    ("WPR-BLD-24", "Wiper blade 24in", "مساحة زجاج ٢٤ بوصة", "45.00", "20.00"),
]
CUSTOMERS = [
    # name_en, name_ar, kind, phone, vat, vehicle (make, model, year, colour, plate)
    ("Mohammed Al-Shehri", "محمد الشهري", "individual", "0551234567", "",
     ("Toyota", "Camry", 2021, "White", "1234 ABJ")),
    ("Abdullah Al-Ghamdi", "عبدالله الغامدي", "individual", "0509876543", "",
     ("Hyundai", "Elantra", 2019, "Silver", "5678 DRS")),
    ("Al-Noor Logistics Co.", "شركة النور للخدمات اللوجستية", "company", "0541112233",
     "310123456700003", ("Toyota", "Hilux", 2022, "White", "4321 KLN")),
    ("Reem Al-Zahrani", "ريم الزهراني", "individual", "0534445566", "",
     ("Nissan", "Patrol", 2020, "Black", "987 HXT")),
]  # fmt: skip
# The rest of the demo's customers, made from these (natural key: the English name).
FIRST_NAMES = [
    ("Fahad", "فهد"),
    ("Sultan", "سلطان"),
    ("Nasser", "ناصر"),
    ("Omar", "عمر"),
    ("Turki", "تركي"),
    ("Saad", "سعد"),
    ("Majed", "ماجد"),
    ("Yousef", "يوسف"),
    ("Hind", "هند"),
    ("Nora", "نورة"),
    ("Lama", "لمى"),
    ("Maha", "مها"),
]
FAMILY_NAMES = [
    ("Al-Mutairi", "المطيري"),
    ("Al-Anazi", "العنزي"),
    ("Al-Dossary", "الدوسري"),
    ("Al-Subaie", "السبيعي"),
    ("Al-Malki", "المالكي"),
    ("Al-Juhani", "الجهني"),
    ("Al-Harthi", "الحارثي"),
    ("Al-Qurashi", "القرشي"),
]
COMPANIES = [
    ("Riyadh Car Rental Co.", "شركة الرياض لتأجير السيارات", "Al Sulaimaniyah"),
    ("Dar Al-Bina Contracting", "شركة دار البناء للمقاولات", "Al Yasmin"),
    ("Jeddah Fresh Foods", "شركة جدة للأغذية الطازجة", "Al Hamra"),
    ("Al-Waha Facilities Management", "شركة الواحة لإدارة المرافق", "Al Rawdah"),
    ("Najd Transport Est.", "مؤسسة نجد للنقل", "Al Naseem"),
]
MODELS = [
    ("Toyota", "Land Cruiser"),
    ("Hyundai", "Accent"),
    ("Kia", "Sportage"),
    ("Chevrolet", "Tahoe"),
    ("Ford", "F-150"),
    ("Nissan", "Sunny"),
    ("Honda", "Accord"),
    ("Lexus", "ES 350"),
    ("GMC", "Yukon"),
    ("Mazda", "CX-5"),
    ("Toyota", "Corolla"),
]
COLOURS = ["White", "Silver", "Black", "Grey", "Blue", "Red"]
PLATE_LETTERS = "ABJDRSXTEGKLZNHUV"
JOBS = 60
# Of the generated jobs (after the first five), in creation order.
GENERATED_STATUSES = (
    [JobCard.Status.COMPLETED] * 38
    + [JobCard.Status.IN_PROGRESS] * 7
    + [JobCard.Status.OPEN] * 6
    + [JobCard.Status.CANCELLED] * 4
)
# The invoices of completed jobs here (the rest of the completed jobs wait in Needs Invoice).
LOCAL_PLAN = (
    ["issued"] * 6
    + ["counter_paid"] * 3
    + ["counter_partial"] * 2
    + ["processed"] * 2
    + ["finance_failed", "reissued"]
)
DEMO_FINANCE_SYSTEM = "Demo finance system"


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="Run even though DEBUG is off (a staging or demo server).",
        )
        parser.add_argument(
            "--sandbox-state",
            type=Path,
            metavar="FILE",
            help="make the demo's Qoyod invoices in every state through a sandbox keeping this "
            "file (the one `make run` starts its sandbox with)",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["not_production"]:
            raise CommandError(
                "seed_demo creates demo users with a published password, a superuser among "
                "them, and DEBUG is off, so this looks like production. Nothing was written. "
                "On a demo or staging server run it with --i-know-this-is-not-production."
            )
        self._seed()
        # After the demo's transaction: the chart may be read from the sandbox, and no
        # transaction is held open across a call to Qoyod.
        state = options["sandbox_state"]
        with demo_sandbox(state) if state else nullcontext() as server:
            origin = demo_accounting_seed(
                user=User.objects.get(username="finance"),
                petty_cash_branch=Branch.objects.get(code=BRANCHES[-1][0]),
            )
            self.stdout.write(f"Chart of accounts: {origin}")
            made = demo_transactions_seed(
                user=User.objects.get(username="finance"), branches=list(Branch.objects.all())
            )
            self.stdout.write(f"Demo transactions: {made}")
            self._qoyod_invoices(server, state)
            if server is not None:
                synced = demo_transactions_sync(
                    server=server, user=User.objects.get(username="accountant")
                )
                if synced:
                    self.stdout.write(
                        "Demo journal entries: " + ", ".join(f"{n} {k}" for k, n in synced.items())
                    )

    def _qoyod_invoices(self, server: SandboxServer | None, state: Path | None) -> None:
        if QoyodInvoiceSync.objects.exists():
            return
        if server is None:
            where = settings.QOYOD_SANDBOX_URL
            why = (
                "run with --sandbox-state"
                if state is None
                else f"a sandbox already runs at {where}"
            )
            self.stdout.write(f"Qoyod demo invoices: left ready to send ({why}).")
            return
        done = demo_qoyod_seed(
            server=server, api_key=DEMO_QOYOD_KEY,
            accountant=User.objects.get(username="accountant"),
            invoices=list(Invoice.objects.filter(requires_qoyod=True).order_by("id")),
        )  # fmt: skip
        self.stdout.write("Qoyod demo invoices: " + ", ".join(f"{n} {k}" for k, n in done.items()))

    @transaction.atomic
    def _seed(self) -> None:
        users = self._users()
        branches = [
            Branch.objects.get_or_create(code=c, defaults={"name_en": en, "name_ar": ar})[0]
            for c, en, ar in BRANCHES
        ]
        service_items = [
            ServiceItem.objects.get_or_create(
                code=code, defaults={"name_en": en, "name_ar": ar, "default_price": Decimal(p)}
            )[0]
            for code, en, ar, p in SERVICES
        ]
        parts = [
            SparePart.objects.get_or_create(
                sku=sku,
                defaults={"name_en": en, "name_ar": ar, "sale_price": Decimal(p),
                          "cost": Decimal(c)},
            )[0]
            for sku, en, ar, p, c in PARTS
        ]  # fmt: skip
        # A zero-rated part (medical equipment, VATEX-SA-35), to show a 0% line with its reason.
        parts.append(
            SparePart.objects.get_or_create(
                sku="MED-KIT-01",
                defaults={"name_en": "First aid kit", "name_ar": "حقيبة إسعافات أولية",
                          "sale_price": Decimal("85.00"), "cost": Decimal("50.00"),
                          "vat_rate": Decimal("0"), "tax_category": TaxCategory.ZERO_RATED,
                          "vat_exemption_code": "VATEX-SA-35"},
            )[0]
        )  # fmt: skip
        for part in parts:
            for branch in branches:
                if not PartStock.objects.filter(part=part, branch=branch).exists():
                    services.stock_adjust(
                        part=part, branch=branch, quantity=Decimal("200"),
                        reason="demo opening stock", user=users["admin"],
                    )  # fmt: skip
        customers = self._customers() + self._more_customers()
        if not JobCard.objects.exists():
            self._jobs(branches, customers, service_items, parts, users)
        if not Invoice.objects.exists():
            self._invoices(users)
        self._qoyod_sandbox(users["finance"])
        self._print_logins()
        if settings.DEBUG and settings.API_DEMO_TOKEN_SEED:
            self._api_client(users["admin"])

    def _api_client(self, user: User) -> None:
        # A finance system's client with every scope and a token derived from the demo seed, so
        # the README's curl lines work against any trial install; never with DEBUG off.
        public_id, secret = apiclient_demo_token(seed=settings.API_DEMO_TOKEN_SEED)
        if not ApiClient.objects.filter(public_id=public_id).exists():
            apiclient_create(
                name="Demo finance system", scopes=Scope.values, branch=None, expires_at=None,
                user=user, secret=secret, public_id=public_id,
            )  # fmt: skip
        self.stdout.write(f"Demo API token (demo only): {token_join(public_id, secret)}")
        self.stdout.write("  API docs: /api/docs/  ·  queue: /api/v1/invoices/unprocessed/")
        # The README's curl lines name it: its year is the demo's first day, not a fixed one.
        first = Invoice.objects.filter(FINANCE_QUEUE).order_by("finance_queued_at", "id").first()
        if first is not None:
            self.stdout.write(f"  first invoice in the queue: {first.number}")

    def _qoyod_sandbox(self, user: User) -> None:
        # Qoyod: the built-in sandbox (labelled Sandbox in the UI). Nothing is called here, the
        # sandbox may not be running yet: warehouses and defaults are read on the first Test
        # connection or the first send.
        connection = QoyodConnection.objects.first()
        if connection is None:
            connection = connection_save(
                base_url=settings.QOYOD_SANDBOX_URL, api_key=DEMO_QOYOD_KEY, user=user
            )
        # The choices a finance manager makes once, which every send's pre-flight requires;
        # kept if someone changed them in the demo since.
        if None in (connection.sales_account_id, connection.cogs_account_id,
                    connection.payment_method):  # fmt: skip
            connection_mappings_save(
                warehouses={}, tax_id=connection.tax_id, unit_id=connection.unit_id,
                category_id=connection.category_id,
                sales_account_id=connection.sales_account_id or DEMO_SALES_ACCOUNT,
                cogs_account_id=connection.cogs_account_id or DEMO_COGS_ACCOUNT,
                payment_method=connection.payment_method or PaymentMethod.CASH, user=user,
            )  # fmt: skip

    def _users(self) -> dict[str, User]:
        users = {}
        for username, first, last, role in USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = role == roles.ADMIN
                user.is_superuser = role == roles.ADMIN
                user.save()
            user.groups.add(Group.objects.get(name=role))
            users[username] = user
        return users

    def _customers(self) -> list[Customer]:
        result = []
        for name_en, name_ar, kind, phone, vat, vehicle in CUSTOMERS:
            customer = Customer.objects.filter(name_en=name_en).first()
            if customer is None:
                extra = {}
                if kind == "company":
                    extra = {"building_number": "7421", "street": "King Abdulaziz Road",
                             "district": "Al Malaz", "city": "Riyadh", "postal_code": "12831",
                             "cr_number": "1010456789"}  # fmt: skip
                customer = services.customer_create(
                    name_en=name_en, name_ar=name_ar, kind=kind, phone=phone, vat_number=vat,
                    city=extra.pop("city", "Riyadh"), **extra,
                )  # fmt: skip
                make, model, year, colour, plate = vehicle
                services.vehicle_create(
                    customer=customer, make=make, model=model, year=year, colour=colour,
                    plate_number=plate,
                )  # fmt: skip
            result.append(customer)
        return result

    def _jobs(self, branches, customers, service_items, parts, users) -> None:
        tech = users["technician"]
        plans = [
            # customer index, branch index, final status, [(kind, item, qty)]
            (0, 0, JobCard.Status.COMPLETED, [("service", service_items[0], 1),
                                              ("part", parts[0], 1), ("part", parts[1], 1)]),
            (2, 0, JobCard.Status.COMPLETED, [("service", service_items[1], 1),
                                              ("part", parts[2], 1)]),
            (1, 1, JobCard.Status.IN_PROGRESS, [("service", service_items[3], 1)]),
            (3, 0, JobCard.Status.OPEN, [("service", service_items[2], 1)]),
            (1, 0, JobCard.Status.CANCELLED, [("service", service_items[4], 1)]),
        ]  # fmt: skip
        for n, status in enumerate(GENERATED_STATUSES):
            lines = [("service", service_items[n % len(service_items)], 1)]
            if n % 3 != 2:
                lines.append(("part", parts[n % len(parts)], 1 + n % 2))
            plans.append((4 + n % (len(customers) - 4), n % 2, status, lines))
        completed = 0
        for number, (customer_index, branch_index, status, lines) in enumerate(plans):
            customer = customers[customer_index]
            vehicles = list(customer.vehicles.all())
            job = services.jobcard_create(
                branch=branches[branch_index], customer=customer,
                vehicle=vehicles[number % len(vehicles)], technician=tech,
                complaint="Routine service and inspection", created_by=users["advisor"],
            )  # fmt: skip
            for kind, item, qty in lines:
                services.jobline_add(
                    job=job, kind=JobLine.Kind(kind), item=item, quantity=Decimal(qty)
                )
            if status == JobCard.Status.IN_PROGRESS:
                services.jobcard_start(job=job, user=tech)
            elif status == JobCard.Status.COMPLETED:
                services.jobcard_complete(job=job, user=tech)
            elif status == JobCard.Status.CANCELLED:
                services.jobcard_cancel(job=job, user=users["advisor"])
            completed += status == JobCard.Status.COMPLETED
            self._backdate(
                job, days_ago=max(0, 45 - completed - number // 4),
                completed=status == JobCard.Status.COMPLETED,
            )  # fmt: skip

    def _backdate(self, job: JobCard, *, days_ago: int, completed: bool) -> None:
        # Several weeks of work for the lists and filters. The demo only: nothing else rewrites
        # when a job happened.
        at = timezone.now() - timedelta(days=days_ago)
        JobCard.objects.filter(pk=job.pk).update(
            created_at=at - timedelta(hours=3),
            completed_at=at if completed else None,
        )
        job.history.update(changed_at=at)

    def _more_customers(self) -> list[Customer]:
        # Two rounds of first names over the family names: 24 people, no name twice.
        people = [
            (f"{first} {family}", f"{first_ar} {family_ar}", None)
            for shift in (0, 3)
            for i, (first, first_ar) in enumerate(FIRST_NAMES)
            for family, family_ar in [FAMILY_NAMES[(i + shift) % len(FAMILY_NAMES)]]
        ]
        rows = people + [(en, ar, district) for en, ar, district in COMPANIES]
        result = []
        for index, (name_en, name_ar, district) in enumerate(rows, start=1):
            customer = Customer.objects.filter(name_en=name_en).first()
            if customer is None:
                customer = self._customer(index, name_en, name_ar, district)
            result.append(customer)
        return result

    def _customer(self, index: int, name_en: str, name_ar: str, district: str | None) -> Customer:
        extra = {}
        if district is not None:
            extra = {
                "kind": Customer.Kind.COMPANY, "vat_number": f"3{index:013d}3",
                "cr_number": f"10104{index:05d}", "building_number": f"{7000 + index}",
                "street": "King Fahd Road", "district": district,
                "postal_code": f"{12200 + index}",
            }  # fmt: skip
        customer = services.customer_create(
            name_en=name_en, name_ar=name_ar, phone=f"055{index * 7919 % 10**7:07d}",
            city="Jeddah" if index % 3 == 0 else "Riyadh", **extra,
        )  # fmt: skip
        for k in range(1 + (index % 3 == 0)):
            make, model = MODELS[(index + k) % len(MODELS)]
            letters = "".join(
                PLATE_LETTERS[(index * 5 + k + j * 3) % len(PLATE_LETTERS)] for j in range(3)
            )
            services.vehicle_create(
                customer=customer, make=make, model=model, year=2015 + (index + k) % 10,
                colour=COLOURS[(index + k) % len(COLOURS)],
                plate_number=f"{1000 + index * 37 + k * 11} {letters}",
            )  # fmt: skip
        return customer

    def _invoices(self, users: dict[str, User]) -> None:
        """An invoice for all but the last few completed jobs: LOCAL_PLAN and qoyod_sync.demo.PLAN
        taken in turn, oldest job first; the first is the README's INV-…-000001 (270.25)."""
        jobs = list(JobCard.objects.filter(status=JobCard.Status.COMPLETED).order_by("id"))
        local, qoyod = list(LOCAL_PLAN), list(QOYOD_PLAN)
        for index, job in enumerate(jobs[: len(local) + len(qoyod)]):
            use_local = bool(local) and (index % 2 == 0 or not qoyod)
            plan = local.pop(0) if use_local else qoyod.pop(0)
            issued = timezone.localtime(job.completed_at).date()
            invoice = invoice_create(
                job=job, customer=job.customer, vehicle=job.vehicle,
                lines=invoice_prefill(job=job), issue_date=issued,
                due_date=issued + timedelta(days=settings.INVOICE_PAYMENT_TERM_DAYS),
                requires_qoyod=not use_local, user=users["advisor"],
            )  # fmt: skip
            if use_local:
                self._local(invoice, plan, users)

    def _local(self, invoice: Invoice, plan: str, users: dict[str, User]) -> None:
        cashier = users["advisor"]
        if plan in ("counter_paid", "counter_partial"):
            amount = invoice.total if plan == "counter_paid" else to_money(invoice.total / 3)
            payment_record(
                invoice=invoice, method=Payment.Method.CASH, amount=amount,
                paid_on=invoice.issue_date, user=cashier,
            )  # fmt: skip
        elif plan == "processed":
            invoice_mark_processed(
                invoice=invoice, reference=f"ERP-{900 + invoice.pk}", client=DEMO_FINANCE_SYSTEM
            )
        elif plan == "finance_failed":
            invoice_mark_failed(
                invoice=invoice, reason="Customer account is blocked in the ERP",
                client=DEMO_FINANCE_SYSTEM,
            )  # fmt: skip
        elif plan == "reissued":
            invoice_void_and_reissue(
                invoice=invoice, reason="Wrong mileage on the invoice", user=users["accountant"]
            )

    def _print_logins(self) -> None:
        self.stdout.write("Demo data ready. Logins (demo only), password " + DEMO_PASSWORD + ":")
        for username, _first, _last, role in USERS:
            self.stdout.write(f"  {username:<11} {role}")
