"""Browser: import a statement CSV, filter by budget, bulk assign an account, verify (en, ar)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounting.models import Account, Transaction
from core import roles
from tests.accounting_factories import BudgetFactory
from tests.e2e.conftest import ARTIFACTS
from tests.factories import BranchFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = ARTIFACTS / "screenshots"
CSV = (
    "Date,Description,Amount,Reference,Budget\n"
    "01/11/2026,قطع غيار فرامل,-115.00,REF-1,Maintenance\n"
    "02/11/2026,Fuel,-50.00,REF-2,\n"
    "02/11/2026,Fuel,-50.00,REF-2,\n"
    "03/11/2026,Bad amount,abc,REF-3,\n"
)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_import_a_statement_and_filter_by_budget(page: Page, live_server, tmp_path, language):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="fin", role=roles.FINANCE_MANAGER)
    BranchFactory(name_en="Riyadh", name_ar="الرياض")
    budget = BudgetFactory(name_en="Maintenance", name_ar="صيانة")
    account = Account.objects.create(
        qoyod_id=41, code="5100", name_en="Maintenance expenses", name_ar="مصروفات الصيانة",
        account_type="Expense", last_seen_at=timezone.now(),
    )  # fmt: skip
    statement = Path(tmp_path / "statement.csv")
    statement.write_text(CSV, encoding="utf-8")
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto("/login/")
    page.fill("#id_username", "fin")
    page.fill("#id_password", "demo12345")
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r":\d+/$"))
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto("/accounting/import/")
    page.set_input_files("#id_file", str(statement))
    page.screenshot(path=str(SHOTS / f"{language}-import-upload.png"), full_page=True)
    page.locator("[data-testid=statement-upload] button[type=submit]").click()
    page.locator("[data-testid=statement-mapping] button[type=submit]").click()
    expect(page.locator("[data-testid=preview-lines] tbody tr")).to_have_count(2)
    expect(page.locator("[data-testid=duplicates] li")).to_have_count(1)
    expect(page.locator("[data-testid=problems] li")).to_have_count(1)
    page.screenshot(path=str(SHOTS / f"{language}-import-preview.png"), full_page=True)
    page.locator("[data-testid=statement-import] button").click()
    expect(page.locator("[data-testid=import-result]")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"{language}-import-result.png"), full_page=True)

    page.goto(f"/accounting/transactions/?budget={budget.pk}")
    expect(page.locator("[data-testid=transactions] tbody tr[data-number]")).to_have_count(1)
    page.screenshot(path=str(SHOTS / f"{language}-import-filtered.png"), full_page=True)

    page.select_option("[data-testid=bulk-account]", value=str(account.pk))
    page.locator("[data-testid=bulk-assign] button[type=submit]").click()
    page.screenshot(path=str(SHOTS / f"{language}-import-assign-confirm.png"), full_page=True)
    page.locator("[data-testid=bulk-confirm] button[type=submit]").click()
    row = page.locator("[data-testid=transactions] tbody tr[data-number]")
    expect(row).to_contain_text("5100")
    lost = row.locator("input[name=receipt_lost_reason]")
    if lost.count():
        lost.fill("Bank statement line, no paper receipt")
    row.locator("button.btn-success").click()
    page.goto(f"/accounting/transactions/?tab=verified&budget={budget.pk}")
    expect(page.locator("[data-testid=transactions] tbody tr[data-number]")).to_have_count(1)
    page.screenshot(path=str(SHOTS / f"{language}-import-verified.png"), full_page=True)
    assert Transaction.objects.filter(verified_at__isnull=False, budget=budget).count() == 1
