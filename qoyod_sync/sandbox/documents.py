"""Invoices, invoice payments and journal entries: the sandbox's accounting rules.

Choices where the contract is silent or conflicting (qoyod-api.md §11.2, §14, §15):
- An invoice reference is unique per company among invoices that exist, compared exactly
  (case-sensitive, as Rails' uniqueness validation is by default); deleting a draft frees it.
  Drafts may have an empty reference; approval then assigns INV<n>.
- Format (when given): at most 25 characters of [A-Za-z0-9_-], ending with a digit.
- Line maths: net = round(qty × price − discount), VAT = round(net × rate) per line with
  ROUND_HALF_UP, line_total = net + VAT, total = Σ line_total, due = total − Σ payments.
  Inclusive lines: the gross is rounded first and VAT is taken out of it.
- Paying more than the amount due is refused (422) — real behaviour unknown (§15.28).
- Payment references are optional (PYT<n> when missing) and not unique.
- Approval consumes tracked stock; a shortfall refuses approval, or keeps a new invoice a
  Draft when it was sent with draft_if_out_of_stock.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from core.money import to_money
from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.records import (
    AllocationRec,
    ApiError,
    InvoiceRec,
    JournalAmountRec,
    JournalEntryRec,
    LineRec,
    ReceiptRec,
    invalid,
    money,
    now_stamp,
    parse_amount,
    parse_id,
    today,
)

REFERENCE = re.compile(r"^[A-Za-z0-9_-]*[0-9]$")
PAYMENT_METHODS = (1, 10, 30, 42, 48)
_HUNDRED = Decimal("100")
_LINES_HINT = (
    'invalid line_items json body - expecting {"invoice" : { ... line_items: [ {...}, ... ] }}'
)
# Receivables and payables lines must name the customer or vendor (qoyod-api.md §8.2).
_CONTACT_ACCOUNTS = (9, 14)


def create_invoice(company: Company, data: Any) -> InvoiceRec:
    if not isinstance(data, Mapping):
        raise ApiError(
            422, {"errors": ['invalid invoice json body - expecting {"invoice" : { ... }}']}
        )
    contact_id = parse_id(data.get("contact_id"))
    if contact_id is None:
        raise ApiError(422, {"errors": ["contact id is missing"]})
    _check_contact(company, contact_id)
    raw_lines = data.get("line_items")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ApiError(422, {"errors": [_LINES_HINT]})
    errors: dict[str, list[str]] = {}
    status = data.get("status") or "Draft"
    if status not in ("Draft", "Approved"):
        errors["status"] = ["is not included in the list"]
    if not data.get("due_date"):
        errors["due_date"] = ["can't be blank"]
    header = _header_fields(company, data, errors, invoice_id=None)
    inventory_id = parse_id(data.get("inventory_id")) or company.default_warehouse.id
    if inventory_id not in company.warehouses:
        errors["inventory"] = ["must exist"]
    lines = [_line(company, raw, inventory_id, errors) for raw in raw_lines]
    if errors:
        raise invalid(errors)
    invoice = InvoiceRec(
        id=company.next_id("invoice"),
        contact_id=contact_id,
        reference=header.get("reference", ""),
        description=header.get("description", ""),
        notes=header.get("notes", ""),
        terms_conditions=header.get("terms_conditions", ""),
        issue_date=header.get("issue_date", today()),
        due_date=header["due_date"],
        inventory_id=inventory_id,
        payment_method=header.get("payment_method"),
        draft_if_out_of_stock=bool(data.get("draft_if_out_of_stock")),
        lines=[line for line in lines if line is not None],
    )
    if status == "Approved":
        _approve(company, invoice)
    company.invoices[invoice.id] = invoice
    return invoice


def update_invoice(company: Company, invoice_id: int, data: Any) -> InvoiceRec:
    invoice = _invoice(company, invoice_id)
    if invoice.approved:
        raise ApiError(422, {"errors": "Not update other than draft"})
    if not isinstance(data, Mapping):
        raise ApiError(
            422, {"errors": ['invalid invoice json body - expecting {"invoice" : { ... }}']}
        )
    errors: dict[str, list[str]] = {}
    contact_id = parse_id(data.get("contact_id")) if "contact_id" in data else None
    if contact_id is not None:
        _check_contact(company, contact_id)
    status = data.get("status")
    if status is not None and status not in ("Draft", "Approved"):
        errors["status"] = ["is not included in the list"]
    header = _header_fields(company, data, errors, invoice_id=invoice.id)
    # Lines sent on update are added, never edited (qoyod-api.md §5.3).
    raw_lines = data.get("line_items") or []
    new_lines = [_line(company, raw, invoice.inventory_id, errors) for raw in raw_lines]
    if errors:
        raise invalid(errors)
    if status == "Approved":
        pending = [*invoice.lines, *(line for line in new_lines if line is not None)]
        _check_stock(company, pending)
    if contact_id is not None:
        invoice.contact_id = contact_id
    for key, value in header.items():
        setattr(invoice, key, value)
    invoice.lines.extend(line for line in new_lines if line is not None)
    invoice.updated_at = now_stamp()
    if status == "Approved":
        _approve(company, invoice)
    return invoice


def approve_invoice(company: Company, invoice_id: int) -> InvoiceRec:
    """Approve a draft, as the accountant does in Qoyod."""
    with company.lock:
        invoice = _invoice(company, invoice_id)
        if invoice.approved:
            raise ApiError(422, {"errors": "Not update other than draft"})
        _check_stock(company, invoice.lines)
        _approve(company, invoice)
        return invoice


def delete_invoice(company: Company, invoice_id: int) -> str:
    """Delete a draft; approved invoices are refused."""
    with company.lock:
        invoice = _invoice(company, invoice_id)
        if invoice.approved:
            raise ApiError(422, {"errors": "Only draft invoices can be deleted"})
        del company.invoices[invoice_id]
        return "Invoice destroyed successfully"


def pay_invoice(company: Company, data: Any) -> ReceiptRec:
    """POST /invoice_payments: a received receipt allocated to the invoice in one step."""
    with company.lock:
        if not isinstance(data, Mapping):
            data = {}
        messages: dict[str, list[str]] = {}
        invoice_id = parse_id(data.get("invoice_id"))
        amount = parse_amount(data.get("amount"))
        account_id = parse_id(data.get("account_id"))
        if invoice_id is None or invoice_id not in company.invoices:
            messages["invoice"] = ["must exist"]
        if amount is None:
            messages["amount"] = ["Can't be blank"]
        elif amount <= 0:
            messages["amount"] = ["must be greater than 0"]
        # The live 422 names the field `account` although the input is account_id (§15.6).
        if account_id is None:
            messages["account"] = ["Can't be blank"]
        elif account_id not in company.accounts:
            messages["account"] = ["must exist"]
        paid_on = str(data.get("date") or "")
        if not paid_on:
            messages["date"] = ["Can't be blank"]
        elif not _is_date(paid_on):
            messages["date"] = ["is not a valid date"]
        if messages:
            raise ApiError(422, {"error": "Invalid resource", "messages": messages})
        assert invoice_id is not None and amount is not None and account_id is not None
        invoice = company.invoices[invoice_id]
        if not invoice.approved:
            raise ApiError(422, {"errors": "Cannot pay Draft invoice"})
        if amount > invoice.due:
            raise invalid({"amount": [f"exceeds the invoice's due amount ({money(invoice.due)})"]})
        receipt_id = company.next_id("receipt")
        allocation = AllocationRec(
            id=company.next_id("allocation"),
            amount=amount,
            date=paid_on,
            source_id=receipt_id,
            allocatee_id=invoice.id,
        )
        reference = str(data.get("reference") or "") or f"PYT{company.next_id('payment_reference')}"
        receipt = ReceiptRec(
            id=receipt_id,
            reference=reference,
            description=str(data.get("description") or reference),
            date=paid_on,
            amount=amount,
            contact_id=invoice.contact_id,
            account_id=account_id,
            allocations=[allocation],
        )
        company.receipts[receipt.id] = receipt
        invoice.allocations.append(allocation)
        invoice.updated_at = now_stamp()
        return receipt


def create_journal_entry(company: Company, data: Any) -> JournalEntryRec:
    if not isinstance(data, Mapping):
        raise invalid({"base": ["journal_entry must be an object"]})
    sides = {}
    for key in ("debit_amounts", "credit_amounts"):
        rows = data.get(key)
        if not isinstance(rows, list) or not rows:
            raise invalid({key: ["can't be blank"]})
        sides[key] = [_journal_amount(company, row) for row in rows]
    debits, credits = sides["debit_amounts"], sides["credit_amounts"]
    if sum(r.amount for r in debits) != sum(r.amount for r in credits):
        raise invalid({"base": ["Total debit and credit amounts must be equal"]})
    entry_date = str(data.get("date") or today())
    if not _is_date(entry_date):
        raise invalid({"date": ["is not a valid date"]})
    entry = JournalEntryRec(
        id=company.next_id("journal_entry"),
        date=entry_date,
        description=str(data.get("description") or ""),
        debits=debits,
        credits=credits,
    )
    company.journal_entries[entry.id] = entry
    return entry


# ---- helpers --------------------------------------------------------------------------------


def _invoice(company: Company, invoice_id: int) -> InvoiceRec:
    invoice = company.invoices.get(invoice_id)
    if invoice is None:
        raise ApiError(404, "We found nothing")
    return invoice


def _check_contact(company: Company, contact_id: int) -> None:
    contact = company.customers.get(contact_id)
    if contact is None:
        raise ApiError(422, {"errors": [f"contact {contact_id} does not exist"]})
    if contact.status != "Active":
        raise ApiError(422, {"errors": [f"this contact {contact_id} is not active"]})


def _header_fields(
    company: Company,
    data: Mapping[str, Any],
    errors: dict[str, list[str]],
    *,
    invoice_id: int | None,
) -> dict[str, Any]:
    """The header fields present in `data`, validated; problems go into `errors`."""
    header: dict[str, Any] = {}
    if "reference" in data:
        reference = str(data.get("reference") or "").strip()
        problem = _reference_problem(company, reference, invoice_id)
        if problem:
            errors["reference"] = [problem]
        header["reference"] = reference
    for key in ("issue_date", "due_date"):
        if data.get(key):
            if _is_date(str(data[key])):
                header[key] = str(data[key])
            else:
                errors[key] = ["is not a valid date"]
    for key in ("description", "notes"):
        if key in data:
            header[key] = str(data.get(key) or "")
    # Input aliases for the printed terms (qoyod-api.md §5.1).
    for key in ("terms_and_conditions", "terms_conditions", "term_conditions"):
        if key in data:
            header["terms_conditions"] = str(data.get(key) or "")
    if data.get("payment_method") not in (None, ""):
        method = parse_id(data.get("payment_method"))
        if method not in PAYMENT_METHODS:
            errors["payment_method"] = ["is not included in the list"]
        header["payment_method"] = method
    return header


def _reference_problem(company: Company, reference: str, invoice_id: int | None) -> str:
    if not reference:
        return ""
    if len(reference) > 25:
        return "is too long (maximum is 25 characters)"
    if not REFERENCE.match(reference):
        return "may contain only letters, digits, - and _, and must end with a digit"
    for other in company.invoices.values():
        if other.reference == reference and other.id != invoice_id:
            return "has already been taken"
    return ""


def _line(
    company: Company, raw: Any, inventory_id: int, errors: dict[str, list[str]]
) -> LineRec | None:
    if not isinstance(raw, Mapping):
        errors.setdefault("line_items", []).append(_LINES_HINT)
        return None
    problems: list[tuple[str, str]] = []
    product = company.products.get(parse_id(raw.get("product_id")) or 0)
    if product is None:
        problems.append(("product", "must exist"))
    quantity = parse_amount(raw.get("quantity"))
    if quantity is None or quantity <= 0:
        problems.append(("quantity", "must be greater than 0"))
    price = parse_amount(raw.get("unit_price"))
    if price is None or price < 0:
        problems.append(("unit_price", "must be greater than or equal to 0"))
    line_inventory = parse_id(raw.get("inventory_id")) or inventory_id
    if line_inventory not in company.warehouses:
        problems.append(("inventory", "must exist"))
    # tax_percent and tax_percentage are both accepted (§15.8); omitted → the product's tax.
    raw_tax = raw.get("tax_percent", raw.get("tax_percentage"))
    rate = parse_amount(raw_tax) if raw_tax not in (None, "") else None
    if raw_tax not in (None, "") and (
        rate is None or not any(t.percentage == rate for t in company.taxes.values())
    ):
        problems.append(("tax_percent", "is not one of the company's tax rates"))
    # The four discount spellings of §15.9.
    raw_discount = next(
        (raw[k] for k in ("discount", "discount_percent", "discount_percentage") if k in raw), 0
    )
    discount = parse_amount(raw_discount if raw_discount not in (None, "") else 0)
    if discount is None or discount < 0:
        problems.append(("discount", "must be greater than or equal to 0"))
    by_amount = str(raw.get("discount_type", "percentage")).lower() in ("1", "amount")
    unit_id = parse_id(raw.get("unit_id", raw.get("unit_type")))
    if unit_id is not None and unit_id not in company.units:
        problems.append(("unit", "must exist"))
    for field, message in problems:
        errors.setdefault(f"line_items.{field}", []).append(message)
    if problems:
        return None
    assert product is not None and quantity is not None and price is not None
    assert discount is not None
    if rate is None:
        rate = company.taxes[product.tax_id].percentage
    unit = company.units[unit_id or product.unit_id]
    gross = quantity * price
    discount_amount = to_money(discount if by_amount else gross * discount / _HUNDRED)
    if discount_amount > to_money(gross):
        errors.setdefault("line_items.discount", []).append("is more than the line amount")
        return None
    discount_percent = discount if not by_amount else _percent_of(discount_amount, gross)
    inclusive = bool(raw.get("is_inclusive"))
    if inclusive:
        total = to_money(gross - discount_amount)
        unrounded_vat = total * rate / (_HUNDRED + rate)
        vat = to_money(unrounded_vat)
        net = total - vat
        unit_price = to_money(price * _HUNDRED / (_HUNDRED + rate))
    else:
        net = to_money(gross - discount_amount)
        unrounded_vat = net * rate / _HUNDRED
        vat = to_money(unrounded_vat)
        unit_price = price
    return LineRec(
        product_id=product.id,
        product_name=product.name_en or product.name_ar,
        description=str(raw.get("description") or product.name_en or product.name_ar),
        quantity=quantity,
        unit_price=unit_price,
        unit_type=unit.id,
        unit=unit.unit_name,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        tax_percent=rate,
        net=net,
        vat=vat,
        unrounded_vat=unrounded_vat,
        inventory_id=line_inventory,
        is_inclusive=inclusive,
        inclusive_unit_price=price if inclusive else None,
    )


def _percent_of(part: Decimal, whole: Decimal) -> Decimal:
    return to_money(part * _HUNDRED / whole) if whole else Decimal("0")


def _shortfalls(company: Company, lines: list[LineRec]) -> list[str]:
    needed: dict[tuple[int, int], Decimal] = {}
    for line in lines:
        if company.products[line.product_id].track_quantity:
            key = (line.product_id, line.inventory_id)
            needed[key] = needed.get(key, Decimal("0")) + line.quantity
    problems = []
    for (product_id, inventory_id), quantity in needed.items():
        have = company.stock_of(product_id, inventory_id)
        if have < quantity:
            product = company.products[product_id]
            warehouse = company.warehouses[inventory_id]
            problems.append(
                f"Not enough quantity of {product.sku} in {warehouse.name}: "
                f"{money(have)} available, {money(quantity)} needed"
            )
    return problems


def _check_stock(company: Company, lines: list[LineRec]) -> None:
    problems = _shortfalls(company, lines)
    if problems:
        raise invalid({"base": problems})


def _approve(company: Company, invoice: InvoiceRec) -> None:
    """Post a draft: consume stock, assign a reference if it has none, fill the QR string."""
    if _shortfalls(company, invoice.lines):
        if invoice.draft_if_out_of_stock:
            return
        _check_stock(company, invoice.lines)
    for line in invoice.lines:
        if company.products[line.product_id].track_quantity:
            key = (line.product_id, line.inventory_id)
            company.stock[key] = company.stock_of(*key) - line.quantity
    if not invoice.reference:
        taken = {other.reference for other in company.invoices.values()}
        reference = f"INV{company.next_id('invoice_reference')}"
        while reference in taken:
            reference = f"INV{company.next_id('invoice_reference')}"
        invoice.reference = reference
    invoice.approved = True
    invoice.updated_at = now_stamp()
    vat = sum((line.vat for line in invoice.lines), Decimal("0"))
    invoice.qrcode_string = _zatca_qr(
        company.name, company.vat_number, invoice.updated_at, money(invoice.total), money(vat)
    )


def _zatca_qr(*fields: str) -> str:
    """The simplified-invoice QR payload: TLV fields 1-5, base64 (ZATCA phase 1)."""
    payload = b""
    for tag, value in enumerate(fields, start=1):
        data = value.encode()
        payload += bytes([tag, len(data)]) + data
    return base64.b64encode(payload).decode()


def _journal_amount(company: Company, row: Any) -> JournalAmountRec:
    if not isinstance(row, Mapping):
        raise invalid({"base": ["each amount must be an object"]})
    account_id = parse_id(row.get("account_id"))
    if account_id is None or account_id not in company.accounts:
        raise ApiError(422, {"errors": f"Plutus::Account id {row.get('account_id')} is not valid"})
    amount = parse_amount(row.get("amount"))
    if amount is None or amount <= 0:
        raise invalid({"amount": ["must be greater than 0"]})
    contact_id = parse_id(row.get("contact_id"))
    if account_id in _CONTACT_ACCOUNTS and contact_id is None:
        raise invalid({"contact_id": ["is required on the receivables and payables accounts"]})
    return JournalAmountRec(
        account_id=account_id,
        amount=amount,
        comment=str(row.get("comment") or ""),
        contact_id=contact_id if account_id in _CONTACT_ACCOUNTS else None,
    )


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
