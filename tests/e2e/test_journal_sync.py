"""Browser: the Verified tab → select → Sync to Qoyod → the progress bar counts done, failed and
remaining to the end; the rows show their Qoyod entry ids, the refused one its reason (en, ar).
Against the sandbox over loopback, one entry refused by its fault switch."""

from __future__ import annotations

import datetime
import re

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounting.configuration import configuration_sync
from accounting.models import Account, AccountingSettings, Transaction
from accounting.sync_views import BATCH
from core import roles
from qoyod_sync.services import connection_save, connection_test
from tests.accounting_factories import TransactionFactory
from tests.e2e.conftest import ARTIFACTS
from tests.factories import BranchFactory, UserFactory
from tests.qoyod_fixtures import SANDBOX_KEY, TEST_OPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = ARTIFACTS / "screenshots"
BANK, INPUT_VAT, SUPPLIES = 8, 20, 22
# Seven rows: two batches of five and two, so the bar is seen between requests too.
ROWS = 7
# The list shows the newest first and the page sends the rows in batches in the list's order;
# the server sends a batch oldest first. So the oldest of the newest five is sent first: the one
# Qoyod refuses.
REFUSED = ROWS - BATCH


@pytest.mark.parametrize("language", ["en", "ar"])
def test_sync_progress_counts_to_the_end_and_rows_show_their_entries(
    page: Page, live_server, qoyod_sandbox, language
):
    roles.roles_sync(apps, strict=True)
    UserFactory(username="acc", role=roles.ACCOUNTANT)
    branch = BranchFactory(code="RUH", name_en="Riyadh", name_ar="الرياض")
    connection_save(base_url=qoyod_sandbox.base_url, api_key=SANDBOX_KEY, user=None)
    connection_test(user=None, options=TEST_OPTIONS)
    assert configuration_sync(user=None, options=TEST_OPTIONS).ok
    AccountingSettings.objects.filter(singleton=True).update(
        source_account=Account.objects.get(qoyod_id=BANK),
        vat_account=Account.objects.get(qoyod_id=INPUT_VAT),
        receipt_required=False,
    )
    rows = [
        TransactionFactory(
            branch=branch,
            account=Account.objects.get(qoyod_id=SUPPLIES),
            date=datetime.date(2026, 11, 1) + datetime.timedelta(days=n),
            verified_at=timezone.now(),
            payee=f"Supplier {n + 1}",
        )  # fmt: skip
        for n in range(ROWS)
    ]
    refused = rows[REFUSED]
    # Refused as Qoyod refuses an account deleted there since the configuration was synced.
    qoyod_sandbox.faults.fail_next(
        status=422, body={"errors": "Plutus::Account id 22 is not valid"},
        method="POST", path="/journal_entries",
    )  # fmt: skip
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto("/login/")
    page.fill("#id_username", "acc")
    page.fill("#id_password", "demo12345")
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r":\d+/$"))
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto("/accounting/transactions/?tab=verified")
    table = page.locator("[data-testid=transactions] tbody tr[data-number]")
    expect(table).to_have_count(ROWS)
    for row in rows:
        page.check(f"tr[data-pk='{row.pk}'] input[type=checkbox][name=pk]")
    page.screenshot(path=str(SHOTS / f"{language}-sync-selected.png"), full_page=True)
    page.get_by_test_id("sync-submit").click()

    counts = page.get_by_test_id("sync-counts")
    finished = "Finished" if language == "en" else "انتهى"
    expect(counts).to_contain_text(finished)
    page.screenshot(path=str(SHOTS / f"{language}-sync-finished.png"), full_page=True)
    bar = page.locator("[data-sync-bar]")
    assert (bar.get_attribute("max"), bar.get_attribute("value")) == (str(ROWS), str(ROWS))
    numbers = re.findall(r"\d+", counts.inner_text().split("—")[0])
    assert numbers == [str(ROWS - 1), "1", "0"]
    assert page.locator("[data-sync-failures] li").count() == 1

    entries = {
        e.description.split(" ")[0]: e.id for e in qoyod_sandbox.company().journal_entries.values()
    }
    assert sorted(entries) == sorted(r.number for r in rows if r != refused)
    for row in rows:
        cell = page.locator(f"tr[data-pk='{row.pk}'] [data-sync-cell]")
        if row == refused:
            expect(cell.locator("[data-sync-reason]")).to_be_visible()
            expect(cell.locator("[data-sync-entry]")).to_have_count(0)
        else:
            expect(cell.locator("[data-sync-entry]")).to_have_text(f"#{entries[row.number]}")
    states = dict(Transaction.objects.values_list("number", "state"))
    assert states == {r.number: "failed" if r == refused else "synced" for r in rows}

    # A reload shows each row as the database has it: the same ids and the same reason.
    page.reload()
    for row in rows:
        cell = page.locator(f"tr[data-pk='{row.pk}'] [data-sync-cell]")
        if row == refused:
            expect(cell.locator("[data-sync-reason]")).to_be_visible()
        else:
            expect(cell.locator("[data-sync-entry]")).to_have_text(f"#{entries[row.number]}")
    page.screenshot(path=str(SHOTS / f"{language}-sync-reloaded.png"), full_page=True)
