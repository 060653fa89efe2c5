"""Custom invoice fields: defined per customer, filled on the invoice form (a required one
empty saves nothing), copied onto the invoice with its headings, printed, and in the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from api.services import apiclient_create
from core import roles
from invoicing.custom_fields import custominvoicefield_save
from invoicing.models import CustomInvoiceField, Invoice
from invoicing.services import invoice_reissue, invoice_void
from tests.api.conftest import caller
from tests.factories import UserFactory
from tests.invoicing.test_views import _form_data, _job_lines
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def _po(customer, **kwargs) -> CustomInvoiceField:
    field = CustomInvoiceField(
        customer=customer, heading_en="PO number", heading_ar="رقم أمر الشراء",
        help_text="From the customer's purchase order", **kwargs,
    )  # fmt: skip
    return custominvoicefield_save(field=field)


@pytest.fixture
def advisor(client):
    client.force_login(UserFactory(role=roles.ADVISOR))
    return client


def test_a_required_field_left_empty_saves_no_invoice(advisor):
    job = CompletedJobFactory()
    po = _po(job.customer, required=True)

    response = advisor.post(
        reverse("invoicing:invoice_generate", args=[job.pk]), _form_data(job, _job_lines(job))
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {f"custom_{po.pk}": ["This field is required."]}
    assert Invoice.objects.count() == 0


def test_the_form_fills_the_field_and_the_invoice_keeps_its_heading(advisor):
    job = CompletedJobFactory()
    po = _po(job.customer, required=True)
    page = advisor.get(reverse("invoicing:invoice_generate", args=[job.pk]))

    advisor.post(
        reverse("invoicing:invoice_generate", args=[job.pk]),
        _form_data(job, _job_lines(job), **{f"custom_{po.pk}": " PO-4471 "}),
    )

    assert "From the customer&#x27;s purchase order" in page.content.decode()
    invoice = Invoice.objects.get()
    assert invoice.custom_fields == [
        {"field": po.pk, "heading_en": "PO number", "heading_ar": "رقم أمر الشراء",
         "value": "PO-4471"}
    ]  # fmt: skip
    CustomInvoiceField.objects.filter(pk=po.pk).update(heading_en="Order")
    printed = advisor.get(reverse("invoicing:invoice_print", args=[invoice.pk])).content.decode()
    assert "PO number" in printed and "PO-4471" in printed and "رقم أمر الشراء" in printed


def test_a_value_outside_the_allowed_ones_is_refused_by_the_service():
    job = CompletedJobFactory()
    centre = _po(job.customer, allowed_values=[" Riyadh ", "Jeddah", "Riyadh", ""])

    with pytest.raises(ValidationError) as refused:
        InvoiceFactory(job=job, custom_values={centre.pk: "Dammam"})

    assert centre.allowed_values == ["Riyadh", "Jeddah"]
    assert refused.value.message_dict == {f"custom_{centre.pk}": ["Choose one of: Riyadh, Jeddah."]}
    assert Invoice.objects.count() == 0


def test_the_required_rule_holds_outside_the_form_too_in_arabic():
    job = CompletedJobFactory()
    po = _po(job.customer, required=True)

    with translation.override("ar"), pytest.raises(ValidationError) as refused:
        InvoiceFactory(job=job)

    assert refused.value.message_dict == {
        f"custom_{po.pk}": ["املأ «رقم أمر الشراء»: يحتاجه هذا العميل في كل فاتورة."]
    }


def test_the_edit_form_starts_from_the_values_and_a_reissue_carries_them(advisor):
    job = CompletedJobFactory()
    po = _po(job.customer, required=True)
    invoice = InvoiceFactory(job=job, custom_values={po.pk: "PO-1"})

    page = advisor.get(reverse("invoicing:invoice_edit", args=[invoice.pk]))
    invoice_void(invoice=invoice, reason="Wrong price", user=None)
    replacement = invoice_reissue(invoice=invoice, user=None)

    assert page.context["form"][f"custom_{po.pk}"].value() == "PO-1"
    assert replacement.custom_fields == invoice.custom_fields


def test_the_invoice_page_shows_the_field_in_the_readers_language(advisor):
    job = CompletedJobFactory()
    po = _po(job.customer)
    invoice = InvoiceFactory(job=job, custom_values={po.pk: "PO-9"})

    english = advisor.get(reverse("invoicing:invoice_detail", args=[invoice.pk]))
    arabic = advisor.get(reverse("invoicing:invoice_detail", args=[invoice.pk]),
                         HTTP_ACCEPT_LANGUAGE="ar")  # fmt: skip

    assert "<strong>PO number:</strong> <bdi>PO-9</bdi>" in english.content.decode()
    assert "<strong>رقم أمر الشراء:</strong> <bdi>PO-9</bdi>" in arabic.content.decode()


def test_the_api_returns_the_fields_on_the_invoice():
    job = CompletedJobFactory()
    po = _po(job.customer)
    invoice = InvoiceFactory(
        job=job, custom_values={po.pk: "PO-9"}, issue_date=timezone.localdate()
    )
    token = apiclient_create(
        name="ERP", scopes=["invoices:read"], branch=None, expires_at=None, user=None
    )[1]
    api = caller(token)

    body = api.get(f"/api/v1/invoices/{invoice.number}/").json()

    assert body["custom_fields"] == [
        {"heading_en": "PO number", "heading_ar": "رقم أمر الشراء", "value": "PO-9"}
    ]


def test_allowed_values_that_are_not_a_list_of_texts_are_refused():
    job = CompletedJobFactory()

    with pytest.raises(ValidationError) as refused:
        _po(job.customer, allowed_values="Riyadh")

    assert refused.value.message_dict == {
        "allowed_values": ["Give the allowed values as a list of texts."]
    }
    assert CustomInvoiceField.objects.count() == 0
