"""In the browser, with a real Celery worker: open Invoices with a stale invoice the accountant
has paid in Qoyod → the row turns paid without reloading; a deleted draft shows as returned by
accounting; Refresh from Qoyod on a row and Refresh Qoyod in the header; the page in Arabic.

The worker runs in-process on the test broker (Redis when REDIS_URL is set, else memory).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from core import roles
from invoicing.models import Invoice
from qoyod_sync.readback import fetch
from tests.factories import UserFactory
from tests.qoyod_sync.refresh_helpers import celery_worker, connect, managed_invoice, qoyod_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The page polls every 2 s; the worker needs a moment to pick the task up.
ROW_TIMEOUT = 20_000


@pytest.fixture
def worker():
    with celery_worker() as running:
        yield running


@pytest.fixture
def invoices(qoyod_sandbox) -> dict[str, Invoice]:
    roles.roles_sync(apps, strict=True)
    UserFactory(username="accountant", first_name="Noura", role=roles.ACCOUNTANT)
    connect(qoyod_sandbox)
    paid = managed_invoice(qoyod_sandbox, job__vehicle__plate_number="1234 ABJ")
    qoyod_sandbox.act("invoices", qoyod_id(paid), "approve")
    qoyod_sandbox.act("invoices", qoyod_id(paid), "payments", {})
    returned = managed_invoice(qoyod_sandbox, job__vehicle__plate_number="987 HXT")
    qoyod_sandbox.act("invoices", qoyod_id(returned), "delete")
    approved = managed_invoice(qoyod_sandbox, job__vehicle__plate_number="55 RSD")
    qoyod_sandbox.act("invoices", qoyod_id(approved), "approve")
    # Read a minute ago: not stale, so opening the page leaves it alone.
    fetch.invoices_refresh(invoice_ids=[approved.pk])
    qoyod_sandbox.requests.clear()
    return {"paid": paid, "returned": returned, "approved": approved}


def _log_in(page: Page) -> None:
    page.goto("/login/")
    page.fill("#id_username", "accountant")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r":\d+/$"))


def _status(page: Page, invoice: Invoice):
    return page.locator(f"#invoice-row-{invoice.pk} [data-status]")


def test_a_stale_paid_invoice_turns_paid_without_reloading(
    page: Page, invoices, qoyod_sandbox, worker, screenshot
):
    paid, returned, approved = invoices["paid"], invoices["returned"], invoices["approved"]
    _log_in(page)

    page.goto("/invoices/")
    # Marks this document: a reload or a navigation would lose it.
    page.evaluate("window.openedOnce = true")
    row = page.locator(f"#invoice-row-{paid.pk}")
    expect(_status(page, paid)).to_have_attribute("data-status", "issued")
    expect(row.get_by_test_id("qoyod-refreshed")).to_contain_text("Refreshing from Qoyod")
    expect(page.get_by_test_id("qoyod-refresh-status")).to_contain_text(
        "Refreshing 2 invoices from Qoyod"
    )
    expect(page.locator(f"#invoice-row-{approved.pk}")).to_contain_text("In Qoyod: Approved")
    screenshot(page, "0-opened")

    expect(_status(page, paid)).to_have_attribute("data-status", "paid", timeout=ROW_TIMEOUT)
    expect(row.get_by_test_id("qoyod-status")).to_have_text("In Qoyod: Paid")
    expect(row.get_by_test_id("qoyod-paid")).to_have_text("paid 276.00 of 276.00")
    expect(row.get_by_test_id("qoyod-refreshed")).to_contain_text(
        re.compile(r"Refreshed .*(now|ago)")
    )
    expect(
        page.locator(f"#invoice-row-{returned.pk}").get_by_test_id("qoyod-returned")
    ).to_be_visible(timeout=ROW_TIMEOUT)
    expect(page.get_by_test_id("qoyod-refresh-status")).to_have_text("Refreshed from Qoyod.")
    assert page.evaluate("window.openedOnce") is True
    screenshot(page, "1-turned-paid")
    paid.refresh_from_db()
    assert (paid.status, paid.amount_paid, paid.balance) == ("paid", Decimal("276.00"), 0)

    # The accountant records part of the approved invoice in Qoyod; the row is refreshed now.
    qoyod_sandbox.act("invoices", qoyod_id(approved), "payments", {"amount": "100.00"})
    approved_row = page.locator(f"#invoice-row-{approved.pk}")
    approved_row.get_by_test_id("qoyod-refresh").click()
    expect(_status(page, approved)).to_have_attribute("data-status", "partially_paid")
    expect(approved_row.get_by_test_id("qoyod-paid")).to_have_text("paid 100.00 of 276.00")
    expect(approved_row.get_by_test_id("qoyod-refresh-message")).to_have_text("Updated from Qoyod.")
    screenshot(page, "2-row-refreshed")

    # Then the rest; Refresh Qoyod in the header reads the visible rows in the background.
    qoyod_sandbox.act("invoices", qoyod_id(approved), "payments", {})
    page.get_by_test_id("qoyod-refresh-all").click()
    expect(page.get_by_test_id("qoyod-refresh-status")).to_contain_text(
        "Refreshing 3 invoices from Qoyod"
    )
    expect(_status(page, approved)).to_have_attribute("data-status", "paid", timeout=ROW_TIMEOUT)
    expect(page.get_by_test_id("qoyod-refresh-status")).to_have_text("Refreshed from Qoyod.")
    assert page.evaluate("window.openedOnce") is True
    screenshot(page, "3-header-refresh")
    assert {r.method for r in qoyod_sandbox.requests.all()} == {"GET"}

    page.get_by_test_id("lang-ar").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    screenshot(page, "4-arabic")
