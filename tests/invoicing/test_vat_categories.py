"""A zero-rated part and an exempt service on an invoice: snapshotted from the catalogue, taxed
at 0, shown with their ZATCA reason and summed per VAT category on the page and the print."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import roles
from garage.models import JobCard
from invoicing.services import invoice_create, invoice_prefill
from tests import factories

pytestmark = pytest.mark.django_db


def _invoice():
    part = factories.SparePartFactory(
        name_en="First aid kit", vat_rate=Decimal("0"), tax_category="Z",
        vat_exemption_code="VATEX-SA-35",
    )  # fmt: skip
    service = factories.ServiceItemFactory(
        name_en="Finance fee", vat_rate=Decimal("0"), tax_category="E",
        vat_exemption_code="VATEX-SA-29",
    )  # fmt: skip
    job = factories.JobCardFactory(status=JobCard.Status.COMPLETED)
    factories.PartLineFactory(job=job, spare_part=part, quantity=Decimal("2"),
                              unit_price=Decimal("85.00"))  # fmt: skip
    factories.ServiceLineFactory(job=job, service_item=service, unit_price=Decimal("40.00"))
    factories.ServiceLineFactory(job=job, unit_price=Decimal("100.00"))
    today = timezone.localdate()
    return invoice_create(
        job=job, customer=job.customer, vehicle=job.vehicle, lines=invoice_prefill(job=job),
        issue_date=today, due_date=today + datetime.timedelta(days=30), requires_qoyod=False,
        user=None,
    )  # fmt: skip


def test_lines_keep_their_category_and_reason_and_the_totals_split_by_category() -> None:
    invoice = _invoice()

    assert [
        (li.tax_category, li.vat_exemption_code, li.line_net, li.line_vat)
        for li in invoice.lines.all()
    ] == [
        ("Z", "VATEX-SA-35", Decimal("170.00"), Decimal("0.00")),
        ("E", "VATEX-SA-29", Decimal("40.00"), Decimal("0.00")),
        ("S", "", Decimal("100.00"), Decimal("15.00")),
    ]
    assert (invoice.net_total, invoice.vat_total, invoice.total) == (
        Decimal("310.00"), Decimal("15.00"), Decimal("325.00")
    )  # fmt: skip


def test_the_page_and_the_print_show_the_reason_and_each_categorys_amount() -> None:
    invoice = _invoice()
    client = Client()
    client.force_login(factories.UserFactory(role=roles.ADVISOR))

    page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).text
    printed = client.get(reverse("invoicing:invoice_print", args=[invoice.pk])).text

    assert (
        'Zero-rated · <span dir="ltr">VATEX-SA-35</span> — Medicines and medical equipment' in page
    )
    assert 'Exempt, no VAT</th><td class="money">' in page
    assert "VATEX-SA-29: Financial services mentioned in Article 29" in printed
    assert "الأدوية والمعدات الطبية" in printed
    assert (
        '<tr data-testid="print-summary-Z"><td>Zero-rated supplies (VAT 0%)</td>'
        '<td lang="ar" dir="rtl">توريدات خاضعة لنسبة الصفر (ضريبة 0٪)</td>'
        '<td class="num">170.00</td></tr>'
    ) in printed
