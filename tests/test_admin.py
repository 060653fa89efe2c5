"""The admin cannot corrupt the books: records are read-only, edits follow the app's rules."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from accounting.models import Transaction
from core import roles
from core.admin import ReadOnlyAdminMixin, ReadOnlyTabularInline
from core.models import Sequence
from garage import services
from garage.models import Customer, JobCard, JobStatusChange, PartStock, StockMovement, Vehicle
from invoicing.models import Invoice
from payments.models import Payment, QoyodAllocation, QoyodPaymentState
from qoyod_sync.models import (
    BranchWarehouse,
    QoyodAttempt,
    QoyodConnection,
    QoyodCreditNote,
    QoyodCreditNoteChange,
    QoyodCreditNoteLine,
    QoyodCustomerLink,
    QoyodInvoiceSync,
    QoyodProductLink,
)
from tests.factories import (
    BranchFactory,
    CustomerFactory,
    JobCardFactory,
    ServiceItemFactory,
    SparePartFactory,
    UserFactory,
    VehicleFactory,
)
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db

READ_ONLY_MODELS = [
    Sequence,
    Transaction,
    PartStock,
    StockMovement,
    Invoice,
    Payment,
    QoyodPaymentState,
    QoyodAllocation,
    QoyodInvoiceSync,
    QoyodAttempt,
    QoyodConnection,
    BranchWarehouse,
    QoyodCustomerLink,
    QoyodProductLink,
    QoyodCreditNote,
]


@pytest.fixture
def root() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _one_of_each() -> dict[type[Model], Model]:
    """A row of every machine-written model, made the way the app makes it where it can."""
    invoice = InvoiceFactory()
    part = SparePartFactory()
    stock = services.stock_adjust(
        part=part, branch=invoice.branch, quantity=D("5"), reason="received", user=None
    )
    return {
        # The invoice number's counter.
        Sequence: Sequence.objects.get(),
        PartStock: stock,
        StockMovement: StockMovement.objects.get(part=part),
        Invoice: invoice,
        Payment: PaymentFactory(invoice=invoice),
        QoyodPaymentState: QoyodPaymentState.objects.create(invoice=invoice),
        QoyodAllocation: QoyodAllocation.objects.create(
            invoice=invoice, qoyod_id=7, source_type="Receipt", amount=D("10.00")
        ),
        QoyodInvoiceSync: QoyodInvoiceSync.objects.create(invoice=invoice),
        QoyodAttempt: QoyodAttempt.objects.create(
            invoice=invoice, step="invoice", outcome="failed"
        ),
        QoyodConnection: QoyodConnection.objects.create(base_url="https://api.qoyod.com/2.0"),
        BranchWarehouse: BranchWarehouse.objects.create(
            branch=invoice.branch, qoyod_inventory_id=3
        ),
        QoyodCustomerLink: QoyodCustomerLink.objects.create(
            customer=invoice.customer, qoyod_id=5, matched_by="phone"
        ),
        QoyodProductLink: QoyodProductLink.objects.create(
            service_item=ServiceItemFactory(), qoyod_id=6, sku="SRV-X", matched_by="sku"
        ),
        QoyodCreditNote: _credit_note(invoice),
    }


def _credit_note(invoice: Invoice) -> QoyodCreditNote:
    """A sent credit note with one line and its history, as qoyod_sync.credit leaves one."""
    note = QoyodCreditNote.objects.create(
        number="CRN-2026-000001", invoice=invoice, issuance_reason="Wrong part",
        issue_date=invoice.issue_date, total=D("11.50"), state="draft_created", qoyod_id=9,
    )  # fmt: skip
    line = invoice.lines.first()
    QoyodCreditNoteLine.objects.create(
        credit_note=note, invoice_line=line, quantity=D("1"), unit_price=D("10.00"),
        vat_rate=D("0.15"), line_total=D("11.50"),
    )  # fmt: skip
    QoyodCreditNoteChange.objects.create(credit_note=note, to_state="not_sent")
    return note


def _row(obj: Model) -> dict[str, Any]:
    return type(obj)._default_manager.filter(pk=obj.pk).values().get()


def test_every_machine_written_model_is_registered_read_only():
    for model in READ_ONLY_MODELS:
        assert isinstance(admin.site._registry[model], ReadOnlyAdminMixin), model


def test_every_inline_in_the_console_is_read_only():
    inlines = {
        inline.__name__: issubclass(inline, ReadOnlyTabularInline)
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }

    assert inlines == {
        "VehicleInline": True,
        "PartStockInline": True,
        "JobLineInline": True,
        "JobStatusChangeInline": True,
        "InvoiceLineInline": True,
        "InvoiceStatusChangeInline": True,
        "InvoiceEventInline": True,
        "InvoiceFinanceChangeInline": True,
        "StateChangeInline": True,
        "ReceiptInline": True,
        "TransactionEventInline": True,
        "CreditNoteLineInline": True,
        "CreditNoteChangeInline": True,
    }


def test_machine_written_rows_are_shown_but_cannot_be_added_changed_or_deleted(root):
    rows = _one_of_each()
    before = {model: _row(obj) for model, obj in rows.items()}
    # Values for the editable field of every one of them.
    posted = {"last_value": "999", "quantity": "999", "amount": "1.00", "notes": "changed",
              "qoyod_id": "999", "base_url": "https://attacker.example/2.0", "state": "ready",
              "qoyod_inventory_id": "999", "reason": "changed"}  # fmt: skip

    outcome = {}
    for model, obj in rows.items():
        change_page = root.get(_url(model, "change", obj.pk))
        changelist = root.get(_url(model, "changelist"))
        outcome[model] = (
            change_page.status_code,
            'name="_save"' in change_page.text,
            _url(model, "delete", obj.pk) in change_page.text,
            _url(model, "add") in changelist.text,
            'value="delete_selected"' in changelist.text,
            root.get(_url(model, "add")).status_code,
            root.post(_url(model, "add"), posted).status_code,
            root.post(_url(model, "change", obj.pk), posted).status_code,
            root.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code,
        )

    assert outcome == {model: (200, False, False, False, False, 403, 403, 403, 403)
                       for model in rows}  # fmt: skip
    assert {model: _row(obj) for model, obj in rows.items()} == before
    assert {model: model._default_manager.count() for model in rows} == dict.fromkeys(rows, 1)


def test_roles_are_read_only_and_given_to_users_on_the_user_page(root):
    role = Group.objects.get(name=roles.TECHNICIAN)
    permissions = set(role.permissions.all())
    user = UserFactory(username="khalid")
    everyone = Permission.objects.values_list("pk", flat=True)

    changed = root.post(_url(Group, "change", role.pk), {"name": "x", "permissions": everyone})
    user_data = {"username": user.username, "is_active": "on", "groups": [role.pk],
                 "date_joined_0": "2026-01-05", "date_joined_1": "09:00:00"}  # fmt: skip
    given = root.post(_url(User, "change", user.pk), user_data)

    assert changed.status_code == 403
    assert root.get(_url(Group, "add")).status_code == 403
    assert (role.name, set(role.permissions.all())) == (roles.TECHNICIAN, permissions)
    assert given.status_code == 302
    assert list(user.groups.values_list("name", flat=True)) == [roles.TECHNICIAN]


def test_axes_records_keep_their_own_admin():
    # django-axes' admin: attempts are deleted there to lift a lockout, so it is left as it is.
    from axes.models import AccessAttempt

    assert not isinstance(admin.site._registry[AccessAttempt], ReadOnlyAdminMixin)


# Customers and vehicles: the admin refuses what the app's pages refuse


def _customer_data(**changes: str) -> dict[str, str]:
    data = {
        "kind": "individual",
        "name_en": "Saad Alharbi",
        "name_ar": "سعد الحربي",
        "phone": "0551234567",
        "email": "",
        "vat_number": "",
        "cr_number": "",
        "building_number": "",
        "street": "",
        "district": "",
        "city": "Riyadh",
        "postal_code": "",
    }
    return data | changes


def _admin_customer_data(**changes: str) -> dict[str, str]:
    inline = {"vehicles-TOTAL_FORMS": "0", "vehicles-INITIAL_FORMS": "0"}
    return _customer_data(**changes) | {"is_active": "on"} | inline


def _advisor() -> Client:
    client = Client()
    client.force_login(UserFactory(role=roles.ADVISOR))
    return client


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "abc"}, "phone",
         "Enter a Saudi mobile number such as 05X XXX XXXX or +966 5X XXX XXXX."),
        ({"vat_number": "123"}, "vat_number",
         "A VAT number has 15 digits and starts and ends with 3."),
        # A rule of garage.services, not of the form: the admin runs the service's checks too.
        ({"kind": "company"}, "vat_number", "A company customer needs a VAT number."),
        ({"name_en": "", "name_ar": ""}, "name_en",
         "Enter the customer's name in English or Arabic."),
    ],
)  # fmt: skip
def test_the_customer_admin_refuses_what_the_customer_page_refuses(root, changes, field, message):
    in_admin = root.post(_url(Customer, "add"), _admin_customer_data(**changes))
    in_app = _advisor().post(reverse("garage:customer_create"), _customer_data(**changes))

    assert in_admin.status_code == 200
    assert in_admin.context["adminform"].form.errors[field] == [message]
    assert in_app.context["form"].errors[field] == [message]
    assert Customer.objects.count() == 0


def test_a_customer_edited_in_the_admin_with_a_bad_phone_is_left_as_it_was(root):
    customer = CustomerFactory(phone="+966551234567")
    before = _row(customer)

    response = root.post(_url(Customer, "change", customer.pk), _admin_customer_data(phone="abc"))

    assert response.context["adminform"].form.errors["phone"] == [
        "Enter a Saudi mobile number such as 05X XXX XXXX or +966 5X XXX XXXX."
    ]
    assert _row(customer) == before


def test_a_customer_saved_in_the_admin_is_normalised_as_the_app_does(root):
    # Arabic digits everywhere; the address digits are the service's normalisation alone.
    typed = {"kind": "company", "phone": "٠٥٥ ١٢٣ ٤٥٦٧", "vat_number": "٣١٠١٢٣٤٥٦٧٨٩٠٠٣",
             "building_number": "١٢٣٤", "postal_code": "١٢٢١١",
             "cr_number": "١٠١٠١٢٣٤٥٦"}  # fmt: skip
    fields = ["phone", "vat_number", "building_number", "postal_code", "cr_number", "kind"]

    saved = root.post(_url(Customer, "add"), _admin_customer_data(**typed))
    _advisor().post(reverse("garage:customer_create"), _customer_data(**typed))

    assert saved.status_code == 302
    in_admin, in_app = Customer.objects.order_by("pk").values(*fields)
    assert (
        in_admin
        == in_app
        == {
            "phone": "+966551234567",
            "vat_number": "310123456789003",
            "building_number": "1234",
            "postal_code": "12211",
            "cr_number": "1010123456",
            "kind": "company",
        }
    )


def _vehicle_data(customer: Customer, **changes: str) -> dict[str, str]:
    data = {"customer": str(customer.pk), "plate_number": "١٢٣٤ ا ب ح", "make": "Toyota",
            "model": "Camry", "year": "2021", "colour": "", "vin": "", "odometer": ""}  # fmt: skip
    return data | changes


def test_the_vehicle_admin_applies_the_plate_rules_of_the_vehicle_page(root):
    customer = CustomerFactory()

    refused = root.post(_url(Vehicle, "add"), _vehicle_data(customer, plate_number="12345 ABJ"))
    saved = root.post(_url(Vehicle, "add"), _vehicle_data(customer))

    assert refused.context["adminform"].form.errors["plate_number"] == [
        "A Saudi plate has up to four digits and up to three letters, e.g. 1234 ABJ."
    ]
    assert saved.status_code == 302
    assert list(Vehicle.objects.values_list("plate_number", "plate_key", "customer")) == [
        ("1234 ABJ", "1234ABJ", customer.pk)
    ]


def test_a_catalogue_item_saved_in_the_admin_follows_the_model_rules(root):
    part = SparePartFactory(sale_price=D("45.00"))
    data = {"sku": part.sku, "name_en": part.name_en, "name_ar": part.name_ar, "cost": "30.00",
            "vat_rate": "0.15", "is_active": "on", "stock-TOTAL_FORMS": "0",
            "stock-INITIAL_FORMS": "0"}  # fmt: skip

    refused = root.post(_url(type(part), "change", part.pk), data | {"sale_price": "-1"})
    saved = root.post(_url(type(part), "change", part.pk), data | {"sale_price": "50.00"})

    assert refused.context["adminform"].form.errors["sale_price"] == [
        "Ensure this value is greater than or equal to 0."
    ]
    assert saved.status_code == 302
    part.refresh_from_db()
    assert part.sale_price == D("50.00")


# Job cards


def _job_data(response: Any, **changes: object) -> dict[str, object]:
    """What the job's change page would post back, with `changes` made."""
    form = response.context["adminform"].form
    data: dict[str, object] = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {management.add_prefix(n): management[n].value() for n in management.fields}
        for line in inline.formset.initial_forms:
            data[line.add_prefix("id")] = line.instance.pk
            data[line.add_prefix("job")] = line.instance.job_id
    return data | changes


