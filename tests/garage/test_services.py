from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core import roles
from core.models import Sequence
from garage import services
from garage.models import (
    Customer,
    JobCard,
    JobLine,
    JobStatusChange,
    PartStock,
    ServiceItem,
    StockMovement,
    Vehicle,
)
from tests.factories import (
    BranchFactory,
    CustomerFactory,
    JobCardFactory,
    PartLineFactory,
    PartStockFactory,
    ServiceItemFactory,
    ServiceLineFactory,
    SparePartFactory,
    UserFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

Status = JobCard.Status


def _stock(part, branch) -> Decimal:
    return PartStock.objects.get(part=part, branch=branch).quantity


def _history(job: JobCard) -> list[tuple[str, str]]:
    return list(job.history.values_list("from_status", "to_status"))


# Customers and vehicles


def test_customer_create_normalises_phone_and_vat_number():
    customer = services.customer_create(
        kind=Customer.Kind.COMPANY,
        name_en="Al Noor Trading",
        name_ar="مؤسسة النور",
        phone="٠٥٥ ١٢٣ ٤٥٦٧",
        vat_number="310 1234 5678 9003",
        building_number="١٢٣٤",
    )

    customer.refresh_from_db()
    assert (customer.phone, customer.vat_number, customer.building_number) == (
        "+966551234567",
        "310123456789003",
        "1234",
    )


def test_customer_with_only_an_arabic_name_is_accepted():
    customer = services.customer_create(name_en="", name_ar="محمد العتيبي", phone="0551234567")

    assert customer.name_ar == "محمد العتيبي"
    assert customer.name_en == ""


def test_company_customer_without_vat_number_is_rejected_and_not_saved():
    with pytest.raises(ValidationError) as exc:
        services.customer_create(
            kind=Customer.Kind.COMPANY, name_en="Acme", phone="0551234567", vat_number=""
        )

    assert exc.value.message_dict == {"vat_number": ["A company customer needs a VAT number."]}
    assert Customer.objects.count() == 0


def test_vehicle_create_stores_an_arabic_plate_in_latin_form():
    vehicle = services.vehicle_create(
        customer=CustomerFactory(), make="Toyota", model="Hilux", plate_number="١٢٣٤ ا ب ح"
    )

    vehicle.refresh_from_db()
    assert (vehicle.plate_number, vehicle.plate_key) == ("1234 ABJ", "1234ABJ")


def test_vehicle_with_a_plate_already_registered_in_the_other_script_is_rejected():
    VehicleFactory(plate_number="1234 ABJ")

    with pytest.raises(ValidationError) as exc:
        services.vehicle_create(
            customer=CustomerFactory(), make="Kia", model="Rio", plate_number="ا ب ح ١٢٣٤"
        )

    assert list(exc.value.message_dict) == ["plate_number"]
    assert Vehicle.objects.count() == 1


def _customer_details(customer: Customer) -> dict[str, str]:
    return {
        "kind": customer.kind, "name_en": customer.name_en, "name_ar": customer.name_ar,
        "phone": customer.phone, "email": customer.email, "vat_number": customer.vat_number,
        "cr_number": customer.cr_number, "building_number": customer.building_number,
        "street": customer.street, "district": customer.district, "city": customer.city,
        "postal_code": customer.postal_code,
    }  # fmt: skip


def test_customer_update_replaces_every_detail_and_normalises_again():
    customer = CustomerFactory(name_en="Old name", email="old@example.com", city="Jeddah")

    services.customer_update(
        customer=customer, kind=Customer.Kind.COMPANY, name_en="Al Noor Trading",
        name_ar="مؤسسة النور", phone="٠٥٥ ١٢٣ ٤٥٦٧", email="", vat_number="310 1234 5678 9003",
        cr_number="١٠١٠٤٥٦٧٨٩", building_number="٧٤٢١", street="King Fahd Road",
        district="Al Olaya", city="Riyadh", postal_code="١٢٢١١",
    )  # fmt: skip

    customer.refresh_from_db()
    assert _customer_details(customer) == {
        "kind": "company", "name_en": "Al Noor Trading", "name_ar": "مؤسسة النور",
        "phone": "+966551234567", "email": "", "vat_number": "310123456789003",
        "cr_number": "1010456789", "building_number": "7421", "street": "King Fahd Road",
        "district": "Al Olaya", "city": "Riyadh", "postal_code": "12211",
    }  # fmt: skip


def test_customer_update_refused_without_any_name_changes_nothing():
    customer = CustomerFactory(name_en="Kept", name_ar="")
    before = _customer_details(customer)

    with pytest.raises(ValidationError) as exc:
        services.customer_update(
            customer=customer, kind=customer.kind, name_en="", name_ar="", phone=customer.phone,
            email="", vat_number="", cr_number="", building_number="", street="", district="",
            city="", postal_code="",
        )  # fmt: skip

    assert exc.value.message_dict == {
        "name_en": ["Enter the customer's name in English or Arabic."]
    }
    customer.refresh_from_db()
    assert _customer_details(customer) == before


def test_vehicle_update_moves_the_vehicle_and_stores_the_plate_in_latin_form():
    vehicle = VehicleFactory(plate_number="1111 AAA")
    new_owner = CustomerFactory()

    services.vehicle_update(
        vehicle=vehicle, customer=new_owner, plate_number="ا ب ح ٩٨٧٦", make="Nissan",
        model="Patrol", year=2021, colour="White", vin="", odometer=54000,
    )  # fmt: skip

    vehicle.refresh_from_db()
    assert (
        vehicle.customer_id, vehicle.plate_number, vehicle.plate_key, vehicle.make,
        vehicle.model, vehicle.year, vehicle.colour, vehicle.vin, vehicle.odometer,
    ) == (
        new_owner.pk, "9876 ABJ", "9876ABJ", "Nissan", "Patrol", 2021, "White", "", 54000
    )  # fmt: skip


def test_serviceitem_save_creates_then_changes_an_item():
    item = services.serviceitem_save(
        item=None, code="OIL", name_en="Oil change", default_price=Decimal("120.00")
    )
    assert (item.code, item.name_ar, item.vat_rate, item.is_active) == (
        "OIL", "", Decimal("0.15"), True
    )  # fmt: skip

    services.serviceitem_save(
        item=item, code="OIL-5W30", name_en="Oil change 5W-30", name_ar="تغيير زيت",
        default_price=Decimal("150.00"), vat_rate=Decimal("0"), is_active=False,
    )  # fmt: skip

    item.refresh_from_db()
    assert (item.code, item.name_en, item.name_ar, item.default_price, item.vat_rate,
            item.is_active) == ("OIL-5W30", "Oil change 5W-30", "تغيير زيت", Decimal("150.00"),
                                Decimal("0"), False)  # fmt: skip


def test_sparepart_save_refuses_a_negative_price_and_changes_nothing():
    part = SparePartFactory(sale_price=Decimal("40.00"))

    with pytest.raises(ValidationError) as exc:
        services.sparepart_save(
            part=part, sku=part.sku, name_en=part.name_en, sale_price=Decimal("-1.00")
        )

    assert list(exc.value.message_dict) == ["sale_price"]
    part.refresh_from_db()
    assert part.sale_price == Decimal("40.00")


# Job lifecycle


def test_job_lifecycle_open_start_complete_records_every_status():
    branch = BranchFactory()
    advisor = UserFactory(role=roles.ADVISOR)
    customer = CustomerFactory()
    vehicle = VehicleFactory(customer=customer, odometer=40000)

    job = services.jobcard_create(
        branch=branch,
        customer=customer,
        vehicle=vehicle,
        created_by=advisor,
        complaint="Oil change",
        odometer_in=41250,
    )
    services.jobline_add(
        job=job, kind=JobLine.Kind.SERVICE, item=ServiceItemFactory(), quantity=Decimal("1")
    )
    services.jobcard_start(job=job, user=advisor)
    job = services.jobcard_complete(job=job, user=advisor)

    job.refresh_from_db()
    vehicle.refresh_from_db()
    assert job.status == Status.COMPLETED
    assert job.completed_at is not None
    assert _history(job) == [("", "open"), ("open", "in_progress"), ("in_progress", "completed")]
    assert vehicle.odometer == 41250


def test_job_numbers_follow_a_yearly_sequence():
    branch = BranchFactory()
    vehicle = VehicleFactory()

    numbers = [
        services.jobcard_create(
            branch=branch, customer=vehicle.customer, vehicle=vehicle, created_by=None
        ).number
        for _ in range(3)
    ]

    year = Sequence.objects.get(name="job").year
    assert numbers == [f"JOB-{year}-000001", f"JOB-{year}-000002", f"JOB-{year}-000003"]


def test_job_with_a_vehicle_of_another_customer_is_rejected_and_nothing_is_written():
    vehicle = VehicleFactory()

    with pytest.raises(ValidationError) as exc:
        services.jobcard_create(
            branch=BranchFactory(), customer=CustomerFactory(), vehicle=vehicle, created_by=None
        )

    assert exc.value.message_dict == {"vehicle": ["This vehicle belongs to another customer."]}
    assert JobCard.objects.count() == 0
    assert JobStatusChange.objects.count() == 0
    assert Sequence.objects.count() == 0


def test_job_with_an_odometer_below_the_last_reading_is_rejected():
    vehicle = VehicleFactory(odometer=50000)

    with pytest.raises(ValidationError) as exc:
        services.jobcard_create(
            branch=BranchFactory(),
            customer=vehicle.customer,
            vehicle=vehicle,
            created_by=None,
            odometer_in=49999,
        )

    assert list(exc.value.message_dict) == ["odometer_in"]
    assert JobCard.objects.count() == 0


_TRANSITIONS = [
    # (current status, service, allowed, status after)
    (Status.OPEN, "jobcard_start", True, Status.IN_PROGRESS),
    (Status.OPEN, "jobcard_complete", True, Status.COMPLETED),
    (Status.OPEN, "jobcard_cancel", True, Status.CANCELLED),
    (Status.IN_PROGRESS, "jobcard_start", False, Status.IN_PROGRESS),
    (Status.IN_PROGRESS, "jobcard_complete", True, Status.COMPLETED),
    (Status.IN_PROGRESS, "jobcard_cancel", True, Status.CANCELLED),
    (Status.COMPLETED, "jobcard_start", False, Status.COMPLETED),
    (Status.COMPLETED, "jobcard_complete", False, Status.COMPLETED),
    (Status.COMPLETED, "jobcard_cancel", False, Status.COMPLETED),
    (Status.CANCELLED, "jobcard_start", False, Status.CANCELLED),
    (Status.CANCELLED, "jobcard_complete", False, Status.CANCELLED),
    (Status.CANCELLED, "jobcard_cancel", False, Status.CANCELLED),
]


@pytest.mark.parametrize(("current", "service", "allowed", "after"), _TRANSITIONS)
def test_status_transitions_follow_the_table(current, service, allowed, after):
    job = JobCardFactory(status=current)
    ServiceLineFactory(job=job)

    advisor = UserFactory(role=roles.ADVISOR)

    if allowed:
        getattr(services, service)(job=job, user=advisor)
        assert _history(job) == [(current, after)]
    else:
        with pytest.raises(ValidationError, match="cannot become"):
            getattr(services, service)(job=job, user=advisor)
        assert _history(job) == []
    job.refresh_from_db()
    assert job.status == after


def test_transition_table_covers_every_status():
    assert set(services.JOB_TRANSITIONS) == set(Status)


def test_job_without_lines_cannot_be_completed():
    job = JobCardFactory()

    with pytest.raises(ValidationError, match="at least one service or part"):
        services.jobcard_complete(job=job, user=None)

    job.refresh_from_db()
    assert job.status == Status.OPEN
    assert _history(job) == []


# Stock


def test_completing_consumes_exact_part_quantities_at_the_jobs_branch_only():
    branch, other_branch = BranchFactory(), BranchFactory()
    pads, filter_ = SparePartFactory(), SparePartFactory()
    PartStockFactory(part=pads, branch=branch, quantity=Decimal("10"))
    PartStockFactory(part=pads, branch=other_branch, quantity=Decimal("10"))
    PartStockFactory(part=filter_, branch=branch, quantity=Decimal("3"))
    user = UserFactory(role=roles.TECHNICIAN)
    job = JobCardFactory(branch=branch)
    PartLineFactory(job=job, spare_part=pads, quantity=Decimal("2.5"))
    PartLineFactory(job=job, spare_part=pads, quantity=Decimal("1"))
    PartLineFactory(job=job, spare_part=filter_, quantity=Decimal("3"))
    ServiceLineFactory(job=job)

    services.jobcard_complete(job=job, user=user)

    assert _stock(pads, branch) == Decimal("6.5")
    assert _stock(filter_, branch) == Decimal("0")
    assert _stock(pads, other_branch) == Decimal("10")
    movements = {
        (m.part_id, m.branch_id, m.quantity, m.job_id, m.reason, m.created_by_id)
        for m in StockMovement.objects.all()
    }
    assert movements == {
        (pads.pk, branch.pk, Decimal("-3.5"), job.pk, "job completed", user.pk),
        (filter_.pk, branch.pk, Decimal("-3"), job.pk, "job completed", user.pk),
    }


def test_completing_with_insufficient_stock_fails_with_a_message_and_changes_nothing():
    branch = BranchFactory(name_en="Riyadh")
    pads = SparePartFactory(name_en="Brake pads")
    oil = SparePartFactory()
    PartStockFactory(part=pads, branch=branch, quantity=Decimal("1"))
    PartStockFactory(part=oil, branch=branch, quantity=Decimal("8"))
    job = JobCardFactory(branch=branch, status=Status.IN_PROGRESS)
    PartLineFactory(job=job, spare_part=oil, quantity=Decimal("4"))
    PartLineFactory(job=job, spare_part=pads, quantity=Decimal("2"))

    with pytest.raises(ValidationError) as exc:
        services.jobcard_complete(job=job, user=None)

    assert exc.value.messages == [
        "Not enough stock at Riyadh to complete this job. Brake pads: need 2, 1 in stock."
    ]
    job.refresh_from_db()
    assert (job.status, job.completed_at) == (Status.IN_PROGRESS, None)
    assert (_stock(pads, branch), _stock(oil, branch)) == (Decimal("1"), Decimal("8"))
    assert StockMovement.objects.count() == 0
    assert _history(job) == []


def test_stock_adjust_receives_stock_and_records_a_movement():
    part, branch = SparePartFactory(), BranchFactory()
    user = UserFactory()

    stock = services.stock_adjust(
        part=part, branch=branch, quantity=Decimal("12"), reason="received", user=user
    )

    assert stock.quantity == Decimal("12")
    assert list(StockMovement.objects.values_list("quantity", "reason", "created_by")) == [
        (Decimal("12"), "received", user.pk)
    ]


def test_stock_adjust_cannot_take_stock_below_zero():
    stock = PartStockFactory(quantity=Decimal("2"))

    with pytest.raises(ValidationError) as exc:
        services.stock_adjust(
            part=stock.part, branch=stock.branch, quantity=Decimal("-3"), reason="lost", user=None
        )

    assert list(exc.value.message_dict) == ["quantity"]
    assert _stock(stock.part, stock.branch) == Decimal("2")
    assert StockMovement.objects.count() == 0


# Job lines


def test_jobline_add_uses_the_catalogue_price_unless_one_is_given():
    job = JobCardFactory()
    service = ServiceItemFactory(default_price=Decimal("150.00"))

    default = services.jobline_add(
        job=job, kind=JobLine.Kind.SERVICE, item=service, quantity=Decimal("1")
    )
    custom = services.jobline_add(
        job=job,
        kind=JobLine.Kind.SERVICE,
        item=service,
        quantity=Decimal("2"),
        unit_price=Decimal("99.50"),
        user=UserFactory(role=roles.ADVISOR),
    )

    assert (default.unit_price, custom.unit_price) == (Decimal("150.00"), Decimal("99.50"))


@pytest.mark.parametrize(
    ("quantity", "unit_price", "field", "message"),
    [
        (Decimal("0"), None, "quantity", "The quantity must be more than zero."),
        (Decimal("-1"), None, "quantity", "The quantity must be more than zero."),
        (Decimal("1"), Decimal("-0.01"), "unit_price", "The price cannot be negative."),
    ],
)
def test_jobline_add_rejects_bad_quantity_or_price(quantity, unit_price, field, message):
    job = JobCardFactory()

    with pytest.raises(ValidationError) as exc:
        services.jobline_add(
            job=job,
            kind=JobLine.Kind.SERVICE,
            item=ServiceItemFactory(),
            quantity=quantity,
            unit_price=unit_price,
            user=UserFactory(role=roles.ADVISOR),
        )

    assert exc.value.message_dict == {field: [message]}
    assert JobLine.objects.count() == 0


def test_jobline_add_rejects_a_part_with_no_stock_at_the_jobs_branch():
    branch = BranchFactory(name_en="Jeddah")
    part = SparePartFactory(name_en="Oil filter")
    PartStockFactory(part=part, quantity=Decimal("20"))  # at another branch
    job = JobCardFactory(branch=branch)

    with pytest.raises(ValidationError) as exc:
        services.jobline_add(job=job, kind=JobLine.Kind.PART, item=part, quantity=Decimal("1"))

    assert exc.value.message_dict == {"quantity": ["Only 0 of Oil filter in stock at Jeddah."]}
    assert JobLine.objects.count() == 0


def test_jobline_add_counts_the_part_already_on_the_job():
    stock = PartStockFactory(quantity=Decimal("3"))
    job = JobCardFactory(branch=stock.branch)
    PartLineFactory(job=job, spare_part=stock.part, quantity=Decimal("2"))

    with pytest.raises(ValidationError) as exc:
        services.jobline_add(
            job=job, kind=JobLine.Kind.PART, item=stock.part, quantity=Decimal("2")
        )

    assert list(exc.value.message_dict) == ["quantity"]
    assert job.lines.count() == 1


def test_jobline_add_rejects_an_inactive_item():
    with pytest.raises(ValidationError) as exc:
        services.jobline_add(
            job=JobCardFactory(),
            kind=JobLine.Kind.SERVICE,
            item=ServiceItemFactory(is_active=False),
            quantity=Decimal("1"),
        )

    assert list(exc.value.message_dict) == ["item"]


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.CANCELLED])
def test_lines_of_a_closed_job_cannot_change(status):
    job = JobCardFactory(status=status)
    line = ServiceLineFactory(job=job)

    with pytest.raises(ValidationError, match="only be changed while the job is open"):
        services.jobline_add(
            job=job, kind=JobLine.Kind.SERVICE, item=ServiceItemFactory(), quantity=Decimal("1")
        )
    with pytest.raises(ValidationError, match="only be changed while the job is open"):
        services.jobline_remove(line=line)

    assert list(job.lines.all()) == [line]


