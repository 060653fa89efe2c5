from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from core import roles
from garage.models import Customer, JobCard, PartStock
from tests.factories import (
    BranchFactory,
    PartStockFactory,
    ServiceItemFactory,
    SparePartFactory,
    UserFactory,
    VehicleFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workshop() -> dict:
    # Migrations create the groups; a transactional test may start after another one's flush.
    roles.roles_sync(apps, strict=True)
    branch = BranchFactory(code="RUH", name_en="Riyadh Olaya", name_ar="الرياض العليا")
    service = ServiceItemFactory(
        code="SRV-OIL", name_en="Oil change", name_ar="تغيير الزيت", default_price=Decimal("120")
    )
    part = SparePartFactory(
        sku="FLT-100", name_en="Oil filter", name_ar="فلتر زيت", sale_price=Decimal("35.50")
    )
    PartStockFactory(part=part, branch=branch, quantity=Decimal("5"))
    VehicleFactory(plate_number="9 DD")  # another customer's car, not offered for this one
    UserFactory(username="advisor", first_name="Sara", role=roles.ADVISOR)
    return {"branch": branch, "service": service, "part": part}


def _log_in(page: Page) -> None:
    page.goto("/login/")
    page.fill("#id_username", "advisor")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r":\d+/$"))


def test_advisor_runs_a_job_from_new_customer_to_completed_then_reads_it_in_arabic(
    page: Page, workshop: dict, screenshot
):
    _log_in(page)

    page.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="New customer").click()
    page.fill("#id_name_ar", "محمد العتيبي")
    page.fill("#id_phone", "٠٥٥ ١٢٣ ٤٥٦٧")
    page.fill("#id_city", "Riyadh")
    screenshot(page, "0-customer-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("محمد العتيبي")

    page.get_by_role("link", name="Add vehicle").click()
    page.fill("#id_plate_number", "١٢٣٤ ا ب ح")
    page.fill("#id_make", "Toyota")
    page.fill("#id_model", "Camry")
    page.fill("#id_year", "2021")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-testid="vehicle-table"] .plate').first).to_have_text("1234 ABJ")
    screenshot(page, "1-customer")

    customer = Customer.objects.get(name_ar="محمد العتيبي")
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name="New job").click()
    page.select_option("#id_branch", str(workshop["branch"].pk))
    expect(page.locator("#id_vehicle option")).to_have_count(3)  # blank + both vehicles
    page.select_option("#id_customer", str(customer.pk))
    # htmx swaps in the vehicle field, now limited to this customer's vehicle.
    expect(page.locator("#id_vehicle option")).to_have_count(2)
    # The plate and the name sit in bidi isolates (core.arabic), so Arabic cannot reorder them.
    page.select_option("#id_vehicle", label="\u20661234 ABJ\u2069 · \u2068Toyota Camry 2021\u2069")
    page.fill("#id_odometer_in", "45200")
    page.fill("#id_complaint", "Oil change due; squeak from the front left wheel")
    screenshot(page, "1b-job-form")
    page.get_by_role("button", name="Open job").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Job JOB-")
    expect(page.locator('[data-testid="no-lines"]')).to_be_visible()

    # A value on window survives only if htmx swaps the fragment instead of reloading the page.
    page.evaluate("window.stillTheSamePage = true")
    page.select_option("#id_item", f"service:{workshop['service'].pk}")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("[data-line-id]")).to_have_count(1)
    page.select_option("#id_item", f"part:{workshop['part'].pk}")
    page.fill("#id_quantity", "2")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("[data-line-id]")).to_have_count(2)
    # 120.00 + 2 x 35.50 = 191.00 net, 28.65 VAT
    expect(page.locator('[data-testid="job-total"]')).to_have_text("219.65")
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "2-lines")

    page.get_by_role("button", name="Complete job").click()
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Completed")
    expect(page.locator('[data-testid="add-line-form"]')).to_have_count(0)
    screenshot(page, "3-completed")

    job = JobCard.objects.get()
    assert (job.status, job.customer, job.odometer_in) == (
        JobCard.Status.COMPLETED,
        customer,
        45200,
    )
    assert PartStock.objects.get(part=workshop["part"]).quantity == Decimal("3")

    page.get_by_test_id("lang-ar").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator('[data-testid="job-total"]')).to_have_text("219.65")
    screenshot(page, "4-job-arabic")
    page.goto("/jobs/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    screenshot(page, "5-jobs-arabic")


def test_admin_receives_stock_on_the_part_page_and_sees_it_per_branch(
    page: Page, workshop: dict, screenshot
):
    UserFactory(username="boss", role=roles.ADMIN)
    BranchFactory(code="JED", name_en="Jeddah Corniche", name_ar="جدة الكورنيش")
    page.goto("/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Parts").click()
    page.get_by_role("link", name="FLT-100").click()
    page.select_option("#id_branch", str(workshop["branch"].pk))
    page.fill("#id_quantity", "0")
    page.get_by_role("button", name="Receive", exact=True).click()
    expect(page.locator('[data-field-error="quantity"]')).to_be_visible()
    screenshot(page, "1-receive-error")
    page.fill("#id_quantity", "7")
    page.fill("#id_reason", "Supplier invoice 4471")
    page.get_by_role("button", name="Receive", exact=True).click()
    expect(page.locator('[data-testid="stock-table"]')).to_contain_text("12")
    expect(page.locator('[data-testid="movement-table"]')).to_contain_text("received: Supplier")

    page.get_by_role("link", name="All parts").click()
    row = page.locator('[data-testid="part-table"] tbody tr').first
    expect(row.locator("td.money")).to_have_text(["35.50", "15%", "0", "12", "12"])
    screenshot(page, "2-parts")
    page.get_by_test_id("lang-ar").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    screenshot(page, "3-parts-arabic")
    # The Arabic catalogue is compiled in, so the tab reads in Arabic now.
    page.get_by_role("link", name="الخدمات", exact=True).click()
    expect(page.locator('[data-testid="service-table"]')).to_contain_text("SRV-OIL")
    screenshot(page, "4-services-arabic")
