"""The source and input-VAT accounts: chosen from the synced chart, refused until it is synced.

Every refusal says why where the user works and changes nothing.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounting.models import Account, AccountingSettings, BranchSourceAccount
from accounting.selectors import source_account_for
from audit.models import AuditEvent
from core import roles
from qoyod_sync.models import QoyodConnection
from qoyod_sync.sandbox.chart import DEFAULT_CHART
from tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/accounting/settings/"


def mirror_chart() -> dict[int, Account]:
    """The default chart, as a sync would leave it."""
    now = timezone.now()
    Account.objects.bulk_create(
        Account(qoyod_id=r.id, code=r.code, name_en=r.name_en, name_ar=r.name_ar,
                account_type=r.type, group_type=r.group_type, nature=r.nature,
                status=Account.Status.ACTIVE if r.status == "Active" else Account.Status.INACTIVE,
                last_seen_at=now)
        for r in DEFAULT_CHART
    )  # fmt: skip
    AccountingSettings.objects.create(last_synced_ok_at=now, last_sync_ok=True)
    return {a.qoyod_id: a for a in Account.objects.all()}


@pytest.fixture
def finance() -> Client:
    client = Client()
    client.force_login(UserFactory(role=roles.FINANCE_MANAGER))
    return client


def post(client: Client, **values: object):
    data = {"receipt_required": "on", **{k: str(v) for k, v in values.items()}}
    return client.post(URL, data)


def test_choosing_accounts_is_refused_until_the_configuration_is_synced(finance: Client) -> None:
    page = finance.get(URL).content.decode()
    response = post(finance, source_account=1, vat_account=2)

    refusal = "Sync the configuration from Qoyod first"
    assert refusal in page and 'name="source_account"' not in page
    assert (response.status_code, refusal in response.content.decode()) == (200, True)
    settings = AccountingSettings.objects.get()
    assert (settings.source_account, settings.vat_account, settings.is_synced) == (
        None,
        None,
        False,
    )
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ACCOUNTING_SETTINGS_SAVE).exists()


def test_the_refusal_is_in_arabic_for_an_arabic_reader(finance: Client) -> None:
    with translation.override("ar"):
        page = finance.get(URL, HTTP_ACCEPT_LANGUAGE="ar").content.decode()

    assert "زامن الإعدادات من قيود أولاً" in page


def test_source_vat_and_branch_override_are_saved_and_audited(finance: Client) -> None:
    accounts = mirror_chart()
    branch = BranchFactory()
    other = BranchFactory()

    response = post(finance, source_account=accounts[8].pk, vat_account=accounts[20].pk,
                    auto_sync="on", **{f"branch_{branch.pk}": accounts[21].pk})  # fmt: skip

    settings = AccountingSettings.objects.get()
    assert response.status_code == 302
    assert (settings.source_account, settings.vat_account) == (accounts[8], accounts[20])
    assert (settings.auto_sync, settings.receipt_required) == (True, True)
    assert source_account_for(branch_id=branch.pk) == accounts[21]
    assert source_account_for(branch_id=other.pk) == accounts[8]
    event = AuditEvent.objects.get(action=AuditEvent.Action.ACCOUNTING_SETTINGS_SAVE)
    assert event.after == {
        "source_account": 8,
        "vat_account": 20,
        "auto_sync": True,
        "receipt_required": True,
        "draft_bills": False,
        "bill_tax_id": None,
        "branch_sources": {str(branch.pk): 21},
    }


def test_draft_expense_bills_need_the_vat_tax_they_are_sent_with(finance: Client) -> None:
    accounts = mirror_chart()
    QoyodConnection.objects.create(
        base_url="https://api.qoyod.com/2.0",
        catalogue={"taxes": [{"id": 1, "name": "VAT 15%", "percentage": "15", "code": "S"}]},
    )
    choice = {"source_account": accounts[8].pk, "vat_account": accounts[20].pk}

    refused = post(finance, draft_bills="on", **choice)
    unchanged = AccountingSettings.objects.get()
    saved = post(finance, draft_bills="on", bill_tax_id=1, **choice)

    assert refused.status_code == 200
    assert "Choose the VAT tax that draft expense bills are sent with." in refused.content.decode()
    assert (unchanged.draft_bills, unchanged.bill_tax_id, unchanged.source_account) == (
        False, None, None,
    )  # fmt: skip
    settings = AccountingSettings.objects.get()
    assert (saved.status_code, settings.draft_bills, settings.bill_tax_id) == (302, True, 1)


@pytest.mark.parametrize(
    ("source", "vat", "field"),
    [
        (30, 20, "source_account"),  # inactive in Qoyod
        (22, 20, "source_account"),  # an expense account cannot fund spending
        (8, 31, "vat_account"),  # inactive
        (8, 17, "vat_account"),  # revenue
    ],
)
def test_an_account_that_is_inactive_or_of_the_wrong_kind_is_refused(
    finance: Client, source: int, vat: int, field: str
) -> None:
    accounts = mirror_chart()

    response = post(finance, source_account=accounts[source].pk, vat_account=accounts[vat].pk)

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    settings = AccountingSettings.objects.get()
    assert (settings.source_account, settings.vat_account) == (None, None)


def test_an_account_deactivated_since_the_form_was_shown_is_refused(finance: Client) -> None:
    accounts = mirror_chart()
    page = finance.get(URL)
    Account.objects.filter(qoyod_id=8).update(status=Account.Status.INACTIVE)

    response = post(finance, source_account=accounts[8].pk, vat_account=accounts[20].pk)

    assert page.status_code == 200
    assert list(response.context["form"].errors) == ["source_account"]
    assert AccountingSettings.objects.get().source_account is None


def test_clearing_a_branch_override_falls_back_to_the_garages_account(finance: Client) -> None:
    accounts = mirror_chart()
    branch = BranchFactory()
    BranchSourceAccount.objects.create(branch=branch, account=accounts[21])

    post(finance, source_account=accounts[7].pk, vat_account=accounts[20].pk)

    assert not BranchSourceAccount.objects.exists()
    assert source_account_for(branch_id=branch.pk) == accounts[7]


@pytest.mark.parametrize("role", [roles.ACCOUNTANT, roles.ADVISOR, roles.TECHNICIAN])
def test_only_managers_may_choose_the_accounts(role: str) -> None:
    accounts = mirror_chart()
    client = Client()
    client.force_login(UserFactory(role=role))

    response = post(client, source_account=accounts[8].pk, vat_account=accounts[20].pk)

    assert response.status_code == 403
    assert AccountingSettings.objects.get().source_account is None


@pytest.mark.parametrize(
    ("role", "menu"),
    [
        (roles.ACCOUNTANT, True),
        (roles.FINANCE_MANAGER, True),
        (roles.ADMIN, True),
        (roles.ADVISOR, False),
        (roles.TECHNICIAN, False),
    ],
)
def test_the_accounting_menu_is_for_accountant_finance_manager_and_admin(
    role: str, menu: bool
) -> None:
    client = Client()
    client.force_login(UserFactory(role=role))

    items = client.get(reverse("garage:job_list")).context["nav_items"]

    assert any(item["url"] == "/accounting/" for item in items) == menu
