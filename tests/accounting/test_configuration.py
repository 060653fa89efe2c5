"""Configuration sync against the sandbox over loopback: accounts, warehouses and taxes.

Accounts deactivated or removed in Qoyod become inactive here and are never deleted while
anything refers to them; the counts shown say what changed; a failed read changes nothing.
"""

from __future__ import annotations

import pytest
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from accounting import tasks
from accounting.configuration import configuration_auto_sync, configuration_sync
from accounting.models import Account, AccountingSettings
from config.celery import app
from core import roles
from qoyod_sync.models import QoyodConnection
from qoyod_sync.sandbox import chart
from qoyod_sync.sandbox.chart import DEFAULT_CHART
from tests.factories import UserFactory
from tests.qoyod_fixtures import SANDBOX_KEY, TEST_OPTIONS, SandboxHandle
from tests.qoyod_sync.refresh_helpers import connect

pytestmark = pytest.mark.django_db
CHART = len(DEFAULT_CHART)


@pytest.fixture
def sandbox(qoyod_sandbox: SandboxHandle) -> SandboxHandle:
    connect(qoyod_sandbox)
    return qoyod_sandbox


def sync():
    return configuration_sync(user=None, options=TEST_OPTIONS)


def statuses() -> dict[int, str]:
    return dict(Account.objects.values_list("qoyod_id", "status"))


def test_the_first_sync_mirrors_the_chart_warehouses_and_taxes(sandbox: SandboxHandle) -> None:
    outcome = sync()

    settings = AccountingSettings.objects.get()
    bank = Account.objects.get(qoyod_id=8)
    assert outcome.ok is True
    assert outcome.counts == {
        "accounts": {"new": CHART, "updated": 0, "deactivated": 0, "total": CHART},
        "warehouses": {"new": 2, "updated": 0, "removed": 0, "total": 2},
        "taxes": {"new": 3, "updated": 0, "removed": 0, "total": 3},
    }
    assert settings.last_sync_counts == outcome.counts
    assert (settings.last_sync_ok, settings.is_synced) == (True, True)
    assert settings.last_sync_message == (
        f"Configuration synced: {CHART} accounts ({CHART} new, 0 updated, 0 deactivated), "
        "2 warehouses, 3 taxes."
    )
    assert (bank.code, bank.name_en, bank.name_ar, bank.account_type, bank.group_type) == (
        "110201",
        "Current bank account",
        "حساب البنك الجاري",
        "Asset",
        "Bank",
    )
    assert (bank.nature, bank.parent_type, bank.is_leaf, bank.status) == (
        "Debit",
        "Asset",
        True,
        Account.Status.ACTIVE,
    )
    assert {q for q, s in statuses().items() if s != Account.Status.ACTIVE} == {30, 31}
    catalogue = QoyodConnection.objects.get().catalogue
    assert [w["id"] for w in catalogue["warehouses"]] == [1, 2]
    assert [t["id"] for t in catalogue["taxes"]] == [1, 2, 3]


def test_a_second_sync_counts_what_changed_in_qoyod(sandbox: SandboxHandle) -> None:
    company = sandbox.company()
    sync()
    chart.account_set_status(company, 22, chart.INACTIVE)
    chart.account_set_status(company, 30, chart.ACTIVE)
    company.accounts[23].name_en = "Bank fees"
    chart.account_remove(company, 24)
    added = chart.account_add(
        company, code="5212", name_en="Tyres", name_ar="إطارات", type="Expense"
    )
    company.warehouses[2].name = "Jeddah - Al Rawdah"

    outcome = sync()

    assert outcome.counts == {
        # 22 deactivated and 24 removed; 23 renamed and 30 active again.
        "accounts": {"new": 1, "updated": 2, "deactivated": 2, "total": CHART},
        "warehouses": {"new": 0, "updated": 1, "removed": 0, "total": 2},
        "taxes": {"new": 0, "updated": 0, "removed": 0, "total": 3},
    }
    found = statuses()
    assert (found[22], found[24], found[30], found[added.id]) == (
        Account.Status.INACTIVE,
        Account.Status.REMOVED,
        Account.Status.ACTIVE,
        Account.Status.ACTIVE,
    )
    assert Account.objects.get(qoyod_id=23).name_en == "Bank fees"
    assert Account.objects.count() == CHART + 1


