"""A revoked key is seen by whoever can fix it: any 401 marks the connection, a banner shows on
every page to those who manage it, Settings says so, and the next accepted call clears it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core import roles
from qoyod_sync import services
from qoyod_sync.errors import QoyodUnauthorised
from qoyod_sync.models import QoyodConnection
from qoyod_sync.services import connection_reader, connection_save, connection_test
from tests import factories
from tests.qoyod_fixtures import SANDBOX_KEY, TEST_OPTIONS

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(qoyod_sandbox) -> QoyodConnection:
    connection_save(base_url=qoyod_sandbox.base_url, api_key=SANDBOX_KEY, user=None)
    return connection_test(user=None, options=TEST_OPTIONS)


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(factories.UserFactory(username=role.replace(" ", "").lower(), role=role))
    return client


def test_a_401_on_a_read_marks_the_key_refused_and_the_next_accepted_call_clears_it(
    connection, qoyod_sandbox
):
    qoyod_sandbox.state.revoke(SANDBOX_KEY)

    with pytest.raises(QoyodUnauthorised):
        connection_reader(connection, options=TEST_OPTIONS).list_taxes()

    stored = QoyodConnection.objects.get()
    assert stored.key_refused_at is not None
    assert stored.key_refused_request == "GET /taxes"

    qoyod_sandbox.state.reinstate(SANDBOX_KEY)
    connection_reader(stored, options=TEST_OPTIONS).list_taxes()

    stored.refresh_from_db()
    assert (stored.key_refused_at, stored.key_refused_request) == (None, "")


def test_an_accepted_call_writes_nothing_while_the_key_is_not_marked(
    connection, django_assert_num_queries
):
    reader = connection_reader(connection, options=TEST_OPTIONS)

    with django_assert_num_queries(0):
        reader.list_taxes()


def test_banner_and_settings_show_the_refused_key_to_those_who_manage_the_connection(
    connection, qoyod_sandbox
):
    qoyod_sandbox.state.revoke(SANDBOX_KEY)
    with pytest.raises(QoyodUnauthorised):
        connection_reader(connection, options=TEST_OPTIONS).list_taxes()

    finance, admin = client_for(roles.FINANCE_MANAGER), client_for(roles.ADMIN)
    for client in (finance, admin):
        page = client.get(reverse("invoicing:invoice_list")).text
        assert 'data-testid="qoyod-key-refused"' in page
        assert "Qoyod refused the API key" in page
        assert "GET /taxes" in page
    assert 'data-testid="qoyod-key-refused"' not in (
        client_for(roles.ACCOUNTANT).get(reverse("invoicing:invoice_list")).text
    )
    settings_page = finance.get(reverse("qoyod_sync:settings")).text
    assert 'data-testid="key-refused"' in settings_page
    assert ">Connected<" not in settings_page


def test_no_banner_while_qoyod_accepts_the_key(connection):
    page = client_for(roles.FINANCE_MANAGER).get(reverse("invoicing:invoice_list")).text

    assert 'data-testid="qoyod-key-refused"' not in page


@pytest.mark.parametrize("save", ["mappings", "stock accounts"])
def test_saving_settings_never_clears_a_refusal_marked_meanwhile(connection, monkeypatch, save):
    stale = QoyodConnection.objects.get()
    services.connection_key_refused(connection=connection, request="POST /invoices")
    monkeypatch.setattr(services, "connection_get", lambda: stale)

    if save == "mappings":
        services.connection_mappings_save(
            warehouses={}, tax_id=1, unit_id=1, category_id=1, sales_account_id=17,
            cogs_account_id=12, payment_method=10, user=None,
        )  # fmt: skip
    else:
        services.connection_stock_accounts_save(gain_account_id=30, loss_account_id=31, user=None)

    stored = QoyodConnection.objects.get()
    assert stored.key_refused_request == "POST /invoices"
    assert stored.key_refused_at is not None
