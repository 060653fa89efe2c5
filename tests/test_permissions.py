"""Every route has an entry in the role matrix, and every role gets exactly what it says.

Allowed means the view ran (any answer but 403 and the login redirect); denied means 403;
anonymous visitors are sent to the login page except on the public routes. Below the matrix,
the technician's rules that a route check alone cannot show: only their own jobs, catalogue
prices, no cancelling, no customers' contact details.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from accounting.models import StatementUpload
from api.services import apiclient_create
from core import roles
from garage import services
from garage.models import JobCard, JobLine
from invoicing.views.document import SHARE_SALT
from qoyod_sync.models import ReconciliationRun
from tests.factories import (
    BranchFactory,
    CompanyCustomerFactory,
    JobCardFactory,
    PartLineFactory,
    PartStockFactory,
    ServiceItemFactory,
    ServiceLineFactory,
    UserFactory,
)
from tests.invoicing_factories import InvoiceFactory
from tests.routes import named_routes, route_kwargs

ADV, TECH, ACC, FIN, ADM = "advisor", "technician", "accountant", "finance", "admin"
ROLE_OF = {
    ADV: roles.ADVISOR,
    TECH: roles.TECHNICIAN,
    ACC: roles.ACCOUNTANT,
    FIN: roles.FINANCE_MANAGER,
    ADM: roles.ADMIN,
}
EVERYONE = {ADV, TECH, ACC, FIN, ADM}
FRONT_DESK = {ADV, ADM}
INVOICE_READERS = {ADV, ACC, FIN, ADM}
ACCOUNTING = {ACC, FIN, ADM}
MANAGERS = {FIN, ADM}
WORKSHOP = {ADV, TECH, ADM}
# Everyone but the technician: customers' phones, VAT numbers and addresses.
OFFICE = EVERYONE - {TECH}
PUBLIC = "public"
# The finance API: a bearer token only, so every session, staff or none, gets 401 (tests/api).
TOKEN = "token"

# url name -> (method, roles allowed, or PUBLIC for routes anonymous visitors may use)
MATRIX: dict[str, tuple[str, set[str] | str]] = {
    "home": ("GET", EVERYONE),
    "healthz": ("GET", PUBLIC),
    "login": ("GET", PUBLIC),
    "logout": ("POST", EVERYONE),
    "password_change": ("GET", EVERYONE),
    "set_language": ("POST", PUBLIC),
    "settings_home": ("GET", MANAGERS),
    "garage:job_list": ("GET", EVERYONE),
    "garage:job_create": ("GET", FRONT_DESK),
    "garage:job_detail": ("GET", EVERYONE),
    "garage:job_line_add": ("POST", WORKSHOP),
    "garage:job_line_remove": ("POST", WORKSHOP),
    "garage:job_start": ("POST", WORKSHOP),
    "garage:job_complete": ("POST", WORKSHOP),
    "garage:job_cancel": ("POST", FRONT_DESK),
    "garage:customer_list": ("GET", OFFICE),
    "garage:customer_create": ("GET", FRONT_DESK),
    "garage:customer_detail": ("GET", OFFICE),
    "garage:customer_edit": ("GET", FRONT_DESK),
    "garage:vehicle_list": ("GET", OFFICE),
    "garage:vehicle_create": ("GET", FRONT_DESK),
    "garage:vehicle_edit": ("GET", FRONT_DESK),
    "garage:part_list": ("GET", EVERYONE),
    "garage:part_create": ("GET", {ADM}),
    "garage:part_detail": ("GET", EVERYONE),
    "garage:part_edit": ("GET", {ADM}),
    "garage:part_receive": ("POST", {ADM}),
    "garage:service_list": ("GET", EVERYONE),
    "garage:service_create": ("GET", {ADM}),
    "garage:service_edit": ("GET", {ADM}),
    "invoicing:invoice_list": ("GET", INVOICE_READERS),
    "invoicing:needs_invoice": ("GET", INVOICE_READERS),
    "invoicing:invoice_generate": ("GET", INVOICE_READERS),
    "invoicing:invoice_preview": ("POST", INVOICE_READERS),
    "invoicing:invoice_line_row": ("POST", INVOICE_READERS),
    "invoicing:invoice_vehicle_options": ("GET", INVOICE_READERS),
    "invoicing:invoice_shared": ("GET", PUBLIC),
    "invoicing:invoice_shared_pdf": ("GET", PUBLIC),
    "qoyod_sync:tax_invoice": ("GET", PUBLIC),
    "invoicing:invoice_detail": ("GET", INVOICE_READERS),
    "invoicing:invoice_edit": ("GET", INVOICE_READERS),
    "invoicing:invoice_void": ("POST", ACCOUNTING),
    "invoicing:invoice_void_and_reissue": ("POST", ACCOUNTING),
    "invoicing:invoice_reissue": ("POST", ACCOUNTING),
    "invoicing:invoice_send": ("POST", FRONT_DESK),
    "invoicing:invoice_print": ("GET", INVOICE_READERS),
    "invoicing:invoice_pdf": ("GET", INVOICE_READERS),
    "payments:payment_create": ("GET", FRONT_DESK),
    "qoyod_sync:settings": ("GET", MANAGERS),
    "qoyod_sync:connection_test": ("POST", MANAGERS),
    "qoyod_sync:mappings": ("POST", MANAGERS),
    "qoyod_sync:retry_queue": ("GET", ACCOUNTING),
    "qoyod_sync:reconciliation": ("GET", ACCOUNTING),
    "qoyod_sync:daily_close": ("GET", ACCOUNTING),
    "qoyod_sync:reconciliation_run": ("POST", ACCOUNTING),
    "qoyod_sync:reconciliation_csv": ("GET", ACCOUNTING),
    "qoyod_sync:invoice_send": ("POST", ACCOUNTING),
    "qoyod_sync:invoice_retry": ("POST", ACCOUNTING),
    "qoyod_sync:invoice_draft_delete": ("POST", ACCOUNTING),
    "qoyod_sync:invoice_credit": ("POST", ACCOUNTING),
    "qoyod_sync:invoice_credit_and_reissue": ("POST", ACCOUNTING),
    "qoyod_sync:invoice_credit_note_send": ("POST", ACCOUNTING),
    "qoyod_sync:invoice_stock_sync": ("POST", ACCOUNTING),
    "qoyod_sync:stock_sync": ("POST", ACCOUNTING),
    # Reading payments back from Qoyod only reads: whoever sees invoices may refresh them.
    "qoyod_sync:invoice_refresh": ("POST", INVOICE_READERS),
    "qoyod_sync:invoices_refresh": ("POST", INVOICE_READERS),
    "qoyod_sync:refresh_stale": ("POST", INVOICE_READERS),
    "qoyod_sync:refresh_poll": ("GET", INVOICE_READERS),
    "api_clients:list": ("GET", {ADM}),
    "api_clients:create": ("GET", {ADM}),
    "api_clients:client_revoke": ("POST", {ADM}),
    "api:schema": ("GET", PUBLIC),
    "api:docs": ("GET", PUBLIC),
    "api:invoice_unprocessed": ("GET", TOKEN),
    "api:invoice_detail": ("GET", TOKEN),
    "api:invoice_by_id": ("GET", TOKEN),
    "api:invoice_pdf": ("GET", TOKEN),
    "api:invoice_processed": ("POST", TOKEN),
    "api:invoice_failed": ("POST", TOKEN),
    "api:sales": ("GET", TOKEN),
    "api:customers": ("GET", TOKEN),
    "api:customer_detail": ("GET", TOKEN),
    "api:customer_contacts": ("GET", TOKEN),
    "api:customer_contact_detail": ("POST", TOKEN),
    "api:webhooks": ("GET", TOKEN),
    "api:webhook_detail": ("DELETE", TOKEN),
    # The seed's steps 1 and 5 are the finance manager's; its step 6 (the menu) the accountant's.
    "accounting:home": ("GET", ACCOUNTING),
    "accounting:settings": ("GET", MANAGERS),
    "accounting:config_sync": ("POST", MANAGERS),
    # Staff enter expenses for their own branch without the Accounting menu (issue 16 item 8).
    "accounting:transaction_create": ("GET", EVERYONE),
    "accounting:transaction_list": ("GET", ACCOUNTING),
    "accounting:transaction_bulk_assign": ("POST", ACCOUNTING),
    "accounting:transaction_verify": ("POST", ACCOUNTING),
    # Statement import: the Accounting menu's users who enter transactions (issue 16 item 3).
    "accounting:statement_upload": ("GET", ACCOUNTING),
    "accounting:statement_map": ("GET", ACCOUNTING),
    "accounting:transaction_sync": ("POST", ACCOUNTING),
    "accounting:transaction_sync_ids": ("GET", ACCOUNTING),
    # The link at the end of a journal entry's description: its token is the permission.
    "receipts:page": ("GET", PUBLIC),
    "receipts:file": ("GET", PUBLIC),
}


# Django admin checks is_staff and model permissions itself.
ROUTES = {name: p for name, p in named_routes().items() if not name.startswith("admin:")}


def test_every_route_has_a_matrix_entry():
    names = set(ROUTES)

    assert names - MATRIX.keys() == set(), "routes without a permission matrix entry"
    assert MATRIX.keys() - names == set(), "matrix entries for routes that no longer exist"


@pytest.fixture
def world(db):
    users = {name: UserFactory(username=name, role=ROLE_OF[name]) for name in ROLE_OF}
    branch = BranchFactory()
    line = PartLineFactory(job__branch=branch, job__technician=users[TECH])
    PartStockFactory(part=line.spare_part, branch=branch, quantity=Decimal("5"))
    invoice = InvoiceFactory()
    # The object a route's <pk> names, by the route's prefix.
    pk_of = {
        "garage:job": line.job_id,
        "garage:customer": line.job.customer_id,
        "garage:vehicle": line.job.vehicle_id,
        "garage:part": line.spare_part_id,
        "garage:service": ServiceItemFactory().pk,
        "invoicing:invoice": invoice.pk,
        "qoyod_sync:invoice": invoice.pk,
        "qoyod_sync:reconciliation": ReconciliationRun.objects.create(
            date_from=invoice.issue_date, date_to=invoice.issue_date
        ).pk,
        "api:invoice": invoice.pk,
        "api:customer": line.job.customer_id,
        "api:webhook": 1,
        "api_clients:client": apiclient_create(
            name="ERP", scopes=["invoices:read"], branch=None, expires_at=None, user=None
        )[0].pk,
    }
    other = {
        "line_pk": line.pk,
        "job_id": line.job_id,
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "contact_pk": 1,
        "token": signing.dumps(invoice.pk, salt=SHARE_SALT),
        "upload": StatementUpload.objects.create(
            uploaded_by=users[ADM], encoding="utf-8-sig", delimiter=",", content=b"a,b\n1,2\n"
        ).token,
        "receipt_id": 1,
        "receipts_token": uuid.uuid4(),
    }
    return pk_of, other


def _is_allowed(response) -> bool:
    if response.status_code == 403:
        return False
    return not (response.status_code == 302 and response["Location"].startswith("/login/?next="))


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_role_matrix(name, world):
    method, allowed = MATRIX[name]
    url = reverse(name, kwargs=route_kwargs(name, ROUTES[name], *world))
    outcome = {}
    for who in [None, *sorted(ROLE_OF)]:
        client = Client()
        if who:
            client.force_login(User.objects.get(username=who))
        response = client.get(url) if method == "GET" else client.post(url, {})
        outcome[who or "anonymous"] = (
            response.status_code == 401 if allowed == TOKEN else _is_allowed(response)
        )

    expected = {who: (allowed in (PUBLIC, TOKEN) or who in allowed) for who in ROLE_OF}
    expected["anonymous"] = allowed in (PUBLIC, TOKEN)
    assert outcome == expected


# The technician's rules


def _login(role: str) -> tuple[Client, User]:
    user = UserFactory(role=role)
    client = Client()
    client.force_login(user)
    return client, user


def _numbers(response) -> list[str]:
    return [job.number for job in response.context["page"]]


@pytest.mark.django_db
def test_technician_lists_and_searches_only_the_jobs_assigned_to_them():
    client, technician = _login(roles.TECHNICIAN)
    first = JobCardFactory(technician=technician, number="JOB-2026-000101")
    second = JobCardFactory(technician=technician, number="JOB-2026-000102")
    JobCardFactory(technician=UserFactory(role=roles.TECHNICIAN), number="JOB-2026-000103")
    JobCardFactory(technician=None, number="JOB-2026-000104")

    listing = client.get(reverse("garage:job_list"))
    searched = client.get(reverse("garage:job_list"), {"q": "JOB-2026-0001"})

    assert _numbers(listing) == [second.number, first.number]
    assert _numbers(searched) == [second.number, first.number]


@pytest.mark.django_db
def test_technician_gets_404_for_a_job_not_assigned_to_them_and_changes_nothing():
    client, _technician = _login(roles.TECHNICIAN)
    line = ServiceLineFactory(job__technician=UserFactory(role=roles.TECHNICIAN))
    job = line.job
    service = ServiceItemFactory()

    answers = [
        client.get(reverse("garage:job_detail", args=[job.pk])),
        client.post(
            reverse("garage:job_line_add", args=[job.pk]),
            {"item": f"service:{service.pk}", "quantity": "1"},
        ),
        client.post(reverse("garage:job_line_remove", args=[job.pk, line.pk])),
        client.post(reverse("garage:job_start", args=[job.pk])),
        client.post(reverse("garage:job_complete", args=[job.pk])),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    job.refresh_from_db()
    assert job.status == JobCard.Status.OPEN
    assert list(job.lines.values_list("pk", flat=True)) == [line.pk]
    assert not job.history.exists()


@pytest.mark.django_db
def test_technician_adds_lines_at_the_catalogue_price_whatever_price_is_posted():
    client, technician = _login(roles.TECHNICIAN)
    job = JobCardFactory(technician=technician)
    service = ServiceItemFactory(default_price=Decimal("150.00"))

    page = client.get(reverse("garage:job_detail", args=[job.pk]))
    response = client.post(
        reverse("garage:job_line_add", args=[job.pk]),
        {"item": f"service:{service.pk}", "quantity": "2", "unit_price": "1.00"},
    )

    html = page.content.decode()
    assert ('name="item"' in html, 'name="unit_price"' in html) == (True, False)
    assert response.status_code == 302
    assert list(job.lines.values_list("quantity", "unit_price")) == [
        (Decimal("2"), Decimal("150.00"))
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("who", [TECH, None])
def test_the_line_service_refuses_a_price_from_someone_who_may_not_set_prices(who):
    user = UserFactory(role=ROLE_OF[who]) if who else None
    job = JobCardFactory(technician=user)
    service = ServiceItemFactory(default_price=Decimal("150.00"))

    with pytest.raises(PermissionDenied):
        services.jobline_add(
            job=job,
            kind=JobLine.Kind.SERVICE,
            item=service,
            quantity=Decimal("1"),
            unit_price=Decimal("1.00"),
            user=user,
        )

    assert JobLine.objects.count() == 0


@pytest.mark.django_db
def test_the_line_service_accepts_the_catalogue_price_named_by_a_technician():
    technician = UserFactory(role=roles.TECHNICIAN)
    job = JobCardFactory(technician=technician)
    service = ServiceItemFactory(default_price=Decimal("150.00"))

    line = services.jobline_add(
        job=job,
        kind=JobLine.Kind.SERVICE,
        item=service,
        quantity=Decimal("1"),
        unit_price=Decimal("150.00"),
        user=technician,
    )

    assert list(job.lines.values_list("pk", "unit_price")) == [(line.pk, Decimal("150.00"))]


@pytest.mark.django_db
def test_technician_starts_and_completes_their_job_but_cannot_cancel_it():
    client, technician = _login(roles.TECHNICIAN)
    job = ServiceLineFactory(job__technician=technician).job
    start, complete, cancel = (
        reverse(f"garage:job_{action}", args=[job.pk]) for action in ("start", "complete", "cancel")
    )

    page = client.get(reverse("garage:job_detail", args=[job.pk])).content.decode()
    cancelled = client.post(cancel)
    job.refresh_from_db()
    status_after_cancel = job.status
    started, completed = client.post(start), client.post(complete)

    assert (start in page, complete in page, cancel in page) == (True, True, False)
    assert (cancelled.status_code, status_after_cancel) == (403, JobCard.Status.OPEN)
    assert (started.status_code, completed.status_code) == (302, 302)
    assert list(job.history.values_list("from_status", "to_status", "changed_by")) == [
        (JobCard.Status.OPEN, JobCard.Status.IN_PROGRESS, technician.pk),
        (JobCard.Status.IN_PROGRESS, JobCard.Status.COMPLETED, technician.pk),
    ]


@pytest.mark.django_db
def test_the_cancel_service_refuses_a_technician():
    technician = UserFactory(role=roles.TECHNICIAN)
    job = JobCardFactory(technician=technician)

    with pytest.raises(PermissionDenied):
        services.jobcard_cancel(job=job, user=technician)

    job.refresh_from_db()
    assert job.status == JobCard.Status.OPEN
    assert not job.history.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "customer_pages", "details_shown", "found_by_phone"),
    [(roles.TECHNICIAN, 403, False, []), (roles.ADVISOR, 200, True, ["JOB-2026-000201"])],
)
def test_customer_pages_and_contact_details_are_for_the_advisor_and_up(
    role, customer_pages, details_shown, found_by_phone
):
    client, user = _login(role)
    customer = CompanyCustomerFactory(name_en="Al Noor Trading", phone="+966551234567")
    job = JobCardFactory(technician=user, customer=customer, number="JOB-2026-000201")

    listing = client.get(reverse("garage:customer_list"))
    detail = client.get(reverse("garage:customer_detail", args=[customer.pk]))
    job_page = client.get(reverse("garage:job_detail", args=[job.pk])).content.decode()
    jobs = client.get(reverse("garage:job_list")).content.decode()
    by_phone = client.get(reverse("garage:job_list"), {"q": "0551234567"})
    by_vat = client.get(reverse("garage:job_list"), {"q": customer.vat_number})

    assert (listing.status_code, detail.status_code) == (customer_pages, customer_pages)
    assert ("Al Noor Trading" in job_page, "Al Noor Trading" in jobs) == (True, True)
    assert ("+966551234567" in job_page, customer.vat_number in job_page) == (
        details_shown,
        details_shown,
    )
    assert ("+966551234567" in jobs) == details_shown
    assert (_numbers(by_phone), _numbers(by_vat)) == (found_by_phone, found_by_phone)
