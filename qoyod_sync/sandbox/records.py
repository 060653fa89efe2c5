"""Records the sandbox keeps per company, and how Qoyod prints them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

RIYADH = timezone(timedelta(hours=3))


class ApiError(Exception):
    """An answer other than success: status and the JSON body Qoyod would send."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def invalid(errors: dict[str, list[str]]) -> ApiError:
    """422 in the field-keyed shape (qoyod-api.md §10.2, shape 1)."""
    return ApiError(422, {"errors": errors})


def now_stamp() -> str:
    """A timestamp as Qoyod prints them: milliseconds and the Riyadh offset."""
    return datetime.now(RIYADH).isoformat(timespec="milliseconds")


def today() -> str:
    return datetime.now(RIYADH).date().isoformat()


def money(value: Decimal) -> str:
    """Decimal as Qoyod prints it (Ruby BigDecimal): "80.5", "0.0", "3861.13"."""
    value = value.normalize()
    if value == 0:
        return "0.0"
    if value == value.to_integral_value():
        return f"{value:f}.0"
    return f"{value:f}"


def parse_amount(value: Any) -> Decimal | None:
    """A request amount: JSON number or numeric string; None when absent or unreadable."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def parse_id(value: Any) -> int | None:
    """Ids arrive as numbers or numeric strings (qoyod-api.md §1.4, §15.31)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass
class WarehouseRec:
    id: int
    name: str
    ar_name: str
    city: str
    account_id: int
    is_default: bool
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "ar_name": self.ar_name,
            "address": "",
            "city": self.city,
            "account_id": self.account_id,
            "is_default": self.is_default,
            "contact_shipping_address": None,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }


@dataclass
class TaxRec:
    id: int
    name_en: str
    name_ar: str
    percentage: Decimal
    code: str

    def to_json(self) -> dict[str, Any]:
        # The spec types percentage as a number; no real output contradicts it (§15.3).
        return {
            "id": self.id,
            "name_en": self.name_en,
            "name_ar": self.name_ar,
            "percentage": int(self.percentage)
            if self.percentage == self.percentage.to_integral_value()
            else self.percentage,
            "code": self.code,
        }


@dataclass
class AccountRec:
    id: int
    code: str
    name_en: str
    name_ar: str
    type: str
    group_type: str
    type_of_account: str
    created_at: str
    status: str = "Active"
    updated_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name_en": self.name_en,
            "name_ar": self.name_ar,
            "type": self.type,
            "group_type": self.group_type,
            "status": self.status,
            "account_nature": self.type_of_account,
            "type_of_account": self.type_of_account,
            "parent_type": self.type,
            "balance": 0,
            "deferral_template_id": None,
            "created_at": self.created_at,
            "updated_at": self.updated_at or self.created_at,
        }


@dataclass
class UnitRec:
    id: int
    unit_name: str
    unit_representation: str
    kind: int
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "unit_name": self.unit_name,
            "unit_representation": self.unit_representation,
            "kind": self.kind,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }


@dataclass
class CategoryRec:
    id: int
    name: str
    description: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "parent_id": None,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }


@dataclass
class CustomerRec:
    id: int
    name: str
    organization: str = ""
    email: str = ""
    phone_number: str = ""
    secondary_phone_number: str = ""
    tax_number: str = ""
    status: str = "Active"
    billing_address: dict[str, Any] | None = None
    created_at: str = field(default_factory=now_stamp)
    updated_at: str = field(default_factory=now_stamp)

    def to_json(self) -> dict[str, Any]:
        billing = None
        if self.billing_address is not None:
            billing = {
                "id": self.id,
                "contact_id": self.id,
                "is_default": True,
                **self.billing_address,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            }
        return {
            "id": self.id,
            "name": self.name,
            "organization": self.organization,
            "status": self.status,
            "email": self.email,
            "phone_number": self.phone_number,
            "secondary_phone_number": self.secondary_phone_number or None,
            "tax_number": self.tax_number,
            "custom_fields": {},
            "customer_details": {},
            "website": None,
            "pos": False,
            "government_entity": False,
            "billing_address": billing,
            "shipping_address": None,
            "bank": None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class SpecialTaxReasonRec:
    id: int
    code: str
    reason: str
    category: str
    display_reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "reason": self.reason,
            "category": self.category,
            "display_reason": self.display_reason,
        }


