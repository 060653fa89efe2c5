"""Assigning accounts (bulk, in one UPDATE), verifying with the receipt policy, un-verifying."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting.models import Account, AccountingSettings, Receipt, Transaction, TransactionEvent
from accounting.verification import transaction_bulk_assign
from core import roles
from tests.accounting.test_settings import mirror_chart
from tests.accounting_factories import BudgetFactory, TransactionFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ASSIGN, VERIFY = "/accounting/transactions/assign/", "/accounting/transactions/verify/"


@pytest.fixture
def accountant() -> Client:
    client = Client()
    client.force_login(UserFactory(username="acc", role=roles.ACCOUNTANT))
    return client


@pytest.fixture
def chart() -> tuple[Account, Account]:
    accounts = mirror_chart()
    active = next(a for a in accounts.values() if a.is_active and a.account_type == "Expense")
    inactive = next(a for a in accounts.values() if not a.is_active)
    return active, inactive


def state() -> list[tuple]:
    return list(
        Transaction.objects.order_by("pk").values_list("number", "account", "verified_at")
    ) + [("events", TransactionEvent.objects.count())]


def test_bulk_assign_by_filter_asks_first_then_changes_the_matching_rows(accountant, chart):
    account, _inactive = chart
    fuel, other = BudgetFactory(name_en="Fuel"), BudgetFactory()
    matching = [TransactionFactory(budget=fuel) for _n in range(3)]
    TransactionFactory(budget=other)
    TransactionFactory(budget=fuel, verified_at=timezone.now())
    query = f"budget={fuel.pk}"

    asked = accountant.post(ASSIGN, {"account": account.pk, "next_query": query})
    unchanged = state()
    done = accountant.post(ASSIGN, {"account": account.pk, "next_query": query, "confirm": "on"})

    assert asked.context["count"] == 3
    assert f"{account} will be assigned to 3 transactions." in asked.content.decode()
    assert all(row[1] is None for row in unchanged[:-1])
    assert done.status_code == 302
    assigned = Transaction.objects.filter(account=account)
    assert sorted(assigned.values_list("pk", flat=True)) == sorted(t.pk for t in matching)
    assert sorted(TransactionEvent.objects.values_list("transaction", "kind", "details")) == sorted(
        (t.pk, "account_assigned", {"before": None, "after": account.qoyod_id, "bulk": True})
        for t in matching
    )


def test_bulk_assign_to_a_selection_changes_only_the_selected_rows(accountant, chart):
    account, _inactive = chart
    first, second, _third = TransactionFactory(), TransactionFactory(), TransactionFactory()

    accountant.post(ASSIGN, {"account": account.pk, "pk": [first.pk, second.pk], "confirm": "on"})

    assert set(Transaction.objects.filter(account=account)) == {first, second}


def test_bulk_assign_to_an_inactive_account_is_refused_and_changes_nothing(accountant, chart):
    _account, inactive = chart
    TransactionFactory()
    before = state()

    response = accountant.post(ASSIGN, {"account": inactive.pk, "confirm": "on"}, follow=True)

    assert (
        f"{inactive} is not active in Qoyod: choose another account." in response.content.decode()
    )
    assert state() == before


def test_bulk_assign_is_one_update_whatever_the_number_of_rows(chart):
    account, _inactive = chart
    user = UserFactory()
    for _n in range(30):
        TransactionFactory()

    with CaptureQueriesContext(connection) as captured:
        changed = transaction_bulk_assign(
            queryset=Transaction.objects.all(), account=account, user=user
        )

    updates = [q["sql"] for q in captured if q["sql"].startswith("UPDATE")]
    assert (changed, len(updates)) == (30, 1)


def test_verify_needs_an_account(accountant, chart):
    row = TransactionFactory()

    response = accountant.post(VERIFY, {"pk": row.pk}, follow=True)

    assert f"Assign an account to {row.number} before verifying it." in response.content.decode()
    row.refresh_from_db()
    assert (row.verified_at, row.events.count()) == (None, 0)


def test_verify_needs_a_receipt_when_the_policy_says_so_or_a_lost_receipt_reason(accountant, chart):
    account, _inactive = chart
    row = TransactionFactory(account=account)

    refused = accountant.post(VERIFY, {"pk": row.pk}, follow=True)
    row.refresh_from_db()
    assert row.verified_at is None
    assert "has no receipt" in refused.content.decode()

    accountant.post(VERIFY, {"pk": row.pk, "receipt_lost_reason": "Thermal paper faded"})

    row.refresh_from_db()
    assert row.verified_at is not None
    assert (row.receipt_lost_reason, row.receipt_lost_by.username) == ("Thermal paper faded", "acc")
    assert list(row.events.values_list("kind", "details")) == [
        ("verified", {"account": account.qoyod_id, "receipt_lost": "Thermal paper faded"})
    ]


def test_verify_without_a_receipt_when_the_policy_allows_it(accountant, chart):
    account, _inactive = chart
    AccountingSettings.objects.update(receipt_required=False)
    row = TransactionFactory(account=account)

    accountant.post(VERIFY, {"pk": row.pk})

    row.refresh_from_db()
    assert (row.is_verified, row.verified_by.username, row.receipt_lost_reason) == (True, "acc", "")


def test_verify_with_a_receipt_and_an_account_moves_the_row_to_verified(accountant, chart):
    account, _inactive = chart
    row = TransactionFactory(account=account, amount=Decimal("57.50"))
    Receipt.objects.create(
        transaction=row, file="r.jpg", content_type="image/jpeg", size=1, uploaded_by=row.created_by
    )

    accountant.post(VERIFY, {"pk": row.pk})
    verified = accountant.get("/accounting/transactions/", {"tab": "verified"})

    assert [r.number for r in verified.context["page"]] == [row.number]


def test_verify_refuses_an_account_deactivated_since_it_was_assigned(accountant, chart):
    _account, inactive = chart
    AccountingSettings.objects.update(receipt_required=False)
    row = TransactionFactory(account=inactive)

    response = accountant.post(VERIFY, {"pk": row.pk}, follow=True)

    assert "is not active in Qoyod: assign another account." in response.content.decode()
    row.refresh_from_db()
    assert row.verified_at is None


def test_unverify_until_synced(accountant, chart):
    account, _inactive = chart
    now = timezone.now()
    open_row = TransactionFactory(account=account, verified_at=now)
    synced = TransactionFactory(account=account, verified_at=now, state="synced", qoyod_entry_id=3)

    accountant.post(VERIFY, {"pk": open_row.pk, "undo": "1"})
    refused = accountant.post(VERIFY, {"pk": synced.pk, "undo": "1"}, follow=True)

    open_row.refresh_from_db()
    synced.refresh_from_db()
    assert (open_row.verified_at, list(open_row.events.values_list("kind", flat=True))) == (
        None,
        ["unverified"],
    )
    assert synced.verified_at == now and synced.events.count() == 0
    assert "can no longer be un-verified" in refused.content.decode()


def test_technicians_and_advisors_cannot_verify_or_assign(chart):
    account, _inactive = chart
    row = TransactionFactory(account=account)
    for role in (roles.TECHNICIAN, roles.ADVISOR):
        client = Client()
        client.force_login(UserFactory(role=role))
        assert client.post(VERIFY, {"pk": row.pk}).status_code == 403
        assert client.post(ASSIGN, {"account": account.pk, "confirm": "on"}).status_code == 403
        assert client.get("/accounting/transactions/").status_code == 403
    row.refresh_from_db()
    assert row.verified_at is None


@pytest.mark.parametrize(
    ("state", "offered"),
    [("not_synced", True), ("failed", True), ("sending", False), ("synced", False),
     ("unknown", False)],
)  # fmt: skip
def test_un_verify_is_offered_only_while_nothing_is_in_qoyod(state, offered):
    row = Transaction(verified_at=timezone.now(), state=state)

    assert row.can_unverify is offered
