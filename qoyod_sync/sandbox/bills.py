"""Vendors and simple bills (expense bills without products), qoyod-api.md §3, §7.2.

Vendors are contacts, as customers are: they share the contact ids, nothing prevents two with
the same VAT number, and the list ignores paging. A simple bill needs an active vendor, an issue
date, a warehouse and, on each line, an active expense account, an amount and a tax; missing
fields come back as the plain array of messages the published spec shows, a taken reference
in the field-keyed shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from qoyod_sync.sandbox.chart import ACTIVE
from qoyod_sync.sandbox.records import (
    ApiError,
    invalid,
    money,
    now_stamp,
    parse_amount,
    parse_id,
)

if TYPE_CHECKING:
    from qoyod_sync.sandbox.company import Company

DRAFT = "Draft"
STATUSES = ("Draft", "Approved", "Paid", "Cancelled")
_CENT = Decimal("0.01")


@dataclass
class VendorRec:
    id: int
    name: str
    tax_number: str = ""
    status: str = ACTIVE
    created_at: str = field(default_factory=now_stamp)
    updated_at: str = field(default_factory=now_stamp)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "organization": "",
            "status": self.status,
            "tax_number": self.tax_number,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class SimpleBillLineRec:
    id: int
    expense_account_id: int
    total_amount: Decimal
    tax_id: int
    percentage: Decimal
    description: str
    is_inclusive: bool
    inventory_id: int

    @property
    def vat(self) -> Decimal:
        rate = self.percentage / 100
        if self.is_inclusive:
            return (self.total_amount * rate / (1 + rate)).quantize(_CENT)
        return (self.total_amount * rate).quantize(_CENT)

    @property
    def line_total(self) -> Decimal:
        return self.total_amount if self.is_inclusive else self.total_amount + self.vat


@dataclass
class SimpleBillRec:
    id: int
    reference: str
    issue_date: str
    contact_id: int
    inventory_id: int
    status: str
    lines: list[SimpleBillLineRec]
    description: str = ""
    created_at: str = field(default_factory=now_stamp)


def create_vendor(company: Company, data: Any) -> VendorRec:
    if not isinstance(data, Mapping):
        raise invalid({"base": ["contact must be an object"]})
    name = str(data.get("name") or "").strip()
    if not name:
        raise invalid({"contact_name": ["can't be blank"]})
    vendor = VendorRec(
        id=company.next_id("customer"),
        name=name,
        tax_number=str(data.get("tax_number") or ""),
        status=str(data.get("status") or ACTIVE),
    )
    company.vendors[vendor.id] = vendor
    return vendor


def create_simple_bill(company: Company, data: Any) -> SimpleBillRec:
    if not isinstance(data, Mapping):
        raise invalid({"base": ["simple_bill must be an object"]})
    missing = []
    contact_id = parse_id(data.get("contact_id"))
    if contact_id is None:
        missing.append("contact id is missing")
    issue_date = str(data.get("issue_date") or "")
    if not issue_date:
        missing.append("issue_date is missing")
    inventory_id = parse_id(data.get("inventory_id"))
    if inventory_id is None:
        missing.append("inventory_id is missing")
    items = data.get("simple_bill_items_attributes")
    if not isinstance(items, list) or not items:
        missing.append("simple_bill_items_attributes is missing")
        items = []
    for item in items:
        row = item if isinstance(item, Mapping) else {}
        if parse_id(row.get("expense_category_id")) is None:
            missing.append("expense_category_id missing in a line item")
        if parse_id(row.get("tax_id")) is None:
            missing.append("tax_id missing in a line item")
    if missing:
        raise ApiError(422, {"errors": missing})
    assert contact_id is not None and inventory_id is not None
    vendor = company.vendors.get(contact_id)
    if vendor is None or vendor.status != ACTIVE:
        raise invalid({"contact": ["must be an active vendor"]})
    if inventory_id not in company.warehouses:
        raise ApiError(422, {"errors": f"Inventory id {data.get('inventory_id')} is not valid"})
    try:
        date.fromisoformat(issue_date)
    except ValueError:
        raise invalid({"issue_date": ["is not a valid date"]}) from None
    status = str(data.get("status") or DRAFT)
    if status not in STATUSES:
        raise invalid({"status": ["is not included in the list"]})
    reference = str(data.get("reference") or "").strip()
    if reference and any(b.reference == reference for b in company.simple_bills.values()):
        raise invalid({"reference": ["has already been taken"]})
    lines = [_line(company, item, inventory_id) for item in items]
    bill = SimpleBillRec(
        id=company.next_id("simple_bill"),
        reference=reference or f"SB-{company.next_id('simple_bill_reference'):04d}",
        issue_date=issue_date,
        contact_id=contact_id,
        inventory_id=inventory_id,
        status=status,
        lines=lines,
        description=str(data.get("description") or ""),
    )
    company.simple_bills[bill.id] = bill
    return bill


def _line(company: Company, item: Mapping[str, Any], inventory_id: int) -> SimpleBillLineRec:
    account_id = parse_id(item.get("expense_category_id"))
    account = None if account_id is None else company.accounts.get(account_id)
    if account is None or account.status != ACTIVE:
        raise ApiError(
            422, {"errors": f"Plutus::Account id {item.get('expense_category_id')} is not valid"}
        )
    tax_id = parse_id(item.get("tax_id"))
    tax = None if tax_id is None else company.taxes.get(tax_id)
    if tax is None:
        raise invalid({"tax": ["must exist"]})
    amount = parse_amount(item.get("total_amount"))
    if amount is None or amount <= 0:
        raise invalid({"total_amount": ["must be greater than 0"]})
    inclusive = item.get("is_inclusive") in (True, "true", "1", 1)
    return SimpleBillLineRec(
        id=company.next_id("simple_bill_line"),
        expense_account_id=account.id,
        total_amount=amount,
        tax_id=tax.id,
        percentage=tax.percentage,
        description=str(item.get("description") or ""),
        is_inclusive=inclusive,
        inventory_id=inventory_id,
    )


def simple_bill_json(company: Company, bill: SimpleBillRec) -> dict[str, Any]:
    """SimpleBillResponse: the vendor embedded, each line's account as a full record."""
    vendor = company.vendors[bill.contact_id]
    total = sum((line.line_total for line in bill.lines), Decimal("0"))
    return {
        "id": bill.id,
        "status": bill.status,
        "issue_date": bill.issue_date,
        "total": money(total),
        "paid_amount": 0,
        "due_amount": money(total),
        "reference": bill.reference,
        "created_at": bill.created_at,
        "updated_at": bill.created_at,
        "line_items": [
            {
                "id": line.id,
                "description": line.description,
                "project_id": None,
                "total_amount": money(line.total_amount),
                "tax": int(line.percentage)
                if line.percentage == line.percentage.to_integral_value()
                else line.percentage,
                "line_total": money(line.line_total),
                "inventory_id": line.inventory_id,
                "is_inclusive": line.is_inclusive,
                "unrounded_vat_value": money(line.vat),
                "expense_account": company.accounts[line.expense_account_id].to_json(),
            }
            for line in bill.lines
        ],
        "payments": [],
        "contact": {
            "id": vendor.id,
            "name": vendor.name,
            "organization": "",
            "status": vendor.status,
            "created_at": vendor.created_at,
            "updated_at": vendor.updated_at,
        },
    }