@dataclass
class ProductRec:
    id: int
    sku: str
    name_ar: str
    name_en: str
    type: str
    track_quantity: int
    tax_id: int
    unit_id: int
    category_id: int | None
    selling_price: Decimal | None
    buying_price: Decimal | None
    description: str = ""
    barcode: str = ""
    sales_account_id: int | None = None
    expense_account_id: int | None = None
    special_tax_reason_id: int | None = None
    created_at: str = field(default_factory=now_stamp)
    updated_at: str = field(default_factory=now_stamp)


@dataclass
class AllocationRec:
    id: int
    amount: Decimal
    date: str
    source_id: int
    allocatee_id: int
    created_at: str = field(default_factory=now_stamp)
    # A used credit note shows in the invoice's payments as its source (qoyod-api.md §7.1).
    source_type: str = "Receipt"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "amount": money(self.amount),
            "date": self.date,
            "source_id": self.source_id,
            "source_type": self.source_type,
            "allocatee_id": self.allocatee_id,
            "allocatee_type": "Invoice",
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }


@dataclass
class ReceiptRec:
    id: int
    reference: str
    description: str
    date: str
    amount: Decimal
    contact_id: int
    account_id: int
    allocations: list[AllocationRec]
    kind: str = "received"
    created_at: str = field(default_factory=now_stamp)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "description": self.description,
            "date": self.date,
            "amount": money(self.amount),
            "kind": self.kind,
            "contact_id": self.contact_id,
            "account_id": self.account_id,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "allocations": [a.to_json() for a in self.allocations],
        }


@dataclass
class LineRec:
    product_id: int
    product_name: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit_type: int
    unit: str
    discount_percent: Decimal
    discount_amount: Decimal
    tax_percent: Decimal
    net: Decimal
    vat: Decimal
    unrounded_vat: Decimal
    inventory_id: int
    is_inclusive: bool
    inclusive_unit_price: Decimal | None

    @property
    def line_total(self) -> Decimal:
        return self.net + self.vat

    def to_json(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "product_name": self.product_name,
            "description": self.description,
            "quantity": money(self.quantity),
            "unit_price": money(self.unit_price),
            "unit_type": self.unit_type,
            "unit": self.unit,
            "discount_percent": money(self.discount_percent),
            "discount_amount": money(self.discount_amount),
            "tax_percent": money(self.tax_percent),
            "line_total": money(self.line_total),
            "inventory_id": self.inventory_id,
            "is_inclusive": self.is_inclusive,
            "inclusive_unit_price": None
            if self.inclusive_unit_price is None
            else money(self.inclusive_unit_price),
            "unrounded_vat_value": money(self.unrounded_vat),
        }


@dataclass
class InvoiceRec:
    id: int
    contact_id: int
    reference: str
    description: str
    notes: str
    terms_conditions: str
    issue_date: str
    due_date: str
    inventory_id: int
    payment_method: int | None
    draft_if_out_of_stock: bool
    lines: list[LineRec]
    # Stored status is Draft or Approved; the paid states are derived from the allocations.
    approved: bool = False
    # A tenant with an approval workflow: submitted, not yet approved (qoyod-api.md §5.2, §15.29).
    awaiting_approval: bool = False
    allocations: list[AllocationRec] = field(default_factory=list)
    qrcode_string: str = ""
    supply_date: str = ""
    created_at: str = field(default_factory=now_stamp)
    updated_at: str = field(default_factory=now_stamp)

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0"))

    @property
    def paid(self) -> Decimal:
        return sum((a.amount for a in self.allocations), Decimal("0"))

    @property
    def due(self) -> Decimal:
        return self.total - self.paid

    @property
    def status(self) -> str:
        if not self.approved:
            return "Awaiting for approval" if self.awaiting_approval else "Draft"
        if self.paid >= self.total:
            return "Paid"
        return "Partially Paid" if self.paid > 0 else "Approved"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "issue_date": self.issue_date,
            "due_date": self.due_date,
            "supply_date": self.supply_date or None,
            "due_amount": money(self.due),
            "paid_amount": money(self.paid),
            "total": money(self.total),
            "contact_id": self.contact_id,
            "status": self.status,
            "reference": self.reference,
            "notes": self.notes,
            "terms_conditions": self.terms_conditions,
            "qrcode_string": self.qrcode_string,
            "payment_method": self.payment_method,
            "contract_id": None,
            "settlement_type": None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "created_by": "sandbox@qoyod.invalid",
            "inclusive_cd_discount": None,
            "discount_account_id": None,
            "discount_tax_id": None,
            "line_items": [line.to_json() for line in self.lines],
            "payments": [a.to_json() for a in self.allocations],
        }


