from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Sequence
from garage.models import JobCard
from garage.services import jobcard_complete
from invoicing import selectors
from invoicing.models import Invoice, InvoiceLine
from invoicing.services import (
    InvoiceAlreadyExists,
    LineData,
    invoice_create,
    invoice_prefill,
    invoice_preview,
    invoice_reissue,
    invoice_send_to_customer,
    invoice_update,
    invoice_void,
    invoice_void_and_reissue,
)
from payments.models import Payment
from payments.services import payment_record
from tests.factories import JobCardFactory, ServiceItemFactory, ServiceLineFactory, UserFactory
from tests.invoicing_factories import (
    CompletedJobFactory,
    InvoiceFactory,
    PaymentFactory,
    invoice_state,
    run_in_threads,
)

D = Decimal
pytestmark = pytest.mark.django_db


def _year() -> int:
    return timezone.localdate().year


def _create(job: JobCard, **overrides) -> Invoice:
    today = timezone.localdate()
    arguments = {
        "job": job,
        "customer": job.customer,
        "vehicle": job.vehicle,
        "lines": invoice_prefill(job=job),
        "issue_date": today,
        "due_date": today + datetime.timedelta(days=30),
        "requires_qoyod": False,
        "user": None,
    }
    return invoice_create(**{**arguments, **overrides})


def _line(**overrides) -> LineData:
    service = overrides.pop("item", None) or ServiceItemFactory()
    values = {
        "kind": "service",
        "item": service,
        "description_en": "Brake service",
        "quantity": D("1"),
        "unit_price": D("100.00"),
        "vat_rate": D("0.15"),
    }
    return LineData(**{**values, **overrides})


def test_generated_invoice_has_exact_totals_lines_and_snapshot():
    user = UserFactory()
    job = CompletedJobFactory()

    invoice = _create(job, user=user)

    assert invoice.number == f"INV-{_year()}-000001"
    assert (invoice.net_total, invoice.vat_total, invoice.total) == (
        D("240.00"),
        D("36.00"),
        D("276.00"),
    )
    assert (invoice.amount_paid, invoice.balance) == (D("0.00"), D("276.00"))
    assert invoice.status == Invoice.Status.ISSUED
    assert invoice.customer_name == job.customer.name_en
    assert invoice.customer_name_ar == job.customer.name_ar
    assert invoice.vehicle_plate == job.vehicle.plate_number
    assert invoice.vehicle_description == "Toyota Camry 2021"
    lines = list(
        invoice.lines.values_list(
            "position", "kind", "quantity", "unit_price", "line_net", "line_vat", "line_total"
        )
    )
    assert lines == [
        (1, "service", D("1.000"), D("150.00"), D("150.00"), D("22.50"), D("172.50")),
        (2, "part", D("2.000"), D("45.00"), D("90.00"), D("13.50"), D("103.50")),
    ]
    assert list(invoice.history.values_list("from_status", "to_status", "changed_by")) == [
        ("", "issued", user.pk)
    ]


def test_invoice_numbers_run_on_per_year_without_gaps():
    this_year = _year()
    first = InvoiceFactory()
    second = InvoiceFactory()
    last_year_date = datetime.date(this_year - 1, 12, 31)
    old = InvoiceFactory(issue_date=last_year_date, due_date=last_year_date)
    third = InvoiceFactory()

    assert [first.number, second.number, third.number] == [
        f"INV-{this_year}-000001",
        f"INV-{this_year}-000002",
        f"INV-{this_year}-000003",
    ]
    assert old.number == f"INV-{this_year - 1}-000001"


def test_second_invoice_for_the_same_job_raises_and_creates_nothing():
    first = InvoiceFactory()
    counter = Sequence.objects.get(name="invoice", year=_year()).last_value

    with pytest.raises(InvoiceAlreadyExists) as raised:
        _create(first.job)

    assert raised.value.invoice == first
    assert raised.value.messages == [f"Job {first.job.number} already has invoice {first.number}."]
    assert Invoice.objects.count() == 1
    assert InvoiceLine.objects.count() == 2
    assert Sequence.objects.get(name="invoice", year=_year()).last_value == counter


def test_only_a_completed_job_can_be_invoiced():
    job = CompletedJobFactory(status=JobCard.Status.IN_PROGRESS)

    with pytest.raises(ValidationError) as raised:
        _create(job)

    assert raised.value.messages == ["Only a completed job can be invoiced."]
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_void_requires_a_reason(reason):
    invoice = InvoiceFactory()
    before = invoice_state(invoice)

    with pytest.raises(ValidationError) as raised:
        invoice_void(invoice=invoice, reason=reason, user=None)

    assert raised.value.message_dict == {"reason": ["Say why the invoice is void."]}
    assert invoice_state(invoice) == before


