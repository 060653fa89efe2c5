"""In the browser: Generate → Save → Send draft to Qoyod → the row shows the draft; then a
fault in Qoyod → the failed row → Retry Qoyod sync → the draft is created. Against the sandbox.
"""

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
from qoyod_sync.services import connection_save, connection_test
from tests.factories import (
    BranchFactory,
    CustomerFactory,
    PartStockFactory,
    ServiceItemFactory,
    SparePartFactory,
    UserFactory,
    VehicleFactory,
)
from tests.qoyod_fixtures import PART_ACCOUNTS, SANDBOX_KEY, TEST_OPTIONS, choose_send_mappings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def garage(qoyod_sandbox) -> list[JobCard]:
    """Two completed jobs, Qoyod connected to the sandbox, the filter stocked in Qoyod."""
    roles.roles_sync(apps, strict=True)
    accountant = UserFactory(username="accountant", first_name="Noura", role=roles.ACCOUNTANT)
    branch = BranchFactory(code="RUH", name_en="Riyadh Olaya", name_ar="الرياض العليا")
    connection_save(base_url=qoyod_sandbox.base_url, api_key=SANDBOX_KEY, user=None)
    connection_test(user=None, options=TEST_OPTIONS)
    choose_send_mappings()
    oil = ServiceItemFactory(
        code="SRV-OIL", name_en="Oil change", name_ar="تغيير الزيت", default_price=Decimal("120")
    )
    filter_ = SparePartFactory(
        sku="FLT-100", name_en="Oil filter", name_ar="فلتر زيت", sale_price=Decimal("35.50")
    )
    PartStockFactory(part=filter_, branch=branch, quantity=Decimal("10"))
    product = qoyod_sandbox.writer().create_stock_product(
        sku="FLT-100", name_ar="فلتر زيت", name_en="Oil filter", selling_price=Decimal("35.50"),
        buying_price=Decimal("20"), tax_id=1, unit_id=1, category_id=2, **PART_ACCOUNTS,
    )  # fmt: skip
    qoyod_sandbox.company().set_stock(product.id, 1, Decimal("10"))
    jobs = []
    for name, plate in (("Mohammed Al-Shehri", "1234 ABJ"), ("Reem Al-Zahrani", "987 HXT")):
        customer = CustomerFactory(name_en=name)
        vehicle = VehicleFactory(customer=customer, plate_number=plate)
        job = services.jobcard_create(
            branch=branch, customer=customer, vehicle=vehicle, created_by=accountant
        )
        services.jobline_add(job=job, kind="service", item=oil, quantity=Decimal("1"))
        services.jobline_add(job=job, kind="part", item=filter_, quantity=Decimal("2"))
        jobs.append(services.jobcard_complete(job=job, user=accountant))
    return jobs


def _log_in(page: Page) -> None:
    page.goto("/login/")
    page.fill("#id_username", "accountant")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r":\d+/$"))


def _generate_and_save(page: Page, job: JobCard) -> Invoice:
    page.goto("/invoices/needs-invoice/")
    page.locator(f"#job-row-{job.pk}").get_by_role("link", name="Generate").click()
    # Qoyod is connected, so Requires Qoyod invoice starts ticked.
    expect(page.locator("#id_requires_qoyod")).to_be_checked()
    page.get_by_test_id("save-invoice").click()
    invoice = Invoice.objects.get(job=job)
    expect(page.get_by_test_id("saved-invoice")).to_contain_text(f"Just saved: {invoice.number}.")
    return invoice


