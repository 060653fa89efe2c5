"""The Accounting menu's tabs: counts, filters, and a query count that does not grow with rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting.models import Receipt, Transaction
from core import roles
from tests.accounting_factories import BudgetFactory, TransactionFactory
from tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/accounting/transactions/"


@pytest.fixture
def accountant() -> Client:
    client = Client()
    client.force_login(UserFactory(role=roles.ACCOUNTANT))
    return client


def numbers(response) -> list[str]:
    return [row.number for row in response.context["page"]]


def counts(response) -> dict[str, int]:
    # The tab shows the count as text, capped like the pager's (core.paging.total_text).
    return {value: int(count) for value, _label, count in response.context["tabs"]}


def test_tabs_hold_unverified_rows_by_kind_and_verified_ones_apart(accountant):
    expense = TransactionFactory(kind="expense")
    transfer = TransactionFactory(kind="transfer")
    cash_in = TransactionFactory(kind="cash_in", direction="in", vat_amount=Decimal("0"))
    cash_out = TransactionFactory(kind="cash_out", vat_amount=Decimal("0"))
    verified = TransactionFactory(kind="expense", verified_at=timezone.now())

    pages = {
        tab: accountant.get(URL, {"tab": tab})
        for tab in ("expenses", "transfers", "others", "verified")
    }  # noqa: E501

    assert numbers(pages["expenses"]) == [expense.number]
    assert numbers(pages["transfers"]) == [transfer.number]
    assert sorted(numbers(pages["others"])) == sorted([cash_in.number, cash_out.number])
    assert numbers(pages["verified"]) == [verified.number]
    assert counts(pages["expenses"]) == {"expenses": 1, "transfers": 1, "others": 2, "verified": 1}


def test_filters_narrow_the_rows_and_the_counts(accountant):
    branch, budget, employee = BranchFactory(), BudgetFactory(), UserFactory()
    match = TransactionFactory(
        branch=branch,
        budget=budget,
        employee=employee,
        amount=Decimal("500.00"),
        date=datetime.date(2026, 11, 10),
    )
    Receipt.objects.create(
        transaction=match, file="receipts/x.jpg", content_type="image/jpeg", size=3,
        uploaded_by=employee,
    )  # fmt: skip
    TransactionFactory(branch=branch, budget=budget, amount=Decimal("50.00"))
    TransactionFactory(budget=budget, amount=Decimal("500.00"))
    TransactionFactory(branch=branch, amount=Decimal("500.00"), state="synced", qoyod_entry_id=4)

    response = accountant.get(
        URL,
        {
            "branch": branch.pk,
            "budget": budget.pk,
            "employee": employee.pk,
            "amount_min": "100",
            "amount_max": "1000",
            "date_from": "2026-11-01",
            "date_to": "2026-11-30",
            "has_receipt": "yes",
            "verified": "no",
            "synced": "no",
        },
    )

    assert numbers(response) == [match.number]
    assert counts(response) == {"expenses": 1, "transfers": 0, "others": 0, "verified": 0}


def test_rows_without_a_receipt_and_synced_rows_are_found(accountant):
    synced = TransactionFactory(state="synced", qoyod_entry_id=9, verified_at=timezone.now())
    bare = TransactionFactory()

    assert numbers(accountant.get(URL, {"tab": "verified", "synced": "yes"})) == [synced.number]
    assert numbers(accountant.get(URL, {"has_receipt": "no", "synced": "no"})) == [bare.number]


def test_the_list_takes_as_many_queries_for_fifty_rows_as_for_one(accountant):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert accountant.get(URL).status_code == 200
        return len(captured)

    budget, employee = BudgetFactory(), UserFactory()
    TransactionFactory(budget=budget, employee=employee)
    one = queries()
    for _n in range(49):
        row = TransactionFactory(budget=BudgetFactory(), employee=UserFactory())
        Receipt.objects.create(
            transaction=row, file="receipts/y.pdf", content_type="application/pdf", size=3,
            uploaded_by=employee,
        )  # fmt: skip

    assert Transaction.objects.count() == 50
    assert queries() == one


def test_an_unknown_tab_shows_the_expenses(accountant):
    assert accountant.get(URL, {"tab": "nonsense"}).context["tab"] == "expenses"


@pytest.mark.parametrize(
    "url", ["/accounting/transactions/", "/accounting/import/", "/accounting/transactions/new/"]
)
def test_accounting_pages_in_arabic_show_no_english_tab_or_import_words(accountant, url):
    accountant.cookies["django_language"] = "ar"

    page = accountant.get(url).content.decode()

    for english in ("Expenses", "Transfers", "Others", "Verified", "Import a statement"):
        assert f">{english}" not in page
    if url == "/accounting/transactions/":
        assert [label for _value, label, _count in accountant.get(url).context["tabs"]] == [
            "المصروفات",
            "التحويلات",
            "أخرى",
            "تم التحقق",
        ]