# Concurrency


@pytest.mark.django_db(transaction=True)
def test_two_jobs_competing_for_the_last_unit_only_one_completes(require_postgres):
    branch = BranchFactory()
    part = SparePartFactory()
    PartStockFactory(part=part, branch=branch, quantity=Decimal("1"))
    jobs = [JobCardFactory(branch=branch) for _ in range(2)]
    for job in jobs:
        PartLineFactory(job=job, spare_part=part, quantity=Decimal("1"))
    barrier = threading.Barrier(len(jobs))
    outcomes: dict[int, str] = {}

    def complete(job: JobCard) -> None:
        try:
            barrier.wait(timeout=10)
            services.jobcard_complete(job=job, user=None)
            outcomes[job.pk] = "completed"
        except ValidationError as exc:
            outcomes[job.pk] = " ".join(exc.messages)
        except Exception as exc:  # a deadlock or lock error must fail the test, not vanish
            outcomes[job.pk] = f"unexpected {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes) == 2
    completed = [pk for pk, outcome in outcomes.items() if outcome == "completed"]
    refused = [outcome for outcome in outcomes.values() if outcome != "completed"]
    assert len(completed) == 1
    assert len(refused) == 1
    assert refused[0].startswith("Not enough stock")
    assert _stock(part, branch) == Decimal("0")
    assert StockMovement.objects.count() == 1
    assert list(JobCard.objects.filter(status=Status.COMPLETED).values_list("pk", flat=True)) == (
        completed
    )