@pytest.mark.parametrize("invoiced", [False, True])
def test_a_completed_jobs_customer_vehicle_and_branch_cannot_be_changed(root, invoiced):
    job = InvoiceFactory().job if invoiced else CompletedJobFactory()
    other = VehicleFactory()
    before = (job.customer_id, job.vehicle_id, job.branch_id)
    url = _url(JobCard, "change", job.pk)
    page = root.get(url)

    posted = root.post(url, _job_data(page, customer=other.customer.pk, vehicle=other.pk,
                                      branch=BranchFactory().pk, complaint="Rattle"))  # fmt: skip

    assert set(page.context["adminform"].form.fields) == {"technician", "complaint", "odometer_in"}
    assert posted.status_code == 302
    job.refresh_from_db()
    assert (job.customer_id, job.vehicle_id, job.branch_id, job.complaint) == (*before, "Rattle")


def test_an_open_job_gets_no_vehicle_of_another_customer(root):
    job = JobCardFactory()
    other = VehicleFactory()
    url = _url(JobCard, "change", job.pk)

    posted = root.post(url, _job_data(root.get(url), vehicle=other.pk))

    assert posted.context["adminform"].form.errors["vehicle"] == [
        "This vehicle belongs to another customer."
    ]
    assert JobCard.objects.get(pk=job.pk).vehicle_id == job.vehicle_id


