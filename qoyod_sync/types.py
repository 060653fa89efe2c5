"""Typed Qoyod records (what the client returns) and inputs (what the writer sends).

Parsers take the decoded JSON of one record and raise ValueError/KeyError/TypeError on a
shape they cannot read; the client turns that into a typed Qoyod error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from invoicing.money import to_decimal

Json = Mapping[str, Any]


def _optional_amount(value: Any) -> Decimal | None:
    # Amounts arrive as strings ("80.5") or numbers (qoyod-api.md §15.3); the client decodes
    # with parse_float=Decimal, so no float ever reaches to_decimal, which would refuse it.
    return None if value is None or value == "" else to_decimal(value)


def _date(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def _optional_date(value: Any) -> date | None:
    return None if value in (None, "") else _date(value)


def _timestamp(value: Any) -> datetime | None:
    # Bookkeeping metadata only: an unexpected format must not make the record unreadable.
    try:
        return None if value in (None, "") else datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _flag(value: Any) -> bool:
    # track_quantity arrives as 0/1, "0"/"1" or a boolean (qoyod-api.md §1.4).
    return value in (True, 1, "1", "true", "True")


@dataclass(frozen=True)
class Address:
    street: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    country: str = ""
    building_number: str = ""

    @classmethod
    def from_json(cls, data: Json | None) -> Address | None:
        if not data:
            return None
        return cls(
            street=_text(data.get("billing_address")),
            city=_text(data.get("billing_city")),
            state=_text(data.get("billing_state")),
            zip_code=_text(data.get("billing_zip")),
            country=_text(data.get("billing_country")),
            building_number=_text(data.get("building_number")),
        )

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
class Customer:
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

    @classmethod
    def from_json(cls, data: Json) -> Customer:
        return cls(
            id=int(data["id"]),
            name=_text(data.get("name")),
            organization=_text(data.get("organization")),
            email=_text(data.get("email")),
            phone_number=_text(data.get("phone_number")),
            tax_number=_text(data.get("tax_number")),
            status=_text(data.get("status")),
            billing_address=Address.from_json(data.get("billing_address")),
            updated_at=_timestamp(data.get("updated_at")),
        )


@dataclass(frozen=True)
class WarehouseStock:
    inventory_id: int
    name_en: str
    name_ar: str
    quantity: Decimal

    @classmethod
    def from_json(cls, data: Json) -> WarehouseStock:
        return cls(
            inventory_id=int(data["id"]),
            name_en=_text(data.get("name_en")),
            name_ar=_text(data.get("name_ar")),
            quantity=to_decimal(0 if data.get("stock") is None else data["stock"]),
        )


@dataclass(frozen=True)
class Product:
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

    @classmethod
    def from_json(cls, data: Json) -> Product:
        return cls(
            id=int(data["id"]),
            sku=_text(data.get("sku")),
            name_ar=_text(data.get("name_ar")),
            name_en=_text(data.get("name_en")),
            type=_text(data.get("type")) or "Product",
            track_quantity=_flag(data.get("track_quantity")),
            tax_id=_optional_int(data.get("tax_id")),
            unit_type_id=_optional_int(data.get("unit_type")),
            unit=_text(data.get("unit")),
            category_id=_optional_int(data.get("category_id")),
            selling_price=_optional_amount(data.get("selling_price")),
            buying_price=_optional_amount(data.get("buying_price")),
            sales_account_id=_optional_int(data.get("sales_account_id")),
            expense_account_id=_optional_int(data.get("expense_account_id")),
            stock=tuple(WarehouseStock.from_json(row) for row in data.get("inventories") or ()),
        )


@dataclass(frozen=True)
class Warehouse:
    id: int
    name: str
    ar_name: str
    city: str
    account_id: int | None
    is_default: bool

    @classmethod
    def from_json(cls, data: Json) -> Warehouse:
        return cls(
            id=int(data["id"]),
            name=_text(data.get("name")),
            ar_name=_text(data.get("ar_name")),
            city=_text(data.get("city")),
            account_id=_optional_int(data.get("account_id")),
            is_default=bool(data.get("is_default")),
        )


@dataclass(frozen=True)
class Tax:
    id: int
    name_en: str
    name_ar: str
    percentage: Decimal
    code: str

    @classmethod
    def from_json(cls, data: Json) -> Tax:
        return cls(
            id=int(data["id"]),
            name_en=_text(data.get("name_en")),
            name_ar=_text(data.get("name_ar")),
            percentage=to_decimal(data["percentage"]),
            code=_text(data.get("code")),
        )


@dataclass(frozen=True)
class Account:
    id: int
    code: str
    name_en: str
    name_ar: str
    type: str
    group_type: str
    status: str
    type_of_account: str
    balance: Decimal | None

    @classmethod
    def from_json(cls, data: Json) -> Account:
        return cls(
            id=int(data["id"]),
            code=_text(data.get("code")),
            name_en=_text(data.get("name_en")),
            name_ar=_text(data.get("name_ar")),
            type=_text(data.get("type")),
            group_type=_text(data.get("group_type")),
            status=_text(data.get("status")),
            type_of_account=_text(data.get("type_of_account")),
            balance=_optional_amount(data.get("balance")),
        )


@dataclass(frozen=True)
class Unit:
    id: int
    unit_name: str
    unit_representation: str

    @classmethod
    def from_json(cls, data: Json) -> Unit:
        return cls(
            id=int(data["id"]),
            unit_name=_text(data.get("unit_name")),
            unit_representation=_text(data.get("unit_representation")),
        )


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    parent_id: int | None

    @classmethod
    def from_json(cls, data: Json) -> Category:
        return cls(
            id=int(data["id"]),
            name=_text(data.get("name")),
            parent_id=_optional_int(data.get("parent_id")),
        )


@dataclass(frozen=True)
class Allocation:
    id: int
    amount: Decimal
    date: date | None
    source_id: int | None
    source_type: str
    allocatee_id: int | None
    allocatee_type: str

    @classmethod
    def from_json(cls, data: Json) -> Allocation:
        return cls(
            id=int(data["id"]),
            amount=to_decimal(data["amount"]),
            date=_optional_date(data.get("date")),
            source_id=_optional_int(data.get("source_id")),
            source_type=_text(data.get("source_type")),
            allocatee_id=_optional_int(data.get("allocatee_id")),
            allocatee_type=_text(data.get("allocatee_type")),
        )


@dataclass(frozen=True)
class InvoiceLine:
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

    @classmethod
    def from_json(cls, data: Json) -> InvoiceLine:
        return cls(
            product_id=_optional_int(data.get("product_id")),
            product_name=_text(data.get("product_name")),
            description=_text(data.get("description")),
            quantity=to_decimal(data["quantity"]),
            unit_price=to_decimal(data["unit_price"]),
            discount_percent=_optional_amount(data.get("discount_percent")) or Decimal("0"),
            discount_amount=_optional_amount(data.get("discount_amount")) or Decimal("0"),
            tax_percent=_optional_amount(data.get("tax_percent")) or Decimal("0"),
            line_total=to_decimal(data["line_total"]),
            inventory_id=_optional_int(data.get("inventory_id")),
            is_inclusive=bool(data.get("is_inclusive")),
        )


# Statuses Qoyod reports (qoyod-api.md §5.2); "Approved" means approved and unpaid.
DRAFT = "Draft"
APPROVED = "Approved"
PARTIALLY_PAID = "Partially Paid"
PAID = "Paid"


@dataclass(frozen=True)
class Invoice:
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

    @classmethod
    def from_json(cls, data: Json) -> Invoice:
        return cls(
            id=int(data["id"]),
            reference=_text(data.get("reference")),
            status=_text(data["status"]),
            contact_id=_optional_int(data.get("contact_id")),
            issue_date=_optional_date(data.get("issue_date")),
            due_date=_optional_date(data.get("due_date")),
            description=_text(data.get("description")),
            total=to_decimal(data["total"]),
            paid_amount=to_decimal(data["paid_amount"]),
            due_amount=to_decimal(data["due_amount"]),
            lines=tuple(InvoiceLine.from_json(row) for row in data.get("line_items") or ()),
            payments=tuple(Allocation.from_json(row) for row in data.get("payments") or ()),
            updated_at=_timestamp(data.get("updated_at")),
        )


@dataclass(frozen=True)
class Receipt:
    id: int
    reference: str
    description: str
    date: date | None
    amount: Decimal
    kind: str
    contact_id: int | None
    account_id: int | None
    allocations: tuple[Allocation, ...]

    @classmethod
    def from_json(cls, data: Json) -> Receipt:
        return cls(
            id=int(data["id"]),
            reference=_text(data.get("reference")),
            description=_text(data.get("description")),
            date=_optional_date(data.get("date")),
            amount=to_decimal(data["amount"]),
            kind=_text(data.get("kind")),
            contact_id=_optional_int(data.get("contact_id")),
            account_id=_optional_int(data.get("account_id")),
            allocations=tuple(Allocation.from_json(row) for row in data.get("allocations") or ()),
        )


@dataclass(frozen=True)
class JournalAmount:
    account_id: int
    amount: Decimal
    comments: tuple[str, ...] = ()
    contact_id: int | None = None

    @classmethod
    def from_json(cls, data: Json) -> JournalAmount:
        return cls(
            account_id=int(data["account_id"]),
            amount=to_decimal(data["amount"]),
            comments=tuple(str(c) for c in data.get("all_comments") or ()),
            contact_id=_optional_int(data.get("contact_id")),
        )


@dataclass(frozen=True)
class JournalEntry:
    id: int
    date: date | None
    description: str
    total_debit: Decimal
    total_credit: Decimal
    debits: tuple[JournalAmount, ...]
    credits: tuple[JournalAmount, ...]

    @classmethod
    def from_json(cls, data: Json) -> JournalEntry:
        return cls(
            id=int(data["id"]),
            date=_optional_date(data.get("date")),
            description=_text(data.get("description")),
            total_debit=to_decimal(data["total_debit"]),
            total_credit=to_decimal(data["total_credit"]),
            debits=tuple(JournalAmount.from_json(r) for r in data.get("debit_amounts") or ()),
            credits=tuple(JournalAmount.from_json(r) for r in data.get("credit_amounts") or ()),
        )


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
