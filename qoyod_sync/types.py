"""Typed Qoyod records (what the client returns) and inputs (what the writer sends).

Records are frozen dataclasses read by qoyod_sync.decode: each declares its fields and, in its
QOYOD table, only where a field departs from the defaults for its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.money import to_decimal, to_money
from qoyod_sync.decode import From, Record, amount_or_zero, flag, text

_HUNDRED = Decimal("100")


def _product_type(value: Any) -> str:
    return text(value) or "Product"


def _nested_id(value: Any) -> int | None:
    # A simple bill embeds its contact and each line's account as objects, not ids.
    found = value.get("id") if isinstance(value, dict) else None
    return None if found is None or found == "" else int(found)


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
class Vendor(Record):
    """A Qoyod vendor (a contact of type Vendor): the supplier of a simple bill."""

    id: int
    name: str
    tax_number: str
    status: str

    @property
    def is_active(self) -> bool:
        return self.status == "Active"


@dataclass(frozen=True)
class SimpleBillLine(Record):
    QOYOD = {
        "expense_account_id": From("expense_account", read=_nested_id),
    }

    description: str
    total_amount: Decimal
    tax: Decimal | None
    is_inclusive: bool
    expense_account_id: int | None


@dataclass(frozen=True)
class SimpleBill(Record):
    """An expense bill without products (SimpleBillResponse); the vendor comes embedded."""

    QOYOD = {
        "contact_id": From("contact", read=_nested_id),
        "lines": From("line_items"),
    }

    id: int
    reference: str
    status: str
    issue_date: date | None
    total: Decimal
    contact_id: int | None
    lines: tuple[SimpleBillLine, ...]


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
class SpecialTaxReason(Record):
    """A ZATCA exemption reason (VATEX code) under the tenant's id; `category` is the code of
    the tax it goes with (Z, E or O), not a product category (qoyod-openapi-v2.1.yaml)."""

    id: int
    code: str
    category: str
    display_reason: str


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
    # The chart's top class ("Asset", "Expense" ...); GET /accounts lists leaves only (§8.1).
    parent_type: str
    balance: Decimal | None

    @property
    def is_active(self) -> bool:
        return self.status == "Active"


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
    # Qoyod's own VAT of the line before rounding (qoyod-api.md §5.4); absent on some tenants.
    unrounded_vat_value: Decimal | None

    @property
    def vat(self) -> Decimal:
        """The line's VAT as Qoyod charged it: its own figure, rounded like its total, or
        where it is missing the line total less the net (§5.4: line_total includes VAT)."""
        if self.unrounded_vat_value is not None:
            return to_money(self.unrounded_vat_value)
        if self.is_inclusive:
            return to_money(self.line_total * self.tax_percent / (_HUNDRED + self.tax_percent))
        return self.line_total - to_money(self.quantity * self.unit_price - self.discount_amount)


# Statuses Qoyod reports (qoyod-api.md §5.2); "Approved" means approved and unpaid.
DRAFT = "Draft"
APPROVED = "Approved"
PARTIALLY_PAID = "Partially Paid"
PAID = "Paid"
# An allocation's source when a credit note, not a receipt, settled part of an invoice.
CREDIT_NOTE = "CreditNote"


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

    @property
    def vat_total(self) -> Decimal:
        return sum((line.vat for line in self.lines), Decimal("0"))

    @property
    def credited(self) -> Decimal:
        """What credit notes settled of it: its allocations of source CreditNote (§5.2)."""
        return sum((a.amount for a in self.payments if a.source_type == CREDIT_NOTE), Decimal("0"))


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
    inventory_id: int | None
    total_debit: Decimal
    total_credit: Decimal
    debits: tuple[JournalAmount, ...]
    credits: tuple[JournalAmount, ...]
    # The published response has no status; a company that approves manual entries in Qoyod's
    # interface prints one ("Awaiting approval", "Approved"). Empty when absent.
    status: str = ""


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
    supply_date: date | None = None

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
        if self.supply_date is not None:
            invoice["supply_date"] = self.supply_date.isoformat()
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
    """JournalEntryInput of the published spec; Qoyod has no reference, status or attachment."""

    date: date
    description: str
    debits: tuple[JournalLine, ...]
    credits: tuple[JournalLine, ...]
    # The entry's default warehouse (a branch's), applied to every amount.
    inventory_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            # `date` is the input's name; Qoyod stores and filters it as journal_entry_date,
            # which only the list filters need (qoyod-api.md §15.18, reader.list_journal_entries).
            "date": self.date.isoformat(),
            "description": self.description,
            "debit_amounts": [line.to_json() for line in self.debits],
            "credit_amounts": [line.to_json() for line in self.credits],
        }
        if self.inventory_id is not None:
            entry["inventory_id"] = self.inventory_id
        return {"journal_entry": entry}

    @property
    def is_balanced(self) -> bool:
        """Debits equal credits: Qoyod refuses anything else (qoyod-api.md §8.2)."""
        debit = sum((line.amount for line in self.debits), Decimal("0"))
        return debit == sum((line.amount for line in self.credits), Decimal("0"))


def _quantity(value: Decimal) -> str:
    # A count without the trailing zeros of its column ("7", not "7.000"), never in E-notation.
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class AdjustmentLine:
    product_id: int
    # The new total on hand at the warehouse, not a change (qoyod-api.md §4.4).
    actual_quantity: Decimal
    # What Qoyod had just before, and the unit cost; both informative.
    current_quantity: Decimal
    rate: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "actual_quantity": _quantity(self.actual_quantity),
            "current_qty": _quantity(self.current_quantity),
            "rate": _amount(self.rate),
        }


@dataclass(frozen=True)
class NewInventoryAdjustment:
    inventory_id: int
    # Qoyod posts a count above its stock to the revenue account, below it to the expense one.
    gain_account_id: int
    loss_account_id: int
    date: date
    description: str
    lines: tuple[AdjustmentLine, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "inventory_adjustment": {
                "inventory_id": self.inventory_id,
                "revenue_account_id": self.gain_account_id,
                "expense_account_id": self.loss_account_id,
                "date": self.date.isoformat(),
                "description": self.description,
                "line_items": [line.to_json() for line in self.lines],
            }
        }


@dataclass(frozen=True)
class InventoryAdjustment(Record):
    id: int
    date: date | None
    description: str


@dataclass(frozen=True)
class CreditNoteLine(Record):
    # A note's lines say price and total where an invoice's say unit_price and line_total
    # (qoyod-api.md §7.1).
    QOYOD = {
        "unit_price": From("price"),
        "tax_percent": From(read=amount_or_zero),
    }

    product_id: int | None
    quantity: Decimal
    unit_price: Decimal
    tax_percent: Decimal
    total: Decimal


@dataclass(frozen=True)
class CreditNote(Record):
    QOYOD = {
        "status": From(required=True),
        "lines": From("line_items"),
    }

    id: int
    reference: str
    status: str
    contact_id: int | None
    parent_id: int | None
    issuance_reason: str
    issue_date: date | None
    total_amount: Decimal
    lines: tuple[CreditNoteLine, ...]


@dataclass(frozen=True)
class DraftCreditNote:
    contact_id: int
    parent_id: int
    reference: str
    issuance_reason: str
    issue_date: date
    inventory_id: int
    lines: tuple[DraftLine, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "credit_note": {
                "contact_id": self.contact_id,
                "parent_id": self.parent_id,
                "reference": self.reference,
                "issuance_reason": self.issuance_reason,
                "issue_date": self.issue_date.isoformat(),
                # Only ever a draft: the accountant approves the note in Qoyod.
                "status": DRAFT,
                "inventory_id": self.inventory_id,
                "line_items": [line.to_json(self.inventory_id) for line in self.lines],
            }
        }


@dataclass(frozen=True)
class NewSimpleBill:
    """SimpleBillInput: one line, the expense account as its category, our number as reference.

    Sent as a Draft, so the accountant approves it in Qoyod.
    """

    contact_id: int
    reference: str
    issue_date: date
    inventory_id: int
    expense_account_id: int
    total_amount: Decimal
    tax_id: int
    description: str
    # The gross amount includes the VAT, as on the supplier's receipt.
    is_inclusive: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "simple_bill": {
                "contact_id": self.contact_id,
                "reference": self.reference,
                "issue_date": self.issue_date.isoformat(),
                "inventory_id": self.inventory_id,
                "status": "Draft",
                "simple_bill_items_attributes": [
                    {
                        "expense_category_id": self.expense_account_id,
                        "total_amount": _amount(self.total_amount),
                        "tax_id": self.tax_id,
                        "description": self.description,
                        "is_inclusive": self.is_inclusive,
                    }
                ],
            }
        }
