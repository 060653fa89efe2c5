"""In the browser: the cashier's counter takings beside what Qoyod received, for a branch and a
day, reached from the Reconciliation page, in English and Arabic."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from core import roles
from invoicing.models import Invoice
from payments.models import QoyodAllocation
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory, PaymentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_daily_close_shows_counter_cash_beside_qoyod(page: Page, screenshot):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="accountant", first_name="Noura", role=roles.ACCOUNTANT)
    today = timezone.localdate()
    local = InvoiceFactory()
    branch = local.branch
    PaymentFactory(invoice=local, amount=Decimal("40.00"), paid_on=today)
    PaymentFactory(invoice=local, amount=Decimal("30.00"), method="card", paid_on=today)
    managed = InvoiceFactory(job__branch=branch)
    Invoice.objects.filter(pk=managed.pk).update(qoyod_managed=True)
    QoyodAllocation.objects.create(invoice=managed, qoyod_id=1, source_type="Receipt",
                                   source_id=1, date=today, amount=Decimal("75.00"))  # fmt: skip

    page.goto("/login/")
    page.fill("#id_username", "accountant")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r":\d+/$"))
    page.get_by_role("link", name="Reconciliation").first.click()
    page.get_by_role("link", name="Daily close").click()
    page.select_option("#id_branch", str(branch.pk))
    page.fill("#id_day", today.isoformat())
    page.get_by_role("button", name="Show").click()

    expect(page.get_by_test_id("counter-total")).to_have_text("70.00")
    expect(page.get_by_test_id("qoyod-received")).to_have_text("75.00")
    expect(page.get_by_test_id("close-difference")).to_have_text("-5.00")
    screenshot(page, "1-english")

    page.get_by_test_id("lang-ar").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("daily-close")).to_contain_text("إجمالي الصندوق")
    # A point, as in English and in the amounts beside it (config/formats/ar), not Django's
    # Arabic comma.
    difference = page.get_by_test_id("close-difference")
    expect(difference).to_have_text("-5.00")
    # A negative amount keeps its minus sign in front in a right-to-left page.
    expect(difference).to_have_attribute("dir", "ltr")
    screenshot(page, "2-arabic")
