"""The home page in a browser: the advisor moves cards on the job board, the accountant follows
the figures to their lists, in English and Arabic."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from core import roles
from garage.models import JobCard
from invoicing.models import Invoice
from payments.models import QoyodPaymentState
from qoyod_sync.models import QoyodInvoiceSync, SyncState
from tests.factories import JobCardFactory, ServiceLineFactory, UserFactory
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo12345")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(re.compile(r":\d+/$"))


def test_the_advisor_starts_and_completes_a_job_by_moving_its_card(page: Page, screenshot):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="advisor", first_name="Sara", role=roles.ADVISOR)
    job = JobCardFactory(number="JOB-2026-000101")
    ServiceLineFactory(job=job)
    CompletedJobFactory(number="JOB-2026-000102")
    _log_in(page, "advisor")
    card = page.get_by_test_id("card-JOB-2026-000101")
    expect(
        page.get_by_test_id("column-open").get_by_test_id("card-JOB-2026-000101")
    ).to_be_visible()
    screenshot(page, "0-board")

    card.drag_to(page.get_by_test_id("column-in_progress"))

    moved = page.get_by_test_id("column-in_progress").get_by_test_id("card-JOB-2026-000101")
    expect(moved).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Work on JOB-2026-000101 started.")
    assert JobCard.objects.get(pk=job.pk).status == JobCard.Status.IN_PROGRESS

    moved.drag_to(page.get_by_test_id("column-waiting"))

    done = page.get_by_test_id("column-waiting").get_by_test_id("card-JOB-2026-000101")
    expect(done.get_by_role("link", name="Create invoice")).to_be_visible()
    assert JobCard.objects.get(pk=job.pk).status == JobCard.Status.COMPLETED
    expect(page.get_by_test_id("count-waiting")).to_have_text("2")
    screenshot(page, "1-board-moved")

    # A card dropped on a column it may not move to stays where it is.
    done.drag_to(page.get_by_test_id("column-open"))
    expect(
        page.get_by_test_id("column-waiting").get_by_test_id("card-JOB-2026-000101")
    ).to_be_visible()

    page.get_by_test_id("lang-ar").click()
    expect(page.get_by_role("heading", name="لوحة الأعمال")).to_be_visible()
    screenshot(page, "2-board-ar")


def _draft_in_qoyod(qoyod_status: str, due: str = "0") -> None:
    invoice = InvoiceFactory(requires_qoyod=True)
    Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=True)
    QoyodInvoiceSync.objects.create(
        invoice=invoice, state=SyncState.DRAFT_CREATED, qoyod_invoice_id=str(invoice.pk)
    )
    # Checked just now, so opening the list queues no background read of these rows.
    QoyodPaymentState.objects.create(
        invoice=invoice,
        qoyod_status=qoyod_status,
        qoyod_due=Decimal(due),
        checked_at=timezone.now(),
    )


# Each figure's test id, the number it shows, and the rows of the list it links to.
FIGURES = [
    ("needs-invoice", "2", r"/invoices/needs-invoice/$", "#needs-invoice-table tbody tr"),
    ("ready", "1", r"/invoices/\?qoyod=ready$", "#invoice-table tbody tr"),
    ("retry", "3", r"/qoyod/retry-queue/$", "[data-testid=retry-queue] tbody tr"),
    ("awaiting", "2", r"/invoices/\?qoyod=awaiting_approval$", "#invoice-table tbody tr"),
    ("unpaid-qoyod", "1", r"/invoices/\?qoyod=unpaid$", "#invoice-table tbody tr"),
]


def test_the_accountant_follows_each_figure_to_a_list_of_that_many_rows(page: Page, screenshot):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="accountant", first_name="Huda", role=roles.ACCOUNTANT)
    CompletedJobFactory()
    CompletedJobFactory()
    failed = InvoiceFactory(requires_qoyod=True)
    QoyodInvoiceSync.objects.create(invoice=failed, state=SyncState.FAILED)
    for _ in range(2):
        QoyodInvoiceSync.objects.create(
            invoice=InvoiceFactory(requires_qoyod=True), state=SyncState.UNKNOWN
        )
    ready = InvoiceFactory(requires_qoyod=True)
    _draft_in_qoyod("draft")
    _draft_in_qoyod("awaiting_approval")
    _draft_in_qoyod("partially_paid", due="120.50")
    _draft_in_qoyod("paid")
    _log_in(page, "accountant")
    screenshot(page, "0-accountant")
    expect(page.get_by_test_id("nav-badge")).to_have_text("3")

    for key, shown, url, rows in FIGURES:
        figure = page.get_by_test_id(f"figure-{key}")
        expect(figure.locator("bdi").first).to_have_text(shown)
        figure.click()
        expect(page).to_have_url(re.compile(url))
        expect(page.locator(rows)).to_have_count(int(shown))
        page.go_back()

    expect(page.get_by_test_id("figure-unpaid-qoyod")).to_contain_text("120.50")
    page.get_by_test_id("figure-ready").click()
    expect(page.locator(f"#invoice-row-{ready.pk}")).to_be_visible()
    page.go_back()
    page.get_by_test_id("figure-retry").click()
    expect(page.get_by_text(failed.number)).to_be_visible()

    page.goto("/")
    page.get_by_test_id("lang-ar").click()
    expect(page.get_by_role("heading", name="الدفاتر")).to_be_visible()
    screenshot(page, "1-accountant-ar")
