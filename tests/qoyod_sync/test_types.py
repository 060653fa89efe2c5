"""Typed results: amounts become Decimal whatever Qoyod sends; inputs serialise exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qoyod_sync.decode import Record
from qoyod_sync.types import (
    Address,
    Customer,
    DraftInvoice,
    DraftLine,
    Invoice,
    JournalLine,
    NewJournalEntry,
    Product,
    Tax,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("80.5", Decimal("80.5")),
        (" 0.0 ", Decimal("0.0")),
        (115, Decimal("115")),
        (Decimal("3861.13"), Decimal("3861.13")),
    ],
)
def test_amounts_are_decimals_from_strings_or_numbers(value: object, expected: Decimal) -> None:
    result = Tax.from_json({"id": 1, "percentage": value}).percentage

    assert result == expected
    assert type(result) is Decimal


@pytest.mark.parametrize("value", [1.5, True, None, {"a": 1}])
def test_floats_and_non_amounts_are_refused(value: object) -> None:
    with pytest.raises(TypeError):
        Tax.from_json({"id": 1, "percentage": value})


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity"])
def test_unreadable_amounts_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        Tax.from_json({"id": 1, "percentage": value})


def test_invoice_parses_string_amounts_as_real_qoyod_sends_them() -> None:
    invoice = Invoice.from_json(
        {
            "id": 1085,
            "reference": "INV-000123",
            "status": "Partially Paid",
            "contact_id": 412,
            "issue_date": "2025-03-02",
            "due_date": "2025-03-09",
            "total": "253.0",
            "paid_amount": "200.0",
            "due_amount": "53.0",
            "updated_at": "2025-03-03T09:00:00.000+03:00",
            "line_items": [
                {
                    "product_id": 81,
                    "product_name": "Door handle",
                    "quantity": "2.0",
                    "unit_price": "35.0",
                    "discount_percent": "0.0",
                    "discount_amount": "0.0",
                    "tax_percent": "15.0",
                    "line_total": "80.5",
                    "inventory_id": 1,
                    "is_inclusive": False,
                }
            ],
            "payments": [
                {
                    "id": 900,
                    "amount": "200.0",
                    "date": "2025-03-03",
                    "source_id": 563,
                    "source_type": "Receipt",
                    "allocatee_id": 1085,
                    "allocatee_type": "Invoice",
                }
            ],
        }
    )

    assert (invoice.total, invoice.paid_amount, invoice.due_amount) == (
        Decimal("253.0"),
        Decimal("200.0"),
        Decimal("53.0"),
    )
    assert invoice.lines[0].line_total == Decimal("80.5")
    assert invoice.payments[0].amount == Decimal("200.0")
    assert invoice.payments[0].date == date(2025, 3, 3)
    assert invoice.is_draft is False


def test_invoice_parses_number_amounts_as_the_spec_types_them() -> None:
    invoice = Invoice.from_json(
        {
            "id": 1,
            "status": "Approved",
            "total": 115,
            "paid_amount": 0,
            "due_amount": Decimal("115.0"),
        }
    )

    assert (invoice.total, invoice.paid_amount, invoice.due_amount) == (115, 0, 115)
    assert invoice.lines == ()
    assert invoice.reference == ""


def test_product_stock_per_warehouse() -> None:
    product = Product.from_json(
        {
            "id": 80,
            "sku": "PART-1",
            "track_quantity": "1",
            "buying_price": "850.0",
            "selling_price": 999,
            "inventories": [{"id": 1, "name_en": "Main", "stock": "4.0"}, {"id": 2, "stock": 0}],
        }
    )

    assert product.track_quantity is True
    assert product.stock_at(1) == Decimal("4.0")
    assert product.stock_at(2) == Decimal("0")
    assert product.stock_at(3) == Decimal("0")
    assert product.buying_price == Decimal("850.0")
    assert product.selling_price == Decimal("999")


def test_draft_invoice_payload_is_exact() -> None:
    draft = DraftInvoice(
        contact_id=412,
        reference="INV-000123",
        issue_date=date(2025, 3, 2),
        due_date=date(2025, 3, 9),
        inventory_id=2,
        description="Toyota Camry - ABC 1234",
        notes="Thank you",
        payment_method=30,
        lines=(
            DraftLine(
                product_id=81,
                quantity=Decimal("2"),
                unit_price=Decimal("35.00"),
                description="Door handle",
                tax_percent=Decimal("15"),
                discount_amount=Decimal("5.00"),
                unit_id=6,
            ),
            DraftLine(
                product_id=80, quantity=Decimal("1.5"), unit_price=Decimal("100"), is_inclusive=True
            ),
        ),
    )

    assert draft.to_json() == {
        "invoice": {
            "contact_id": 412,
            "reference": "INV-000123",
            "issue_date": "2025-03-02",
            "due_date": "2025-03-09",
            "status": "Draft",
            "inventory_id": 2,
            "description": "Toyota Camry - ABC 1234",
            "draft_if_out_of_stock": True,
            "notes": "Thank you",
            "payment_method": 30,
            "line_items": [
                {
                    "product_id": 81,
                    "description": "Door handle",
                    "quantity": "2",
                    "unit_price": "35.00",
                    "inventory_id": 2,
                    "is_inclusive": False,
                    "tax_percent": "15",
                    "discount": "5.00",
                    "discount_type": "amount",
                    "unit_id": 6,
                    "unit_type": 6,
                },
                {
                    "product_id": 80,
                    "description": "",
                    "quantity": "1.5",
                    "unit_price": "100",
                    "inventory_id": 2,
                    "is_inclusive": True,
                },
            ],
        }
    }


def test_journal_entry_payload_is_exact() -> None:
    entry = NewJournalEntry(
        date=date(2025, 3, 31),
        description="Expense 42: tyres",
        debits=(
            JournalLine(account_id=22, amount=Decimal("100.00"), comment="tyres"),
            JournalLine(account_id=20, amount=Decimal("15.00")),
        ),
        credits=(JournalLine(account_id=8, amount=Decimal("115.00")),),
    )

    assert entry.to_json() == {
        "journal_entry": {
            "date": "2025-03-31",
            "description": "Expense 42: tyres",
            "debit_amounts": [
                {"account_id": 22, "amount": "100.00", "comment": "tyres"},
                {"account_id": 20, "amount": "15.00"},
            ],
            "credit_amounts": [{"account_id": 8, "amount": "115.00"}],
        }
    }


# The first key each record cannot do without; Address needs none.
FIRST_REQUIRED = {
    "Address": None,
    "Customer": "id",
    "WarehouseStock": "id",
    "Product": "id",
    "SpecialTaxReason": "id",
    "Warehouse": "id",
    "Tax": "id",
    "Account": "id",
    "Unit": "id",
    "Category": "id",
    "Allocation": "id",
    "InvoiceLine": "quantity",
    "Invoice": "id",
    "Receipt": "id",
    "JournalAmount": "account_id",
    "JournalEntry": "id",
    "InventoryAdjustment": "id",
    "CreditNoteLine": "quantity",
    "CreditNote": "id",
    "Vendor": "id",
    "SimpleBillLine": "total_amount",
    "SimpleBill": "id",
}


def test_every_record_field_has_a_converter() -> None:
    # A field type without a converter would raise TypeError, not KeyError, on an empty object.
    missing: dict[str, str | None] = {}
    for record in Record.__subclasses__():
        try:
            record.from_json({})
            missing[record.__name__] = None
        except KeyError as exc:
            missing[record.__name__] = exc.args[0]

    assert missing == FIRST_REQUIRED
    assert Address.from_json({}) == Address()


def test_a_row_that_is_not_an_object_is_unreadable() -> None:
    with pytest.raises(TypeError):
        Invoice.from_json(
            {"id": 1, "status": "Draft", "total": 0, "paid_amount": 0, "due_amount": 0,
             "line_items": ["not an object"]}
        )  # fmt: skip


def test_a_customer_without_an_address_has_none() -> None:
    assert Customer.from_json({"id": 7, "billing_address": None}).billing_address is None
    assert Customer.from_json({"id": 7, "billing_address": {}}).billing_address is None
    assert Customer.from_json(
        {"id": 7, "billing_address": {"billing_city": "Riyadh", "building_number": 1234}}
    ).billing_address == Address(city="Riyadh", building_number="1234")