@pytest.mark.parametrize(
    ("paid", "expected_status"),
    [(D("100.00"), Invoice.Status.PARTIALLY_PAID), (D("276.00"), Invoice.Status.PAID)],
)
def test_voiding_a_paid_invoice_is_refused_with_the_credit_note_message(paid, expected_status):
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=paid)
    before = invoice_state(invoice)

    with pytest.raises(ValidationError) as raised:
        invoice_void(invoice=invoice, reason="Wrong customer", user=None)

    assert raised.value.messages == [
        f"{invoice.number} has payments of {paid} SAR and cannot be voided: issue a credit note "
        "instead."
    ]
    assert invoice_state(invoice) == before
    assert before[0] == expected_status


def test_void_records_reason_and_history():
    user = UserFactory()
    invoice = InvoiceFactory()

    invoice_void(invoice=invoice, reason="Wrong customer", user=user)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == (Invoice.Status.VOID, "Wrong customer")
    assert [
        (c.from_status, c.to_status, c.note, c.changed_by_id) for c in invoice.history.all()
    ] == [
        ("", "issued", "", None),
        ("issued", "void", "Wrong customer", user.pk),
    ]


def test_reissue_of_an_invoice_that_is_not_void_is_refused():
    invoice = InvoiceFactory()
    before = invoice_state(invoice)

    with pytest.raises(ValidationError) as raised:
        invoice_reissue(invoice=invoice, user=None)

    assert raised.value.messages == [
        f"Only a void invoice can be reissued; void {invoice.number} first."
    ]
    assert invoice_state(invoice) == before
    assert Invoice.objects.count() == 1


def test_reissue_links_the_replacement_and_copies_the_lines():
    original = InvoiceFactory(notes="Fleet order 7")
    invoice_void(invoice=original, reason="Wrong VAT", user=None)

    replacement = invoice_reissue(invoice=original, user=None)

    original.refresh_from_db()
    assert replacement.replaces == original
    assert original.replaced_by == replacement
    assert replacement.number == f"INV-{_year()}-000002"
    assert replacement.status == Invoice.Status.ISSUED
    assert replacement.job == original.job
    assert replacement.notes == "Fleet order 7"
    fields = ("kind", "description_en", "quantity", "unit_price", "vat_rate", "line_total")
    assert list(replacement.lines.values_list(*fields)) == list(original.lines.values_list(*fields))
    assert replacement.total == original.total == D("276.00")
    assert [change.note for change in replacement.history.all()] == [
        f"Reissue of {original.number}"
    ]
    assert selectors.invoice_versions(invoice=original) == [original, replacement]
    assert selectors.invoice_versions(invoice=replacement) == [original, replacement]


def test_a_void_invoice_is_reissued_only_once():
    original = InvoiceFactory()
    invoice_void(invoice=original, reason="Wrong VAT", user=None)
    replacement = invoice_reissue(invoice=original, user=None)

    with pytest.raises(InvoiceAlreadyExists) as raised:
        invoice_reissue(invoice=original, user=None)

    assert raised.value.invoice == replacement
    assert Invoice.objects.count() == 2


def test_void_and_reissue_returns_the_replacement():
    original = InvoiceFactory()

    replacement = invoice_void_and_reissue(invoice=original, reason="Wrong plate", user=None)

    original.refresh_from_db()
    assert (original.status, original.void_reason) == (Invoice.Status.VOID, "Wrong plate")
    assert replacement.replaces == original
    assert replacement.status == Invoice.Status.ISSUED


def test_a_job_whose_invoice_is_void_reappears_in_needs_invoice_until_reissued():
    invoice = InvoiceFactory()
    job = invoice.job
    assert list(selectors.jobs_needing_invoice()) == []

    invoice_void(invoice=invoice, reason="Wrong customer", user=None)
    needing = list(selectors.jobs_needing_invoice())
    assert needing == [job]
    assert needing[0].last_void_number == invoice.number
    assert selectors.jobs_needing_invoice_count(limit=100) == 1

    invoice_reissue(invoice=invoice, user=None)
    assert list(selectors.jobs_needing_invoice()) == []
    assert selectors.jobs_needing_invoice_count(limit=100) == 0


