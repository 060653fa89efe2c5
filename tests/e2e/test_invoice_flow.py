from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from core import roles
from garage import services
from garage.models import JobCard
from invoicing.models import Invoice
from tests.factories import (
    BranchFactory,
    CustomerFactory,
    PartStockFactory,
    ServiceItemFactory,
    SparePartFactory,
    UserFactory,
    VehicleFactory,
)
from tests.invoicing_factories import InvoiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def completed_job() -> JobCard:
    """A job for an oil change and two filters, completed through the garage services."""
    # Migrations create the groups; a transactional test may start after another one's flush.
    roles.roles_sync(apps, strict=True)
    advisor = UserFactory(username="advisor", first_name="Sara", role=roles.ADVISOR)
    branch = BranchFactory(code="RUH", name_en="Riyadh Olaya", name_ar="الرياض العليا")
    oil = ServiceItemFactory(
        code="SRV-OIL", name_en="Oil change", name_ar="تغيير الزيت", default_price=Decimal("120")
    )
    ServiceItemFactory(
        code="SRV-ALN",
        name_en="Wheel alignment",
        name_ar="ضبط زوايا",
        default_price=Decimal("100"),
    )
    filter_ = SparePartFactory(
        sku="FLT-100", name_en="Oil filter", name_ar="فلتر زيت", sale_price=Decimal("35.50")
    )
    PartStockFactory(part=filter_, branch=branch, quantity=Decimal("5"))
    customer = CustomerFactory(name_en="Mohammed Al-Shehri", name_ar="محمد الشهري")
    vehicle = VehicleFactory(customer=customer, plate_number="1234 ABJ")
    job = services.jobcard_create(
        branch=branch, customer=customer, vehicle=vehicle, created_by=advisor
    )
    services.jobline_add(job=job, kind="service", item=oil, quantity=Decimal("1"))
    services.jobline_add(job=job, kind="part", item=filter_, quantity=Decimal("2"))
    return services.jobcard_complete(job=job, user=advisor)


def _log_in(page: Page) -> None:
    page.goto("/login/")
    page.fill("#id_username", "advisor")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r":\d+/$"))


def test_advisor_generates_edits_saves_and_prints_an_invoice_with_the_qr(
    page: Page, completed_job: JobCard, screenshot
):
    _log_in(page)

    page.get_by_role("link", name="Invoices", exact=True).click()
    page.get_by_test_id("tab-needs-invoice").click()
    row = page.locator(f"#job-row-{completed_job.pk}")
    expect(row).to_contain_text("1234 ABJ")
    screenshot(page, "0-needs-invoice")
    row.get_by_role("link", name="Generate").click()

    # Prefilled from the job: 120.00 + 2 × 35.50 = 191.00 net, 28.65 VAT at 15%.
    totals = page.locator("#invoice-totals")
    expect(totals.get_by_test_id("grand-total")).to_have_text("219.65")
    expect(page.locator("#id_lines-1-quantity")).to_have_value("2")
    screenshot(page, "1-generated-form")

    page.fill("#id_lines-1-quantity", "3")
    expect(totals.get_by_test_id("net-total")).to_have_text("226.50")
    expect(totals.get_by_test_id("vat-total")).to_have_text("33.98")
    expect(totals.get_by_test_id("grand-total")).to_have_text("260.48")
    expect(page.locator("#lines-1-amounts [data-amount=total]")).to_have_text("122.48")

    page.select_option("#new-item", label="SRV-ALN · Wheel alignment")
    page.get_by_test_id("add-line").click()
    expect(page.locator("#id_lines-2-description_en")).to_have_value("Wheel alignment")
    expect(page.locator("#new-item")).to_have_value("")
    expect(totals.get_by_test_id("grand-total")).to_have_text("375.48")
    screenshot(page, "2-edited-form")

    page.get_by_test_id("save-invoice").click()
    # Saving lands on the list with the new invoice pinned first, its next step in view.
    saved = page.get_by_test_id("saved-invoice")
    expect(saved).to_contain_text(re.compile(r"Just saved: INV-\d{4}-000001\."))
    expect(saved).to_contain_text("375.48")
    screenshot(page, "3-saved-row")
    saved.get_by_role("link", name=re.compile(r"INV-\d{4}-000001")).click()
    invoice_heading = page.get_by_role("heading", level=1)
    expect(invoice_heading).to_have_text(re.compile(r"Invoice INV-\d{4}-000001"))
    expect(page.get_by_test_id("invoice-total")).to_have_text("375.48")
    screenshot(page, "3b-invoice")

    invoice = Invoice.objects.get()
    assert (invoice.net_total, invoice.vat_total, invoice.total) == (
        Decimal("326.50"),
        Decimal("48.98"),
        Decimal("375.48"),
    )
    assert invoice.lines.count() == 3

    page.goto(page.get_by_test_id("print-link").get_attribute("href"))
    expect(page.get_by_test_id("zatca-qr").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("print-total")).to_have_text("375.48")
    expect(page.locator("nav")).to_have_count(0)
    screenshot(page, "4-print")
    page.emulate_media(media="print")
    screenshot(page, "5-print-media")
    page.emulate_media(media="screen")

    page.goto("/invoices/needs-invoice/")
    expect(page.locator(f"#job-row-{completed_job.pk}")).to_have_count(0)
    page.get_by_role("link", name="Invoices", exact=True).last.click()
    row = page.locator(f"#invoice-row-{invoice.pk}")
    expect(row).to_contain_text("375.48")
    expect(row).to_contain_text("Not required")
    page.fill("#invoice-search", "ا ب ح ١٢٣٤")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#invoice-table tbody tr")).to_have_count(1)
    screenshot(page, "6-invoice-list")

    page.get_by_test_id("lang-ar").click()
    page.goto(f"/invoices/{invoice.pk}/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    screenshot(page, "7-invoice-arabic")


def test_accountant_voids_and_reissues_from_the_dialog_and_sees_both_versions(
    page: Page, completed_job: JobCard, screenshot
):
    UserFactory(username="accountant", role=roles.ACCOUNTANT)
    original = InvoiceFactory(job=completed_job)
    page.goto("/login/")
    page.fill("#id_username", "accountant")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/invoices/{original.pk}/")

    page.get_by_role("button", name="Void…").click()
    dialog = page.locator("#void-modal")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Void and reissue").click()
    # The reason is required: the page comes back with the dialog open and the error in it.
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This field is required.")
    expect(dialog).to_have_css("opacity", "1")  # the fade-in has finished
    screenshot(page, "0-void-reason-missing")

    dialog.get_by_label("Reason").fill("Wrong plate on the invoice")
    dialog.get_by_role("button", name="Void and reissue").click()
    replacement = Invoice.objects.get(replaces=original)
    expect(page).to_have_url(re.compile(rf"/invoices/{replacement.pk}/$"))
    versions = page.get_by_test_id("versions")
    expect(versions).to_contain_text(original.number)
    expect(versions).to_contain_text(replacement.number)
    screenshot(page, "1-replacement")

    versions.get_by_role("link", name=original.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(original.number)
    expect(page.locator(".alert-secondary")).to_contain_text("Wrong plate on the invoice")
    expect(page.get_by_role("button", name="Reissue")).to_have_count(0)
    screenshot(page, "2-original-void")
