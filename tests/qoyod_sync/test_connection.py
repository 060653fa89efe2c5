"""Settings → Integrations → Qoyod: who may open it, the key, Test connection, mappings."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core import roles
from qoyod_sync.models import BranchWarehouse, QoyodConnection
from qoyod_sync.services import connection_save
from tests import factories
from tests.qoyod_fixtures import SANDBOX_KEY

pytestmark = pytest.mark.django_db

SETTINGS = reverse("qoyod_sync:settings")


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(factories.UserFactory(username=role.replace(" ", "").lower(), role=role))
    return client


@pytest.fixture
def finance() -> Client:
    return client_for(roles.FINANCE_MANAGER)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (roles.ADVISOR, 403),
        (roles.TECHNICIAN, 403),
        (roles.ACCOUNTANT, 403),
        (roles.FINANCE_MANAGER, 200),
        (roles.ADMIN, 200),
    ],
)
def test_only_finance_manager_and_admin_open_the_qoyod_settings(role, status):
    client = client_for(role)

    assert client.get(SETTINGS).status_code == status
    assert client.post(reverse("qoyod_sync:connection_test")).status_code in (status, 302)


def test_saved_key_is_encrypted_and_only_its_last_four_are_shown(finance, caplog):
    response = finance.post(
        SETTINGS, {"base_url": "https://api.qoyod.com/2.0", "api_key": "abcd1234efgh5678ijkl9012m"}
    )

    assert response.status_code == 302
    connection = QoyodConnection.objects.get()
    assert connection.api_key_last4 == "012m"
    page = finance.get(SETTINGS).text
    assert "••••012m" in page
    assert "abcd1234efgh5678ijkl9012m" not in page
    assert "abcd1234efgh5678ijkl9012m" not in caplog.text
    assert 'data-testid="sandbox-badge"' not in page


def test_an_empty_key_keeps_the_saved_one(finance):
    connection_save(base_url="https://api.qoyod.com/2.0", api_key="first-key-0001", user=None)
    before = QoyodConnection.objects.get().api_key_encrypted

    finance.post(SETTINGS, {"base_url": "https://api.qoyod.com/2.0", "api_key": ""})

    assert QoyodConnection.objects.get().api_key_encrypted == before


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"base_url": "http://qoyod.example.com/2.0", "api_key": "abcdefgh1234"}, "https://"),
        ({"base_url": "https://api.qoyod.com/2.0", "api_key": ""}, "Paste the API key"),
        ({"base_url": "https://api.qoyod.com/2.0", "api_key": "abc de fgh123"}, "spaces"),
        ({"base_url": "https://api.qoyod.com/2.0", "api_key": "short"}, "too short"),
    ],
)
def test_bad_connection_input_is_refused_with_a_message(finance, data, error):
    response = finance.post(SETTINGS, data)

    assert response.status_code == 200
    assert error in response.text
    assert not QoyodConnection.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_test_connection_only_reads_and_maps_the_sandbox_default_warehouse(qoyod_sandbox):
    finance = client_for(roles.FINANCE_MANAGER)
    branch = factories.BranchFactory(code="RUH")
    connection_save(base_url=qoyod_sandbox.base_url, api_key=SANDBOX_KEY, user=None)

    response = finance.post(reverse("qoyod_sync:connection_test"), follow=True)

    assert "Connected: 2 warehouses read from Qoyod." in response.text
    assert {r.method for r in qoyod_sandbox.requests.all()} == {"GET"}
    connection = QoyodConnection.objects.get()
    assert (connection.last_test_ok, connection.tax_id, connection.unit_id) == (True, 1, 1)
    assert BranchWarehouse.objects.get(branch=branch).qoyod_inventory_id == 1
    assert 'data-testid="sandbox-badge"' in response.text
    assert "Jeddah Branch" in response.text  # offered in the warehouse mapping


@pytest.mark.django_db(transaction=True)
def test_test_connection_with_a_revoked_key_says_so(qoyod_sandbox):
    finance = client_for(roles.FINANCE_MANAGER)
    connection_save(base_url=qoyod_sandbox.base_url, api_key=SANDBOX_KEY, user=None)
    qoyod_sandbox.state.revoke(SANDBOX_KEY)

    response = finance.post(reverse("qoyod_sync:connection_test"), follow=True)

    assert "Qoyod refused the API key" in response.text
    assert QoyodConnection.objects.get().last_test_ok is False


def test_mappings_save_branch_warehouses_and_product_defaults(finance):
    branch = factories.BranchFactory(code="JED")
    connection = connection_save(base_url="https://api.qoyod.com/2.0", api_key="k" * 20, user=None)
    connection.catalogue = {
        "warehouses": [{"id": 1, "name": "Main", "ar_name": "", "is_default": True},
                       {"id": 2, "name": "Jeddah", "ar_name": "", "is_default": False}],
        "taxes": [{"id": 1, "name": "VAT", "percentage": "15"}],
        "units": [{"id": 1, "name": "Piece"}],
        "categories": [{"id": 2, "name": "Parts"}],
        "accounts": [{"id": 17, "code": "4101", "name": "Sales", "type": "Revenue"}],
    }  # fmt: skip
    connection.save()

    response = finance.post(
        reverse("qoyod_sync:mappings"),
        {f"warehouse_{branch.pk}": "2", "tax_id": "1", "unit_id": "1", "category_id": "2",
         "sales_account_id": "17", "cogs_account_id": ""},
    )  # fmt: skip

    assert response.status_code == 302
    mapped = BranchWarehouse.objects.get(branch=branch)
    assert (mapped.qoyod_inventory_id, mapped.name) == (2, "Jeddah")
    connection.refresh_from_db()
    assert (connection.category_id, connection.sales_account_id, connection.cogs_account_id) == (
        2, 17, None,
    )  # fmt: skip


def test_settings_home_links_to_qoyod_for_the_finance_manager(finance):
    assert SETTINGS in finance.get(reverse("settings_home")).text


def test_the_finance_manager_chooses_product_accounts_and_the_payment_method(finance):
    connection = connection_save(base_url="https://api.qoyod.com/2.0", api_key="k" * 20, user=None)
    connection.catalogue = {
        "warehouses": [], "taxes": [{"id": 1, "name": "VAT", "percentage": "15"}],
        "units": [{"id": 1, "name": "Piece"}], "categories": [{"id": 2, "name": "Parts"}],
        "accounts": [{"id": 17, "code": "4101", "name": "Sales", "type": "Revenue"},
                     {"id": 12, "code": "5101", "name": "Cost of goods sold", "type": "Expense"}],
    }  # fmt: skip
    connection.save()
    page = finance.get(reverse("qoyod_sync:settings"), HTTP_ACCEPT_LANGUAGE="ar")
    form = page.context["mappings_form"]
    offered = {name: [value for value, _label in form.fields[name].choices]
               for name in ("sales_account_id", "cogs_account_id", "payment_method")}  # fmt: skip

    response = finance.post(
        reverse("qoyod_sync:mappings"),
        {"tax_id": "1", "unit_id": "1", "category_id": "2", "sales_account_id": "17",
         "cogs_account_id": "12", "payment_method": "30"},
    )  # fmt: skip

    assert offered == {
        "sales_account_id": ["", "17"],
        "cogs_account_id": ["", "12"],
        "payment_method": ["", "10", "30", "42", "48", "1"],
    }
    assert "حساب تكلفة البضاعة المباعة لقطع الغيار" in page.text
    assert "طريقة الدفع على الفواتير" in page.text
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.sales_account_id, connection.cogs_account_id) == (17, 12)
    assert connection.payment_method == 30