def test_send_draft_then_fault_then_retry_from_the_invoice_list(
    page: Page, garage: list[JobCard], qoyod_sandbox, screenshot
):
    first_job, second_job = garage
    _log_in(page)

    invoice = _generate_and_save(page, first_job)
    row = page.locator(f"#invoice-row-{invoice.pk}")
    expect(row).to_contain_text("Ready to send")
    screenshot(page, "0-ready")
    row.get_by_test_id("qoyod-send").click()

    expect(row).to_contain_text("Qoyod draft created")
    [draft] = [
        i for i in qoyod_sandbox.company().invoices.values() if i.reference == invoice.number
    ]
    expect(row.get_by_test_id("qoyod-id")).to_have_text(f"Qoyod id {draft.id}")
    expect(row.get_by_test_id("qoyod-send")).to_have_count(0)
    screenshot(page, "1-draft-created")
    assert draft.status == "Draft"
    assert "1234 ABJ" in draft.description

    second = _generate_and_save(page, second_job)
    # Qoyod turns the next invoice write away (rate limited): nothing was saved there.
    qoyod_sandbox.faults.fail_next(status=429, retry_after=1, method="POST", path="/invoices")
    page.get_by_role("link", name="Invoices", exact=True).first.click()
    row = page.locator(f"#invoice-row-{second.pk}")
    row.get_by_test_id("qoyod-send").click()

    expect(row).to_contain_text("Qoyod sync failed")
    expect(row).to_contain_text("Temporary Qoyod or network problem")
    expect(row.get_by_test_id("qoyod-retry")).to_be_visible()
    screenshot(page, "2-failed")

    page.goto("/qoyod/retry-queue/")
    expect(page.get_by_test_id("retry-queue")).to_contain_text(second.number)
    screenshot(page, "3-retry-queue")
    page.goto("/invoices/")
    row = page.locator(f"#invoice-row-{second.pk}")
    row.get_by_test_id("qoyod-retry").click()

    expect(row).to_contain_text("Qoyod draft created")
    screenshot(page, "4-retried")
    drafts = [i for i in qoyod_sandbox.company().invoices.values() if i.reference == second.number]
    assert len(drafts) == 1
    assert qoyod_sandbox.requests.count(method="POST", path="/2.0/invoices") == 3

    page.goto(f"/invoices/{second.pk}/")
    expect(page.get_by_test_id("qoyod-attempts")).to_contain_text("Create draft invoice")
    screenshot(page, "5-attempt-log")


def test_finance_manager_connects_qoyod_and_tests_the_connection(
    page: Page, qoyod_sandbox, screenshot
):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="finance", first_name="Faisal", role=roles.FINANCE_MANAGER)
    BranchFactory(code="RUH", name_en="Riyadh Olaya")
    BranchFactory(code="JED", name_en="Jeddah Rawdah")
    page.goto("/login/")
    page.fill("#id_username", "finance")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name=re.compile("Qoyod")).click()
    page.fill("#id_base_url", qoyod_sandbox.base_url)
    page.fill("#id_api_key", SANDBOX_KEY)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("key-hint")).to_have_text("••••0001")
    expect(page.locator("#id_api_key")).to_have_value("")
    page.get_by_test_id("test-connection").click()

    expect(page.get_by_role("alert").first).to_contain_text("Connected: 2 warehouses")
    expect(page.get_by_test_id("sandbox-badge")).to_be_visible()
    expect(page.locator("select[name^=warehouse_] option:checked").first).to_have_text(
        "Main Workshop"
    )
    screenshot(page, "0-connected")
    assert SANDBOX_KEY not in page.content()
    assert {r.method for r in qoyod_sandbox.requests.all()} == {"GET"}


def test_every_button_of_a_swapped_row_works_in_place(
    page: Page, garage: list[JobCard], qoyod_sandbox
):
    # A row drawn by a send or retry must keep its buttons on htmx; a plain form would post a
    # next= of the POST-only send URL, and the browser would land on HTTP 405.
    statuses: list[tuple[int, str]] = []
    page.on("response", lambda response: statuses.append((response.status, response.url)))
    _log_in(page)
    invoice = _generate_and_save(page, garage[0])
    qoyod_sandbox.faults.fail_next(status=429, retry_after=1, method="POST", path="/invoices")
    page.goto("/invoices/")
    row = page.locator(f"#invoice-row-{invoice.pk}")
    row.get_by_test_id("qoyod-send").click()
    expect(row).to_contain_text("Qoyod sync failed")

    row.get_by_test_id("qoyod-retry").click()
    expect(row).to_contain_text("Qoyod draft created")
    expect(page).to_have_url(re.compile(r"/invoices/$"))

    row.get_by_test_id("qoyod-refresh").click()
    expect(row.get_by_test_id("qoyod-refresh-message")).to_have_text("Updated from Qoyod.")
    expect(row.get_by_test_id("qoyod-status")).to_have_text("In Qoyod: Draft")
    expect(page).to_have_url(re.compile(r"/invoices/$"))

    row.get_by_test_id("qoyod-refresh").click()
    expect(row.get_by_test_id("qoyod-refresh-message")).to_have_text(
        re.compile(r"^(Refreshed from Qoyod\.|Checked with Qoyod: nothing changed\.)$")
    )
    assert [s for s in statuses if s[0] >= 400] == []
    drafts = qoyod_sandbox.company().invoices.values()
    assert len([i for i in drafts if i.reference == invoice.number]) == 1
