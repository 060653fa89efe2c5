"""Draft expense bills (issue 16 item 10), against the sandbox over loopback HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounting.models import AccountingSettings, SupplierLink, Transaction
from accounting.sync import transaction_sync
from tests.accounting.test_journal_sync import (
    SITE,
    SUPPLIES,
    books,  # noqa: F401
    verified,
)

# The connected-garage fixtures (with the no-transaction-during-HTTP guard) are shared.
from tests.qoyod_sync.test_push import http_guard, options, qoyod  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
VAT_NUMBER = "300000000000003"
VAT_15 = 1


@pytest.fixture
def bills(books):  # noqa: F811
    AccountingSettings.objects.filter(singleton=True).update(draft_bills=True, bill_tax_id=VAT_15)
    return books


def expense(**values) -> Transaction:
    values.setdefault("payee", "Al Jazira Auto Parts")
    values.setdefault("payee_vat_number", VAT_NUMBER)
    return verified(amount=Decimal("115.00"), vat_amount=Decimal("15.00"), **values)


def calls(sandbox) -> list[str]:
    return [f"{r.method} {r.path}" for r in sandbox.requests.all()]


def test_an_expense_with_a_supplier_vat_number_becomes_one_draft_bill(bills, options):  # noqa: F811
    row = expense()

    (result,) = transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)

    company = bills.company()
    (vendor,) = company.vendors.values()
    (bill,) = company.simple_bills.values()
    (line,) = bill.lines
    assert result.ok and company.journal_entries == {}
    assert (vendor.name, vendor.tax_number) == ("Al Jazira Auto Parts", VAT_NUMBER)
    assert (bill.contact_id, bill.status, bill.reference, bill.issue_date, bill.inventory_id) == (
        vendor.id, "Draft", row.number, row.date.isoformat(), 1,
    )  # fmt: skip
    assert (line.expense_account_id, line.total_amount, line.tax_id, line.is_inclusive) == (
        SUPPLIES, Decimal("115.00"), VAT_15, True,
    )  # fmt: skip
    assert (line.vat, line.line_total) == (Decimal("15.00"), Decimal("115.00"))
    assert line.description.startswith(row.number + " Al Jazira Auto Parts")
    assert calls(bills) == ["GET /2.0/vendors", "POST /2.0/vendors", "POST /2.0/simple_bills"]
    row.refresh_from_db()
    assert (row.state, row.qoyod_document, row.qoyod_entry_id, row.qoyod_entry_status) == (
        "synced", "simple_bill", bill.id, "Draft",
    )  # fmt: skip
    assert list(SupplierLink.objects.values_list("vat_number", "qoyod_vendor_id")) == [
        (VAT_NUMBER, vendor.id)
    ]
    assert result.as_json()["document_label"] == "Draft expense bill in Qoyod"


def test_the_second_expense_of_a_supplier_reuses_its_vendor(bills, options):  # noqa: F811
    first, second = expense(), expense(payee="Jazira (Olaya branch)")
    transaction_sync(pks=[first.pk], user=None, site=SITE, options=options)
    bills.requests.clear()

    (result,) = transaction_sync(pks=[second.pk], user=None, site=SITE, options=options)

    company = bills.company()
    assert result.ok
    assert len(company.vendors) == 1 and len(company.simple_bills) == 2
    assert {b.contact_id for b in company.simple_bills.values()} == set(company.vendors)
    assert calls(bills) == ["POST /2.0/simple_bills"]


def test_a_vendor_already_in_qoyod_is_matched_by_vat_number(bills, options):  # noqa: F811
    from qoyod_sync.sandbox.bills import create_vendor

    other = create_vendor(bills.company(), {"name": "Someone else", "tax_number": "399"})
    known = create_vendor(bills.company(), {"name": "Jazira", "tax_number": VAT_NUMBER})
    row = expense()

    (result,) = transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)

    (bill,) = bills.company().simple_bills.values()
    assert result.ok and bill.contact_id == known.id != other.id
    assert len(bills.company().vendors) == 2
    assert calls(bills) == ["GET /2.0/vendors", "POST /2.0/simple_bills"]
    assert SupplierLink.objects.get().qoyod_vendor_id == known.id


def test_commit_then_drop_is_unknown_and_the_retry_links_the_bill(bills, options):  # noqa: F811
    row = expense()
    bills.faults.drop_next(commit=True, method="POST", path="/simple_bills")

    (first,) = transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)
    row.refresh_from_db()
    assert (first.state, row.state, row.qoyod_entry_id) == ("unknown", "unknown", None)
    # The setting is turned off meanwhile: the retry still looks for the bill it may have made.
    AccountingSettings.objects.filter(singleton=True).update(draft_bills=False)
    bills.requests.clear()

    (again,) = transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)

    row.refresh_from_db()
    (bill,) = bills.company().simple_bills.values()
    assert (again.ok, row.state, row.qoyod_document, row.qoyod_entry_id, row.attempts) == (
        True, "synced", "simple_bill", bill.id, 2,
    )  # fmt: skip
    assert calls(bills) == ["GET /2.0/simple_bills"]
    assert bills.company().journal_entries == {}
    assert "linked" in again.message


def test_with_the_setting_off_the_expense_is_a_journal_entry(books, options):  # noqa: F811
    row = expense()

    (result,) = transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)

    row.refresh_from_db()
    assert result.ok and len(books.company().journal_entries) == 1
    assert books.company().vendors == {} and books.company().simple_bills == {}
    assert (row.qoyod_document, calls(books)) == ("journal_entry", ["POST /2.0/journal_entries"])


def test_without_a_vat_tax_for_bills_nothing_is_sent(bills, options):  # noqa: F811
    AccountingSettings.objects.filter(singleton=True).update(bill_tax_id=None)
    row = expense()
    before = list(Transaction.objects.values())

    (result,) = transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)

    assert result.refused and "No VAT tax is chosen for draft expense bills" in result.message
    assert bills.requests.all() == [] and SupplierLink.objects.count() == 0
    assert list(Transaction.objects.values()) == before


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Draft expense bill in Qoyod"), ("ar", "مسودة فاتورة مصروفات في قيود")],
)
def test_the_verified_tab_shows_the_draft_bill_and_its_id(bills, options, language, label):  # noqa: F811
    from django.test import Client

    from core import roles
    from tests import factories

    row = expense()
    transaction_sync(pks=[row.pk], user=None, site=SITE, options=options)
    row.refresh_from_db()
    client = Client()
    client.force_login(factories.UserFactory(role=roles.ACCOUNTANT))

    page = client.get(
        "/accounting/transactions/?tab=verified", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert label in page and f"#{row.qoyod_entry_id}</bdi>" in page