def test_the_needs_invoice_count_stops_at_its_limit():
    for _ in range(3):
        CompletedJobFactory()

    assert selectors.jobs_needing_invoice_count(limit=2) == 2
    assert selectors.jobs_needing_invoice_count(limit=100) == 3


@pytest.mark.parametrize(("before", "after", "requeued"), [
    (True, False, True), (False, False, False), (False, True, False), (True, True, False),
])  # fmt: skip
def test_an_invoice_that_stops_requiring_qoyod_enters_the_finance_queue_at_its_end(
    before, after, requeued
):
    invoice = InvoiceFactory(requires_qoyod=before)
    later = InvoiceFactory(requires_qoyod=False)
    job = invoice.job

    updated = invoice_update(
        invoice=invoice, customer=job.customer, vehicle=job.vehicle,
        lines=invoice_prefill(job=job), issue_date=invoice.issue_date,
        due_date=invoice.due_date, requires_qoyod=after, user=None,
    )  # fmt: skip

    assert (updated.finance_queued_at > later.finance_queued_at) is requeued
    assert Invoice.objects.get(pk=invoice.pk).finance_queued_at == updated.finance_queued_at


def test_editing_recalculates_and_keeps_the_number():
    invoice = InvoiceFactory()
    job = invoice.job
    lines = invoice_prefill(job=job)
    lines[1] = LineData(**{**lines[1].__dict__, "quantity": D("3"), "discount": D("5.00")})

    updated = invoice_update(
        invoice=invoice,
        customer=job.customer,
        vehicle=job.vehicle,
        lines=lines,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        requires_qoyod=False,
        user=None,
    )

    assert updated.number == invoice.number
    assert (updated.net_total, updated.vat_total, updated.total, updated.balance) == (
        D("280.00"),
        D("42.00"),
        D("322.00"),
        D("322.00"),
    )
    assert list(updated.lines.values_list("line_net", "line_vat")) == [
        (D("150.00"), D("22.50")),
        (D("130.00"), D("19.50")),
    ]


def test_editing_after_a_payment_is_refused():
    invoice = InvoiceFactory()
    PaymentFactory(invoice=invoice, amount=D("50.00"))
    before = invoice_state(invoice)
    lines = invoice_prefill(job=invoice.job)[:1]

    with pytest.raises(ValidationError) as raised:
        invoice_update(
            invoice=invoice,
            customer=invoice.customer,
            vehicle=invoice.vehicle,
            lines=lines,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            requires_qoyod=False,
            user=None,
        )

    assert raised.value.messages == [
        f"{invoice.number} already has payments; void is not possible either — issue a credit note."
    ]
    assert invoice_state(invoice) == before


@pytest.mark.parametrize("quantity", [D("0"), D("-1")])
def test_zero_or_negative_quantity_is_refused(quantity):
    job = CompletedJobFactory()

    with pytest.raises(ValidationError) as raised:
        _create(job, lines=[_line(quantity=quantity)])

    assert raised.value.messages == ["Line 1: the quantity must be more than zero."]
    assert Invoice.objects.count() == 0
    assert not Sequence.objects.filter(name="invoice").exclude(last_value=0).exists()


def test_discount_above_the_line_amount_is_refused():
    job = CompletedJobFactory()
    lines = [_line(), _line(quantity=D("2"), unit_price=D("10.00"), discount=D("20.01"))]

    with pytest.raises(ValidationError) as raised:
        _create(job, lines=lines)

    assert raised.value.messages == [
        "Line 2: the discount cannot be negative or more than the line amount."
    ]
    assert Invoice.objects.count() == 0


def test_discount_equal_to_the_line_amount_gives_a_zero_line():
    job = CompletedJobFactory()
    lines = [_line(), _line(quantity=D("2"), unit_price=D("10.00"), discount=D("20.00"))]

    invoice = _create(job, lines=lines)

    assert list(invoice.lines.values_list("line_total", flat=True)) == [D("115.00"), D("0.00")]
    assert invoice.total == D("115.00")


def test_due_date_before_the_issue_date_is_refused():
    job = CompletedJobFactory()
    today = timezone.localdate()

    with pytest.raises(ValidationError) as raised:
        _create(job, issue_date=today, due_date=today - datetime.timedelta(days=1))

    assert raised.value.message_dict == {
        "due_date": ["The due date cannot be before the issue date."]
    }
    assert Invoice.objects.count() == 0


def test_a_vehicle_of_another_customer_is_refused():
    job = CompletedJobFactory()
    other = CompletedJobFactory()

    with pytest.raises(ValidationError) as raised:
        _create(job, vehicle=other.vehicle)

    assert raised.value.message_dict == {"vehicle": ["This vehicle belongs to another customer."]}
    assert Invoice.objects.count() == 0