@pytest.mark.django_db
def test_a_zero_rated_service_needs_a_zero_rated_reason_and_no_vat() -> None:
    with pytest.raises(ValidationError) as missing:
        services.serviceitem_save(
            item=None, code="EXP-1", name_en="Export prep", default_price=Decimal("100"),
            vat_rate=Decimal("0.15"), tax_category="Z",
        )  # fmt: skip
    with pytest.raises(ValidationError) as wrong:
        services.serviceitem_save(
            item=None, code="EXP-1", name_en="Export prep", default_price=Decimal("100"),
            vat_rate=Decimal("0"), tax_category="Z", vat_exemption_code="VATEX-SA-29",
        )  # fmt: skip
    item = services.serviceitem_save(
        item=None, code="EXP-1", name_en="Export prep", default_price=Decimal("100"),
        vat_rate=Decimal("0"), tax_category="Z", vat_exemption_code="VATEX-SA-33",
    )  # fmt: skip

    assert missing.value.message_dict == {
        "vat_exemption_code": ["Choose the ZATCA reason why this item is zero-rated."],
        "vat_rate": ["A zero-rated or exempt item has 0% VAT; set the VAT rate to 0."],
    }
    assert wrong.value.message_dict == {
        "vat_exemption_code": ["VATEX-SA-29 is a reason for exempt items, not zero-rated ones."]
    }
    assert list(ServiceItem.objects.values_list("code", "tax_category", "vat_exemption_code")) == [
        ("EXP-1", "Z", "VATEX-SA-33")
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceItem.objects.filter(pk=item.pk).update(vat_exemption_code="")