def test_an_account_in_use_is_kept_when_qoyod_drops_it_and_cannot_be_deleted(
    sandbox: SandboxHandle,
) -> None:
    sync()
    bank = Account.objects.get(qoyod_id=8)
    AccountingSettings.objects.filter(singleton=True).update(source_account=bank)
    chart.account_remove(sandbox.company(), 8)

    sync()

    bank.refresh_from_db()
    assert bank.status == Account.Status.REMOVED
    assert AccountingSettings.objects.get().source_account == bank
    with pytest.raises(ProtectedError):
        bank.delete()


def test_a_large_chart_is_synced_by_cursor_when_deep_pages_fail(sandbox: SandboxHandle) -> None:
    company = sandbox.company()
    for n in range(300):
        chart.account_add(company, code=f"6{n:04}", name_en=f"Cost {n}", name_ar=f"تكلفة {n}",
                          type="Expense")  # fmt: skip
    chart.deep_pages_fail(company, on=True)

    outcome = sync()

    assert outcome.ok is True
    assert outcome.counts["accounts"]["new"] == CHART + 300
    assert set(statuses()) == set(company.accounts)
    assert sandbox.requests.count(method="GET", path="/2.0/accounts") > 3


def test_a_refused_key_records_the_failure_and_changes_nothing(sandbox: SandboxHandle) -> None:
    sync()
    before = list(Account.objects.order_by("pk").values())
    counts = AccountingSettings.objects.get().last_sync_counts
    chart.account_set_status(sandbox.company(), 22, chart.INACTIVE)
    sandbox.state.revoke(SANDBOX_KEY)

    outcome = sync()

    settings = AccountingSettings.objects.get()
    assert outcome.ok is False
    assert settings.last_sync_message == (
        "Configuration sync failed: Qoyod refused the API key. Check it in Settings → Qoyod."
    )
    assert (settings.last_sync_ok, settings.last_sync_counts) == (False, counts)
    assert list(Account.objects.order_by("pk").values()) == before


def test_without_a_connection_nothing_is_read_or_stored(qoyod_sandbox: SandboxHandle) -> None:
    outcome = sync()

    assert (outcome.ok, outcome.message.code) == (False, "accounting.sync.connect_first")
    assert Account.objects.count() == 0
    assert qoyod_sandbox.requests.all() == []


def test_auto_sync_reads_only_when_switched_on(sandbox: SandboxHandle) -> None:
    off = configuration_auto_sync(options=TEST_OPTIONS)
    AccountingSettings.objects.create(auto_sync=True)
    on = configuration_auto_sync(options=TEST_OPTIONS)

    assert off is None
    assert on is not None and on.ok is True
    assert Account.objects.count() == CHART
    assert {r.method for r in sandbox.requests.all()} == {"GET"}


def test_the_daily_task_is_on_the_beat_schedule(settings) -> None:
    entry = app.conf.beat_schedule["accounting-configuration-sync"]

    assert entry["task"] == tasks.configuration_sync_daily.name
    assert (entry["schedule"].hour, entry["schedule"].minute) == (
        {settings.ACCOUNTING_CONFIG_SYNC_HOUR},
        {15},
    )


def test_sync_configuration_button_shows_what_was_synced(sandbox: SandboxHandle) -> None:
    client = Client()
    client.force_login(UserFactory(role=roles.FINANCE_MANAGER))

    response = client.post(reverse("accounting:config_sync"), follow=True)

    html = response.content.decode()
    assert response.redirect_chain == [(reverse("accounting:settings"), 302)]
    assert f"Configuration synced: {CHART} accounts" in html
    assert 'data-testid="sync-counts"' in html
    assert Account.objects.count() == CHART


def test_the_chart_page_lists_the_mirror_for_the_accountant(sandbox: SandboxHandle) -> None:
    sync()
    client = Client()
    client.force_login(UserFactory(role=roles.ACCOUNTANT))

    html = client.get(reverse("accounting:home")).content.decode()

    assert "Current bank account" in html and "Inactive in Qoyod" in html
    assert reverse("accounting:settings") not in html
