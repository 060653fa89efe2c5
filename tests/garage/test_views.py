from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import roles
from garage.models import Customer, JobCard, JobLine, PartStock, SparePart, StockMovement
from tests.factories import (
    BranchFactory,
    CompanyCustomerFactory,
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
from tests.pager import pager_link

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _client_for(role: str) -> tuple[Client, object]:
    user = UserFactory(role=role)
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def advisor_client() -> Client:
    return _client_for(roles.ADVISOR)[0]


def _job_numbers(response) -> list[str]:
    return re.findall(r'class="fw-semibold">(JOB-[\d-]+)</a>', response.content.decode())


# Pages render


def test_every_garage_page_renders_for_an_admin():
    client, _user = _client_for(roles.ADMIN)
    job = JobCardFactory()
    ServiceLineFactory(job=job)
    stock = PartStockFactory()
    service = ServiceItemFactory()
    urls = [
        reverse("garage:job_list"),
        reverse("garage:job_create"),
        reverse("garage:job_detail", args=[job.pk]),
        reverse("garage:customer_list"),
        reverse("garage:customer_create"),
        reverse("garage:customer_detail", args=[job.customer.pk]),
        reverse("garage:customer_edit", args=[job.customer.pk]),
        reverse("garage:vehicle_list"),
        reverse("garage:vehicle_create") + f"?customer={job.customer.pk}",
        reverse("garage:vehicle_edit", args=[job.vehicle.pk]),
        reverse("garage:part_list"),
        reverse("garage:part_create"),
        reverse("garage:part_detail", args=[stock.part.pk]),
        reverse("garage:part_edit", args=[stock.part.pk]),
        reverse("garage:service_list"),
        reverse("garage:service_create"),
        reverse("garage:service_edit", args=[service.pk]),
    ]

    statuses = {url: client.get(url).status_code for url in urls}

    assert statuses == dict.fromkeys(urls, 200)


@pytest.mark.parametrize("name", ["job_line_add", "job_start", "job_complete", "job_cancel"])
def test_post_only_job_endpoints_refuse_get(advisor_client, name):
    job = JobCardFactory()

    response = advisor_client.get(reverse(f"garage:{name}", args=[job.pk]))

    assert response.status_code == 405


# Search


def test_job_search_with_arabic_plate_letters_finds_the_latin_stored_plate(advisor_client):
    vehicle = VehicleFactory(plate_number="1234 ABJ")
    wanted = JobCardFactory(customer=vehicle.customer, vehicle=vehicle)
    other = VehicleFactory(plate_number="1234 DRS")
    JobCardFactory(customer=other.customer, vehicle=other)

    response = advisor_client.get(reverse("garage:job_list"), {"q": "ا ب ح ١٢٣٤"})

    assert _job_numbers(response) == [wanted.number]


@pytest.mark.parametrize(
    "query",
    ["0551234567", "+966 55 123 4567", "٠٥٥١٢٣", "4567", "3101234567", "نورة", "Noura", "AB"],
)
def test_job_search_by_phone_vat_name_or_partial_plate(advisor_client, query):
    customer = CompanyCustomerFactory(
        name_en="Noura Trading",
        name_ar="مؤسسة نورة",
        phone="+966551234567",
        vat_number="310123456789003",
    )
    vehicle = VehicleFactory(customer=customer, plate_number="77 ABJ")
    wanted = JobCardFactory(customer=customer, vehicle=vehicle)
    JobCardFactory(
        customer=CustomerFactory(phone="+966500000000"),
        vehicle=VehicleFactory(plate_number="88 DRS"),
    )

    response = advisor_client.get(reverse("garage:job_list"), {"q": query})

    assert _job_numbers(response) == [wanted.number]


def test_job_search_by_job_number(advisor_client):
    jobs = [JobCardFactory() for _ in range(3)]

    response = advisor_client.get(reverse("garage:job_list"), {"q": jobs[1].number})

    assert _job_numbers(response) == [jobs[1].number]


def test_job_list_shows_the_newest_job_first(advisor_client):
    jobs = [JobCardFactory() for _ in range(3)]

    response = advisor_client.get(reverse("garage:job_list"))

    assert _job_numbers(response) == [job.number for job in reversed(jobs)]


def test_job_list_filters_by_status_and_branch(advisor_client):
    branch = BranchFactory()
    wanted = JobCardFactory(branch=branch, status=JobCard.Status.IN_PROGRESS)
    JobCardFactory(branch=branch, status=JobCard.Status.OPEN)
    JobCardFactory(status=JobCard.Status.IN_PROGRESS)

    response = advisor_client.get(
        reverse("garage:job_list"), {"status": "in_progress", "branch": branch.pk}
    )

    assert _job_numbers(response) == [wanted.number]


def test_job_search_without_results_shows_the_empty_state(advisor_client):
    JobCardFactory()

    response = advisor_client.get(reverse("garage:job_list"), {"q": "no such thing"})

    assert "No jobs match your search." in response.content.decode()


def test_pagination_links_keep_the_search_and_filters(advisor_client):
    branch = BranchFactory()
    for _ in range(30):
        JobCardFactory(branch=branch, customer=CustomerFactory(name_en="Fleet Co"))

    response = advisor_client.get(
        reverse("garage:job_list"), {"q": "Fleet", "branch": branch.pk, "status": ""}
    )

    assert len(_job_numbers(response)) == 25
    following = pager_link(response, "next")
    assert following is not None
    assert following.startswith(f"?q=Fleet&branch={branch.pk}&status=&cursor=")
    second = advisor_client.get(reverse("garage:job_list") + following)
    assert len(_job_numbers(second)) == 5


def test_customer_search_by_plate_of_their_vehicle_lists_them_once(advisor_client):
    customer = CustomerFactory(name_en="Plate Owner")
    VehicleFactory(customer=customer, plate_number="1234 ABJ")
    VehicleFactory(customer=customer, plate_number="1234 ABD")
    CustomerFactory(name_en="Somebody Else")

    response = advisor_client.get(reverse("garage:customer_list"), {"q": "١٢٣٤ ا ب"})

    assert list(response.context["page"].object_list) == [customer]


@pytest.mark.parametrize("query", ["ا ب ح ١٢٣", "أ ب ج 123"])
def test_customer_search_for_an_arabic_plate_ignores_phones_with_its_digits(advisor_client, query):
    owner = CustomerFactory(name_en="Plate Owner", phone="+966500000000")
    VehicleFactory(customer=owner, plate_number="123 ABJ")
    CustomerFactory(name_en="Phone Holder", phone="+966551234567", vat_number="310123456789003")

    response = advisor_client.get(reverse("garage:customer_list"), {"q": query})

    # "ج" is no plate letter, so the second query is neither a plate nor a number.
    expected = [owner] if query == "ا ب ح ١٢٣" else []
    assert list(response.context["page"].object_list) == expected


def test_part_list_shows_stock_per_branch(advisor_client):
    riyadh, jeddah = BranchFactory(name_en="Riyadh"), BranchFactory(name_en="Jeddah")
    part = SparePartFactory(sku="BRK-001")
    PartStockFactory(part=part, branch=riyadh, quantity=Decimal("4"))
    SparePartFactory(sku="OIL-001")

    response = advisor_client.get(reverse("garage:part_list"), {"q": "brk"})

    assert response.context["branches"] == [riyadh, jeddah]  # by branch code
    levels = dict(zip(response.context["branches"], response.context["rows"][0][1], strict=True))
    assert response.context["rows"][0][0] == part
    assert levels == {riyadh: Decimal("4"), jeddah: Decimal("0")}


# Technicians see only their own jobs


def test_technician_sees_only_assigned_jobs_and_gets_404_for_others():
    client, technician = _client_for(roles.TECHNICIAN)
    mine = JobCardFactory(technician=technician)
    theirs = JobCardFactory(technician=UserFactory(role=roles.TECHNICIAN))

    listing = client.get(reverse("garage:job_list"))
    own = client.get(reverse("garage:job_detail", args=[mine.pk]))
    other = client.get(reverse("garage:job_detail", args=[theirs.pk]))
    add_line = client.post(
        reverse("garage:job_line_add", args=[theirs.pk]), {"item": "", "quantity": "1"}
    )

    assert _job_numbers(listing) == [mine.number]
    assert (own.status_code, other.status_code, add_line.status_code) == (200, 404, 404)


# Forms


def test_bad_vat_number_shows_a_field_error_in_arabic_pages(advisor_client):
    advisor_client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "ar"})

    response = advisor_client.post(
        reverse("garage:customer_create"),
        {
            "kind": "company",
            "name_ar": "شركة الاختبار",
            "phone": "0551234567",
            "vat_number": "123",
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl">' in html
    assert re.search(r'<input[^>]*name="vat_number"[^>]*class="form-control is-invalid"', html)
    assert len(re.findall(r'data-field-error="vat_number"', html)) == 1
    assert Customer.objects.count() == 0


def test_customer_create_normalises_and_redirects_to_the_customer(advisor_client):
    response = advisor_client.post(
        reverse("garage:customer_create"),
        {"kind": "individual", "name_ar": "سارة القحطاني", "phone": "٠٥٥ ١١١ ٢٢٢٢"},
    )

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("garage:customer_detail", args=[customer.pk])
    assert (customer.name_ar, customer.phone) == ("سارة القحطاني", "+966551112222")


def test_company_without_vat_number_gets_the_services_message_next_to_the_field(
    advisor_client,
):
    response = advisor_client.post(
        reverse("garage:customer_create"),
        {"kind": "company", "name_en": "Acme", "phone": "0551234567", "vat_number": ""},
    )

    assert response.context["form"].errors == {
        "vat_number": ["A company customer needs a VAT number."]
    }
    assert Customer.objects.count() == 0


def test_vehicle_create_accepts_an_arabic_plate_for_the_preset_customer(advisor_client):
    customer = CustomerFactory()
    url = reverse("garage:vehicle_create") + f"?customer={customer.pk}"

    form = advisor_client.get(url).context["form"]
    response = advisor_client.post(
        url,
        {"customer": customer.pk, "plate_number": "٥٦٧ ر س", "make": "Nissan", "model": "Patrol"},
    )

    assert form.initial["customer"] == customer
    assert response.status_code == 302
    assert customer.vehicles.get().plate_number == "567 RS"


def test_part_create_and_service_edit_save_through_the_catalogue_services():
    client, _user = _client_for(roles.ADMIN)
    service = ServiceItemFactory(code="OIL")

    created = client.post(
        reverse("garage:part_create"),
        {"sku": "BRK-01", "name_en": "Brake pads", "name_ar": "فحمات", "sale_price": "180.00",
         "cost": "95.00", "vat_rate": "0.15", "is_active": "on"},
    )  # fmt: skip
    edited = client.post(
        reverse("garage:service_edit", args=[service.pk]),
        {"code": "OIL", "name_en": "Oil change", "name_ar": "", "default_price": "99.50",
         "vat_rate": "0.15"},
    )  # fmt: skip

    part = SparePart.objects.get(sku="BRK-01")
    service.refresh_from_db()
    assert (created.status_code, created["Location"]) == (
        302, reverse("garage:part_detail", args=[part.pk])
    )  # fmt: skip
    assert (part.name_ar, part.sale_price, part.cost, part.is_active) == (
        "فحمات", Decimal("180.00"), Decimal("95.00"), True
    )  # fmt: skip
    assert (edited.status_code, service.default_price, service.is_active) == (
        302, Decimal("99.50"), False
    )  # fmt: skip


def test_job_create_rejects_a_vehicle_of_another_customer_next_to_the_field(advisor_client):
    vehicle = VehicleFactory()

    response = advisor_client.post(
        reverse("garage:job_create"),
        {"branch": BranchFactory().pk, "customer": CustomerFactory().pk, "vehicle": vehicle.pk},
    )

    assert response.context["form"].errors == {
        "vehicle": ["This vehicle belongs to another customer."]
    }
    assert JobCard.objects.count() == 0


def test_job_create_opens_the_job_and_shows_it(advisor_client):
    vehicle = VehicleFactory()
    technician = UserFactory(role=roles.TECHNICIAN)

    response = advisor_client.post(
        reverse("garage:job_create"),
        {
            "branch": BranchFactory().pk,
            "customer": vehicle.customer.pk,
            "vehicle": vehicle.pk,
            "technician": technician.pk,
            "complaint": "AC not cooling",
        },
    )

    job = JobCard.objects.get()
    assert response["Location"] == reverse("garage:job_detail", args=[job.pk])
    assert (job.technician, job.complaint, job.status) == (technician, "AC not cooling", "open")


def test_job_create_offers_only_the_preset_customers_vehicles(advisor_client):
    vehicle = VehicleFactory()
    VehicleFactory()

    form = advisor_client.get(
        reverse("garage:job_create"), {"customer": vehicle.customer.pk}
    ).context["form"]

    assert list(form.fields["vehicle"].queryset) == [vehicle]


# Job lines over htmx


def test_htmx_add_line_returns_the_lines_partial_with_totals(advisor_client):
    stock = PartStockFactory(quantity=Decimal("5"))
    job = JobCardFactory(branch=stock.branch)
    service = ServiceItemFactory(default_price=Decimal("150.00"))
    url = reverse("garage:job_line_add", args=[job.pk])

    advisor_client.post(url, {"item": f"service:{service.pk}", "quantity": "1"}, headers=HTMX)
    response = advisor_client.post(
        url,
        {"item": f"part:{stock.part.pk}", "quantity": "2", "unit_price": "10.05"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "partials/job_lines.html"
    assert html.startswith('<section id="job-lines"')
    assert "<html" not in html
    assert list(job.lines.values_list("kind", "quantity", "unit_price")) == [
        ("service", Decimal("1"), Decimal("150.00")),
        ("part", Decimal("2"), Decimal("10.05")),
    ]
    totals = response.context["totals"]
    # 150.00 + 20.10 net; VAT 15% of 170.10 = 25.515 -> 25.52 (half up)
    assert (totals.net, totals.vat, totals.total) == (
        Decimal("170.10"),
        Decimal("25.52"),
        Decimal("195.62"),
    )
    assert 'data-testid="job-total"><bdi dir="ltr">195.62</bdi><' in html


def test_htmx_add_line_with_a_part_out_of_stock_shows_the_error_in_the_partial(advisor_client):
    job = JobCardFactory()
    part = SparePartFactory()

    response = advisor_client.post(
        reverse("garage:job_line_add", args=[job.pk]),
        {"item": f"part:{part.pk}", "quantity": "1"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response.context["line_form"].errors == {
        "quantity": [f"Only 0 of {part.name_en} in stock at {job.branch.name_en}."]
    }
    assert 'data-field-error="quantity"' in response.content.decode()
    assert JobLine.objects.count() == 0


def test_add_line_without_htmx_redirects_to_the_job(advisor_client):
    job = JobCardFactory()
    service = ServiceItemFactory()

    response = advisor_client.post(
        reverse("garage:job_line_add", args=[job.pk]),
        {"item": f"service:{service.pk}", "quantity": "1"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("garage:job_detail", args=[job.pk])
    assert job.lines.count() == 1


def test_htmx_remove_line_returns_the_partial_without_the_line(advisor_client):
    job = JobCardFactory()
    keep, drop = ServiceLineFactory(job=job), ServiceLineFactory(job=job)

    response = advisor_client.post(
        reverse("garage:job_line_remove", args=[job.pk, drop.pk]), headers=HTMX
    )

    html = response.content.decode()
    assert [t.name for t in response.templates][0] == "partials/job_lines.html"
    assert f'data-line-id="{keep.pk}"' in html
    assert f'data-line-id="{drop.pk}"' not in html
    assert list(job.lines.all()) == [keep]


def test_remove_line_of_another_job_is_404(advisor_client):
    job, other = JobCardFactory(), JobCardFactory()
    line = ServiceLineFactory(job=other)

    response = advisor_client.post(
        reverse("garage:job_line_remove", args=[job.pk, line.pk]), headers=HTMX
    )

    assert response.status_code == 404
    assert JobLine.objects.count() == 1


# Status buttons


def test_start_then_complete_from_the_job_page(advisor_client):
    stock = PartStockFactory(quantity=Decimal("3"))
    job = JobCardFactory(branch=stock.branch)
    PartLineFactory(job=job, spare_part=stock.part, quantity=Decimal("2"))

    advisor_client.post(reverse("garage:job_start", args=[job.pk]))
    response = advisor_client.post(reverse("garage:job_complete", args=[job.pk]), follow=True)

    job.refresh_from_db()
    stock.refresh_from_db()
    assert job.status == JobCard.Status.COMPLETED
    assert stock.quantity == Decimal("1")
    assert f"Job {job.number} completed." in response.content.decode()
    assert 'data-testid="add-line-form"' not in response.content.decode()


def test_complete_with_insufficient_stock_shows_the_message_and_changes_nothing(
    advisor_client,
):
    stock = PartStockFactory(quantity=Decimal("1"))
    job = JobCardFactory(branch=stock.branch)
    PartLineFactory(job=job, spare_part=stock.part, quantity=Decimal("2"))

    response = advisor_client.post(reverse("garage:job_complete", args=[job.pk]), follow=True)

    job.refresh_from_db()
    stock.refresh_from_db()
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        f"Not enough stock at {job.branch.name_en} to complete this job. "
        f"{stock.part.name_en}: need 2, 1 in stock."
    ]
    assert (job.status, stock.quantity) == (JobCard.Status.OPEN, Decimal("1"))
    assert StockMovement.objects.count() == 0


def test_cancel_from_the_job_page(advisor_client):
    job = JobCardFactory()

    advisor_client.post(reverse("garage:job_cancel", args=[job.pk]))

    job.refresh_from_db()
    assert job.status == JobCard.Status.CANCELLED


# Stock


def test_receive_stock_calls_stock_adjust_for_users_allowed_to_change_stock():
    client, admin = _client_for(roles.ADMIN)
    part, branch = SparePartFactory(), BranchFactory()

    response = client.post(
        reverse("garage:part_receive", args=[part.pk]),
        {"branch": branch.pk, "quantity": "6", "reason": "INV-778"},
    )

    assert response.status_code == 302
    assert PartStock.objects.get(part=part, branch=branch).quantity == Decimal("6")
    assert list(StockMovement.objects.values_list("quantity", "reason", "created_by")) == [
        (Decimal("6"), "received: INV-778", admin.pk)
    ]


def test_receive_stock_rejects_zero_and_is_forbidden_to_advisors(advisor_client):
    client, _admin = _client_for(roles.ADMIN)
    part, branch = SparePartFactory(), BranchFactory()
    url = reverse("garage:part_receive", args=[part.pk])

    zero = client.post(url, {"branch": branch.pk, "quantity": "0"})
    forbidden = advisor_client.post(url, {"branch": branch.pk, "quantity": "5"})

    assert zero.context["receive_form"].errors == {
        "quantity": ["The quantity must be more than zero."]
    }
    assert forbidden.status_code == 403
    assert StockMovement.objects.count() == 0


# Query counts do not grow with the rows shown


def _make_jobs(count: int) -> None:
    for _ in range(count):
        job = JobCardFactory(technician=UserFactory(role=roles.TECHNICIAN))
        ServiceLineFactory(job=job)


def _make_vehicles(count: int) -> None:
    for _ in range(count):
        VehicleFactory()


def _make_parts(count: int) -> None:
    branches = [BranchFactory(), BranchFactory()]
    for _ in range(count):
        part = SparePartFactory()
        for branch in branches:
            PartStockFactory(part=part, branch=branch)


@pytest.mark.parametrize(
    ("url_name", "make"),
    [
        ("garage:job_list", _make_jobs),
        ("garage:customer_list", _make_vehicles),
        ("garage:vehicle_list", _make_vehicles),
        ("garage:part_list", _make_parts),
        ("garage:service_list", lambda n: ServiceItemFactory.create_batch(n)),
    ],
)
def test_list_query_count_is_the_same_for_1_and_50_rows(advisor_client, url_name, make):
    url = reverse(url_name)
    make(1)
    advisor_client.get(url)  # warm caches (content types, session) outside the measurement
    with CaptureQueriesContext(connection) as one:
        first = advisor_client.get(url)
    make(49)
    with CaptureQueriesContext(connection) as fifty:
        second = advisor_client.get(url)

    assert (first.status_code, second.status_code) == (200, 200)
    assert len(second.context["page"].object_list) == 25
    assert len(fifty.captured_queries) == len(one.captured_queries)
