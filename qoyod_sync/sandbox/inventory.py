"""Inventory adjustments (stock takes): the sandbox's rules (qoyod-api.md §4.4, the YAML).

- Create only: Qoyod has no list, read or delete for adjustments, so neither does the sandbox.
- Each line's `actual_quantity` is the new total on hand at the adjustment's warehouse, not a
  change: posting the same adjustment twice leaves the same stock.
- Validation failures answer 422 in the `invalid_resource!` shape (since 2026-08-31); nothing
  of a refused adjustment is applied.
- Only tracked products can be counted; both accounts must exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.records import (
    AccountRec,
    ApiError,
    money,
    now_stamp,
    parse_amount,
    parse_id,
    today,
)


@dataclass
class AdjustmentLineRec:
    id: int
    product_id: int
    product_name: str
    quantity: Decimal
    rate: Decimal


@dataclass
class AdjustmentRec:
    id: int
    inventory_id: int
    date: str
    description: str
    revenue_account: AccountRec
    expense_account: AccountRec
    lines: list[AdjustmentLineRec]
    created_at: str = field(default_factory=now_stamp)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date": self.date,
            "description": self.description,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "line_items": [
                {
                    "id": line.id,
                    "product": {"id": line.product_id, "name": line.product_name},
                    "quantity": money(line.quantity),
                    "value": money(line.quantity * line.rate),
                }
                for line in self.lines
            ],
            "revenue_account": self.revenue_account.to_json(),
            "expense_account": self.expense_account.to_json(),
        }


def _refused(messages: dict[str, list[str]]) -> ApiError:
    return ApiError(422, {"error": "Invalid resource", "messages": messages})


def create_adjustment(company: Company, data: Any) -> AdjustmentRec:
    """Set each line's product to its actual quantity at the warehouse, all lines or none."""
    if not isinstance(data, Mapping):
        raise _refused({"inventory_adjustment": ["is invalid"]})
    messages: dict[str, list[str]] = {}
    inventory_id = parse_id(data.get("inventory_id"))
    if inventory_id is None:
        messages["inventory_id"] = ["can't be blank"]
    elif inventory_id not in company.warehouses:
        messages["inventory"] = ["must exist"]
    accounts = {}
    for key in ("revenue_account_id", "expense_account_id"):
        account_id = parse_id(data.get(key))
        if account_id is None:
            messages[key] = ["can't be blank"]
        elif account_id not in company.accounts:
            messages[key.removesuffix("_id")] = ["must exist"]
        else:
            accounts[key] = company.accounts[account_id]
    raw_lines = data.get("line_items")
    counted: list[tuple[int, Decimal, Decimal]] = []
    problems: list[str] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        problems.append("can't be blank")
    else:
        for raw in raw_lines:
            line = _line(company, raw, problems)
            if line is not None:
                counted.append(line)
    if problems:
        messages["line_items"] = problems
    if messages:
        raise _refused(messages)
    assert inventory_id is not None
    lines = []
    for product_id, quantity, rate in counted:
        company.stock[(product_id, inventory_id)] = quantity
        product = company.products[product_id]
        product.updated_at = now_stamp()
        lines.append(
            AdjustmentLineRec(
                id=company.next_id("adjustment_line"),
                product_id=product_id,
                product_name=product.name_ar,
                quantity=quantity,
                rate=rate,
            )
        )
    adjustment = AdjustmentRec(
        id=company.next_id("inventory_adjustment"),
        inventory_id=inventory_id,
        date=str(data.get("date") or today()),
        description=str(data.get("description") or ""),
        revenue_account=accounts["revenue_account_id"],
        expense_account=accounts["expense_account_id"],
        lines=lines,
    )
    company.adjustments[adjustment.id] = adjustment
    return adjustment


def _line(company: Company, raw: Any, problems: list[str]) -> tuple[int, Decimal, Decimal] | None:
    product_id = parse_id(raw.get("product_id")) if isinstance(raw, Mapping) else None
    product = company.products.get(product_id) if product_id is not None else None
    if product is None or product_id is None:
        problems.append("product must exist")
        return None
    quantity = parse_amount(raw.get("actual_quantity"))
    if quantity is None:
        problems.append(f"actual quantity of {product.sku} can't be blank")
    elif quantity < 0:
        problems.append(f"actual quantity of {product.sku} must be greater than or equal to 0")
    if not product.track_quantity:
        problems.append(f"{product.sku} does not track quantity")
    if quantity is None or quantity < 0 or not product.track_quantity:
        return None
    rate = parse_amount(raw.get("rate"))
    return product_id, quantity, rate if rate is not None else Decimal("0")