def test_jobs_are_neither_added_nor_deleted_in_the_admin(root):
    job = JobCardFactory()

    assert root.get(_url(JobCard, "add")).status_code == 403
    assert root.post(_url(JobCard, "delete", job.pk), {"post": "yes"}).status_code == 403
    assert JobCard.objects.filter(pk=job.pk).exists()


def test_the_cancel_action_cancels_through_the_service_and_records_history(root):
    open_job = JobCardFactory()
    done_job = CompletedJobFactory()
    user = UserFactory(username="root")

    response = root.post(
        _url(JobCard, "changelist"),
        {"action": "cancel_jobs", "_selected_action": [open_job.pk, done_job.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        f"{done_job.number}: A job that is Completed cannot become Cancelled.",
        "1 jobs cancelled.",
    ]
    assert JobCard.objects.get(pk=open_job.pk).status == JobCard.Status.CANCELLED
    assert JobCard.objects.get(pk=done_job.pk).status == JobCard.Status.COMPLETED
    assert list(JobStatusChange.objects.values_list("job", "from_status", "to_status",
                                                    "changed_by")) == [
        (open_job.pk, "open", "cancelled", user.pk)
    ]  # fmt: skip


def test_the_cancel_action_needs_the_permission_the_cancel_button_needs():
    staff = UserFactory(is_staff=True)
    # Starting and completing jobs is not cancelling them.
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_jobcard", "change_jobcard", "complete_jobcard"]
        )
    )
    client = Client()
    client.force_login(staff)
    job = JobCardFactory()

    page = client.get(_url(JobCard, "changelist"))
    posted = client.post(
        _url(JobCard, "changelist"), {"action": "cancel_jobs", "_selected_action": [job.pk]}
    )

    assert page.status_code == 200
    assert 'value="cancel_jobs"' not in page.text
    # An action the user may not run is not one of the form's choices: the list comes back.
    assert posted.status_code == 200
    assert JobCard.objects.get(pk=job.pk).status == JobCard.Status.OPEN
    assert not JobStatusChange.objects.exists()
