"""Demo data for a trial install: branches, a user per role, customers, catalogue, jobs.

Idempotent: every object is looked up by a natural key first, so running it again changes
nothing. The demo password is printed because this is for trials only, and the command refuses
to run with DEBUG off: the users it creates, a superuser among them, share one published
password.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import roles
from garage import services
from garage.models import Branch, Customer, JobCard, JobLine, PartStock, ServiceItem, SparePart
from qoyod_sync.models import QoyodConnection
from qoyod_sync.services import connection_save

DEMO_PASSWORD = "demo12345"
# Any key opens a company in the built-in sandbox; this one is for the demo only.
DEMO_QOYOD_KEY = "demo0000000000000000qoyod"
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


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="Run even though DEBUG is off (a staging or demo server).",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["not_production"]:
            raise CommandError(
                "seed_demo creates demo users with a published password, a superuser among "
                "them, and DEBUG is off, so this looks like production. Nothing was written. "
                "On a demo or staging server run it with --i-know-this-is-not-production."
            )
        self._seed()

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
        for part in parts:
            for branch in branches:
                if not PartStock.objects.filter(part=part, branch=branch).exists():
                    services.stock_adjust(
                        part=part, branch=branch, quantity=Decimal("20"),
                        reason="demo opening stock", user=users["admin"],
                    )  # fmt: skip
        customers = self._customers()
        if not JobCard.objects.exists():
            self._jobs(branches, customers, service_items, parts, users)
        self._qoyod_sandbox(users["finance"])
        self._print_logins()

    def _qoyod_sandbox(self, user: User) -> None:
        # Qoyod: the built-in sandbox (labelled Sandbox in the UI). Nothing is called here, the
        # sandbox may not be running yet: warehouses and defaults are read on the first Test
        # connection or the first send.
        if not QoyodConnection.objects.exists():
            connection_save(base_url=settings.QOYOD_SANDBOX_URL, api_key=DEMO_QOYOD_KEY, user=user)

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
        for customer_index, branch_index, status, lines in plans:
            customer = customers[customer_index]
            job = services.jobcard_create(
                branch=branches[branch_index], customer=customer,
                vehicle=customer.vehicles.first(), technician=tech,
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

    def _print_logins(self) -> None:
        self.stdout.write("Demo data ready. Logins (demo only), password " + DEMO_PASSWORD + ":")
        for username, _first, _last, role in USERS:
            self.stdout.write(f"  {username:<11} {role}")