@dataclass
class JournalAmountRec:
    account_id: int
    amount: Decimal
    comment: str
    contact_id: int | None


@dataclass
class JournalEntryRec:
    id: int
    date: str
    description: str
    debits: list[JournalAmountRec]
    credits: list[JournalAmountRec]
    created_at: str = field(default_factory=now_stamp)
    inventory_id: int | None = None
    # Only companies that use Qoyod's approval of manual entries print a status (journal.py).
    status: str | None = None

    def to_json(self) -> dict[str, Any]:
        def amounts(rows: list[JournalAmountRec]) -> list[dict[str, Any]]:
            return [
                {
                    "amount": money(row.amount),
                    "account_id": row.account_id,
                    "entry_id": self.id,
                    "inventory_id": self.inventory_id,
                    "all_comments": [row.comment] if row.comment else [],
                    "project_id": None,
                    "contact_id": row.contact_id,
                }
                for row in rows
            ]

        total = sum((row.amount for row in self.debits), Decimal("0"))
        body: dict[str, Any] = {
            "id": self.id,
            "date": self.date,
            "description": self.description,
            "inventory_id": self.inventory_id,
            "total_debit": money(total),
            "total_credit": money(total),
            "project_id": None,
            "debit_amounts": amounts(self.debits),
            "credit_amounts": amounts(self.credits),
        }
        if self.status is not None:
            body["status"] = self.status
        return body


@dataclass
class NoteRec:
    """A credit note (sales return) against one of the company's invoices (qoyod-api.md §7.1)."""

    id: int
    contact_id: int
    parent_id: int
    reference: str
    issuance_reason: str
    issue_date: str
    due_date: str
    supply_date: str
    inventory_id: int
    payment_method: int | None
    notes: str
    lines: list[LineRec]
    # Stored status is Draft or approved ("Unused"); how much of it is used decides the rest.
    approved: bool = False
    used: Decimal = Decimal("0")
    qrcode_string: str = ""
    created_at: str = field(default_factory=now_stamp)
    updated_at: str = field(default_factory=now_stamp)

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0"))

    @property
    def remaining(self) -> Decimal:
        return self.total - self.used

    @property
    def status(self) -> str:
        if not self.approved:
            return "Draft"
        if self.used <= 0:
            return "Unused"
        return "Used" if self.used >= self.total else "Partially Used"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "issuance_reason": self.issuance_reason,
            "contact_id": self.contact_id,
            "status": self.status,
            "issue_date": self.issue_date,
            "due_date": self.due_date,
            "supply_date": self.supply_date or None,
            "total_amount": money(self.total),
            "remaining_amount": money(self.remaining),
            "notes": self.notes,
            "terms_conditions": "",
            "qrcode_string": self.qrcode_string,
            "payment_method": self.payment_method,
            "contract_id": None,
            "settlement_type": None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "created_by": "sandbox@qoyod.invalid",
            "parent_id": self.parent_id,
            # Note lines name the price and total differently from invoice lines (§7.1).
            "line_items": [_note_line(line) for line in self.lines],
        }


def _note_line(line: LineRec) -> dict[str, Any]:
    data = line.to_json()
    data["price"] = data.pop("unit_price")
    data["total"] = data.pop("line_total")
    return data