def test_a_qoyod_managed_invoice_cannot_be_edited_sent_or_paid():
    invoice = InvoiceFactory()
    Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=True)
    invoice.refresh_from_db()
    before = invoice_state(invoice)

    with pytest.raises(ValidationError) as edit:
        invoice_update(
            invoice=invoice,
            customer=invoice.customer,
            vehicle=invoice.vehicle,
            lines=invoice_prefill(job=invoice.job)[:1],
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            requires_qoyod=True,
            user=None,
        )
    with pytest.raises(ValidationError) as send:
        invoice_send_to_customer(invoice=invoice, link="https://example.com/x", user=None)
    with pytest.raises(ValidationError) as pay:
        payment_record(
            invoice=invoice,
            method=Payment.Method.CASH,
            amount=D("10.00"),
            paid_on=timezone.localdate(),
            user=None,
        )

    number = invoice.number
    assert edit.value.messages == [
        f"{number} is managed in Qoyod: edit it there, or void and reissue it here."
    ]
    assert send.value.messages == [
        f"{number} is managed in Qoyod: send it to the customer there, or void and reissue it here."
    ]
    assert pay.value.messages == [
        f"{number} is invoiced through Qoyod: record the payment in Qoyod, then refresh."
    ]
    assert invoice_state(invoice) == before
    assert mail.outbox == []


def test_send_to_customer_emails_html_and_the_link():
    invoice = InvoiceFactory()
    link = "https://garage.example/invoices/shared/abc/"

    invoice_send_to_customer(invoice=invoice, link=link, user=None)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [invoice.customer.email]
    assert message.subject == f"Invoice {invoice.number} from Garage Demo Workshop"
    assert link in message.body
    assert "276.00" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert list(invoice.events.values_list("kind", "details")) == [
        ("emailed", {"recipient": invoice.customer.email})
    ]


def test_sending_needs_the_customers_email():
    invoice = InvoiceFactory(job__customer__email="")

    with pytest.raises(ValidationError) as raised:
        invoice_send_to_customer(invoice=invoice, link="https://x.example/", user=None)

    assert raised.value.messages == ["The customer has no email address; add one first."]
    assert mail.outbox == []


def test_preview_gives_exact_totals_with_the_per_rate_adjustment():
    item = ServiceItemFactory()
    lines = [_line(item=item, unit_price=D("0.10")) for _ in range(4)]

    totals = invoice_preview(lines=lines)

    assert [(r.net, r.vat, r.vat_adjustment) for r in totals.lines] == [
        (D("0.10"), D("0.01"), D("-0.01")),
        (D("0.10"), D("0.01"), D("-0.01")),
        (D("0.10"), D("0.02"), D("0.00")),
        (D("0.10"), D("0.02"), D("0.00")),
    ]
    assert (totals.net, totals.vat, totals.total) == (D("0.40"), D("0.06"), D("0.46"))


# -- PostgreSQL: races -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_invoices_get_numbers_one_to_twenty(require_postgres):
    jobs = [CompletedJobFactory() for _ in range(20)]

    results = run_in_threads(20, lambda i: _create(jobs[i]))

    assert [r for r in results if not isinstance(r, Invoice)] == []
    year = _year()
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, 21)]
    assert Sequence.objects.get(name="invoice", year=year).last_value == 20


@pytest.mark.django_db(transaction=True)
def test_two_generates_for_the_same_job_at_once_make_one_invoice(require_postgres):
    job = CompletedJobFactory()

    results = run_in_threads(2, lambda i: _create(job))

    created = [r for r in results if isinstance(r, Invoice)]
    refused = [r for r in results if isinstance(r, InvoiceAlreadyExists)]
    assert (len(created), len(refused)) == (1, 1)
    assert refused[0].invoice == created[0]
    assert Invoice.objects.count() == 1


def test_the_needs_invoice_flag_follows_completion_invoicing_voiding_and_reissue():
    job = JobCardFactory()
    ServiceLineFactory(job=job)

    def flag() -> bool:
        return JobCard.objects.get(pk=job.pk).invoice_pending

    assert flag() is False
    jobcard_complete(job=job, user=None)
    assert flag() is True
    invoice = InvoiceFactory(job=JobCard.objects.get(pk=job.pk))
    assert flag() is False
    invoice_void(invoice=invoice, reason="wrong customer", user=None)
    assert flag() is True
    invoice_reissue(invoice=invoice, user=None)
    assert flag() is False
