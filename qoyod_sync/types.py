"""Typed Qoyod records (what the client returns) and inputs (what the writer sends).

Records are frozen dataclasses read by qoyod_sync.decode: each declares its fields and, in its
QOYOD table, only where a field departs from the defaults for its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.money import to_decimal
from qoyod_sync.decode import From, Record, amount_or_zero, flag, text


def _product_type(value: Any) -> str:
    return text(value) or "Product"


def _stock(value: Any) -> Decimal:
    return to_decimal(0 if value is None else value)


@dataclass(frozen=True)
class Address(Record):
    QOYOD = {
        "street": From("billing_address"),
        "city": From("billing_city"),
        "state": From("billing_state"),
        "zip_code": From("billing_zip"),
        "country": From("billing_country"),
    }

    street: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    country: str = ""
    building_number: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "billing_address": self.street,
            "billing_city": self.city,
            "billing_state": self.state,
            "billing_zip": self.zip_code,
            "billing_country": self.country,
            "building_number": self.building_number,
        }


@dataclass(frozen=True)
class Customer(Record):
    id: int
    name: str
    organization: str
    email: str
    phone_number: str
    tax_number: str
    status: str
    billing_address: Address | None
    updated_at: datetime | None

    @property
    def is_active(self) -> bool:
        return self.status == "Active"


@dataclass(frozen=True)
class WarehouseStock(Record):
    QOYOD = {
        "inventory_id": From("id"),
        "quantity": From("stock", read=_stock),
    }

    inventory_id: int
    name_en: str
    name_ar: str
    quantity: Decimal


@dataclass(frozen=True)
class Product(Record):
    QOYOD = {
        "type": From(read=_product_type),
        "track_quantity": From(read=flag),
        "unit_type_id": From("unit_type"),
        "stock": From("inventories"),
    }

    id: int
    sku: str
    name_ar: str
    name_en: str
    type: str
    track_quantity: bool
    tax_id: int | None
    unit_type_id: int | None
    unit: str
    category_id: int | None
    selling_price: Decimal | None
    buying_price: Decimal | None
    sales_account_id: int | None
    expense_account_id: int | None
    stock: tuple[WarehouseStock, ...]

    def stock_at(self, inventory_id: int) -> Decimal:
        """Quantity on hand in one warehouse (zero when Qoyod lists none there)."""
        for row in self.stock:
            if row.inventory_id == inventory_id:
                return row.quantity
        return Decimal("0")


@dataclass(frozen=True)
class Warehouse(Record):
    id: int
    name: str
    ar_name: str
    city: str
    account_id: int | None
    is_default: bool


@dataclass(frozen=True)
class Tax(Record):
    id: int
    name_en: str
    name_ar: str
    percentage: Decimal
    code: str


@dataclass(frozen=True)
class Account(Record):
    id: int
    code: str
    name_en: str
    name_ar: str
    type: str
    group_type: str
    status: str
    type_of_account: str
    balance: Decimal | None


@dataclass(frozen=True)
class Unit(Record):
    id: int
    unit_name: str
    unit_representation: str


@dataclass(frozen=True)
class Category(Record):
    id: int
    name: str
    parent_id: int | None


@dataclass(frozen=True)
class Allocation(Record):
    id: int
    amount: Decimal
    date: date | None
    source_id: int | None
    source_type: str
    allocatee_id: int | None
    allocatee_type: str


@dataclass(frozen=True)
class InvoiceLine(Record):
    QOYOD = {
        "discount_percent": From(read=amount_or_zero),
        "discount_amount": From(read=amount_or_zero),
        "tax_percent": From(read=amount_or_zero),
    }

    product_id: int | None
    product_name: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    discount_amount: Decimal
    tax_percent: Decimal
    line_total: Decimal
    inventory_id: int | None
    is_inclusive: bool


# Statuses Qoyod reports (qoyod-api.md §5.2); "Approved" means approved and unpaid.
DRAFT = "Draft"
APPROVED = "Approved"
PARTIALLY_PAID = "Partially Paid"
PAID = "Paid"


@dataclass(frozen=True)
class Invoice(Record):
    QOYOD = {
        "status": From(required=True),
        "lines": From("line_items"),
    }

    id: int
    reference: str
    status: str
    contact_id: int | None
    issue_date: date | None
    due_date: date | None
    description: str
    total: Decimal
    paid_amount: Decimal
    due_amount: Decimal
    lines: tuple[InvoiceLine, ...]
    payments: tuple[Allocation, ...]
    updated_at: datetime | None

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT


@dataclass(frozen=True)
class Receipt(Record):
    id: int
    reference: str
    description: str
    date: date | None
    amount: Decimal
    kind: str
    contact_id: int | None
    account_id: int | None
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True)
class JournalAmount(Record):
    QOYOD = {
        "comments": From("all_comments"),
    }

    account_id: int
    amount: Decimal
    comments: tuple[str, ...] = ()
    contact_id: int | None = None


@dataclass(frozen=True)
class JournalEntry(Record):
    QOYOD = {
        "debits": From("debit_amounts"),
        "credits": From("credit_amounts"),
    }

    id: int
    date: date | None
    description: str
    total_debit: Decimal
    total_credit: Decimal
    debits: tuple[JournalAmount, ...]
    credits: tuple[JournalAmount, ...]


# ---- inputs ---------------------------------------------------------------------------------


def _amount(value: Decimal) -> str:
    # Amounts go out as decimal strings, which Qoyod documents and accepts (qoyod-api.md §1.4);
    # a JSON number would have to pass through float on the way.
    return str(value)


@dataclass(frozen=True)
class DraftLine:
    product_id: int
    quantity: Decimal
    unit_price: Decimal
    description: str = ""
    # None lets Qoyod apply the product's own tax (qoyod-api.md §4.5).
    tax_percent: Decimal | None = None
    discount_amount: Decimal = Decimal("0")
    is_inclusive: bool = False
    unit_id: int | None = None

    def to_json(self, inventory_id: int) -> dict[str, Any]:
        line: dict[str, Any] = {
            "product_id": self.product_id,
            "description": self.description,
            "quantity": _amount(self.quantity),
            "unit_price": _amount(self.unit_price),
            # Repeated per line as well as on the header: the spec marks it required on each
            # line and an older validator demanded it there (qoyod-api.md §15.10).
            "inventory_id": inventory_id,
            "is_inclusive": self.is_inclusive,
        }
        if self.tax_percent is not None:
            # `tax_percent` is the spelling proven live; the spec lists it as an accepted alias
            # of `tax_percentage` (qoyod-api.md §15.8).
            line["tax_percent"] = _amount(self.tax_percent)
        if self.discount_amount:
            # "amount" is the one discount_type both the spec and Postman accept (§15.9).
            line["discount"] = _amount(self.discount_amount)
            line["discount_type"] = "amount"
        if self.unit_id is not None:
            # The spec says unit_id, production integrations send unit_type (§15.7): send both.
            line["unit_id"] = self.unit_id
            line["unit_type"] = self.unit_id
        return line


@dataclass(frozen=True)
class DraftInvoice:
    contact_id: int
    reference: str
    issue_date: date
    due_date: date
    inventory_id: int
    lines: tuple[DraftLine, ...]
    description: str = ""
    notes: str = ""
    payment_method: int | None = None

    def to_json(self) -> dict[str, Any]:
        invoice: dict[str, Any] = {
            "contact_id": self.contact_id,
            "reference": self.reference,
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            # We only ever create drafts; the accountant approves in Qoyod (product.md).
            "status": DRAFT,
            "inventory_id": self.inventory_id,
            "description": self.description,
            # Belt and braces: even if a tenant treated the request as non-draft, a stock
            # shortfall then keeps it a draft instead of failing (qoyod-api.md §5.1).
            "draft_if_out_of_stock": True,
            "line_items": [line.to_json(self.inventory_id) for line in self.lines],
        }
        if self.notes:
            invoice["notes"] = self.notes
        if self.payment_method is not None:
            invoice["payment_method"] = self.payment_method
        return {"invoice": invoice}


@dataclass(frozen=True)
class JournalLine:
    account_id: int
    amount: Decimal
    comment: str = ""
    # Only for the receivables/payables accounts (qoyod-api.md §8.2).
    contact_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"account_id": self.account_id, "amount": _amount(self.amount)}
        if self.comment:
            row["comment"] = self.comment
        if self.contact_id is not None:
            row["contact_id"] = self.contact_id
        return row


@dataclass(frozen=True)
class NewJournalEntry:
    date: date
    description: str
    debits: tuple[JournalLine, ...]
    credits: tuple[JournalLine, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "journal_entry": {
                "date": self.date.isoformat(),
                "description": self.description,
                "debit_amounts": [line.to_json() for line in self.debits],
                "credit_amounts": [line.to_json() for line in self.credits],
            }
        }
