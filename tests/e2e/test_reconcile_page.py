"""In the browser: break the sandbox company (a duplicate, a deleted draft, a changed total, an
expense bill changed in Qoyod), Run now on the Reconciliation page, read the headline and the
exceptions in English and Arabic, on the invoices tab and the expense bills tab."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from core import roles
from tests.factories import UserFactory
from tests.qoyod_sync.refresh_helpers import connect, managed_invoice, qoyod_id, sent_bill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_now_lists_what_was_broken_in_qoyod(page: Page, qoyod_sandbox, screenshot):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="accountant", first_name="Noura", role=roles.ACCOUNTANT)
    connect(qoyod_sandbox)
    managed_invoice(qoyod_sandbox)
    for action in ("duplicate", "delete", "inflate"):
        qoyod_sandbox.act("invoices", qoyod_id(managed_invoice(qoyod_sandbox)), action)
    sent_bill(qoyod_sandbox)
    sent_bill(qoyod_sandbox, amount="230.00", billed="200.00")
    today = timezone.localdate().isoformat()

    page.goto("/login/")
    page.fill("#id_username", "accountant")
    page.fill("#id_password", "demo12345")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r":\d+/$"))
    page.get_by_role("link", name="Reconciliation").first.click()
    page.fill("#id_date_from", today)
    page.fill("#id_date_to", today)
    page.get_by_role("button", name="Run now").click()

    expect(page.get_by_test_id("reconcile-headline")).to_contain_text(
        "4 invoices: 2 in Qoyod once, 1 duplicates, 1 drift"
    )
    expect(page.get_by_test_id("reconcile-findings").locator("tbody tr")).to_have_count(3)
    screenshot(page, "1-english")

    page.get_by_test_id("lang-ar").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("reconcile-headline")).to_contain_text("في قيود مرة واحدة")
    screenshot(page, "2-arabic")

    page.get_by_role("link", name="فواتير المصروفات").click()
    expect(page.get_by_test_id("reconcile-bills-headline")).to_contain_text(
        "فاتورتا مصروفات مرسلتان"
    )
    expect(page.get_by_test_id("reconcile-bills-findings").locator("tbody tr")).to_have_count(1)
    screenshot(page, "3-arabic-bills")

    page.get_by_test_id("lang-en").click()
    expect(page.get_by_test_id("reconcile-bills-headline")).to_contain_text(
        "2 expense bills sent: 0 missing, 0 duplicates, 1 drift, 0 unknown to us"
    )
    screenshot(page, "4-english-bills")
