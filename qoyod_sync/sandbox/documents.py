"""Invoices and invoice payments: the sandbox's accounting rules.

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
- Tracked products cannot be invoiced beyond their stock (qoyod-api.md §5.1): a new invoice,
  draft or not, with a shortfall is refused unless it was sent with draft_if_out_of_stock,
  which saves it as a Draft instead. Approval consumes tracked stock; a shortfall refuses it.
- A ZATCA Phase-2 company (Company.zatca_phase2, on by default) refuses to approve an invoice
  without payment_method and supply_date (qoyod-openapi-v2.1.yaml InvoiceInput), whether it is
  created Approved, approved by PUT or by the accountant; the 422 names each missing field.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from core.money import to_money
from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.records import (
    AllocationRec,
    ApiError,
    InvoiceRec,
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
    if status == "Approved":
        errors.update(
            _approval_errors(company, header.get("payment_method"), header.get("supply_date"))
        )
    if errors:
        raise invalid(errors)
    out_of_stock = bool(data.get("draft_if_out_of_stock"))
    if not out_of_stock:
        _check_stock(company, [line for line in lines if line is not None])
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
        supply_date=header.get("supply_date", ""),
        draft_if_out_of_stock=out_of_stock,
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
    if status == "Approved":
        errors.update(
            _approval_errors(
                company,
                header.get("payment_method", invoice.payment_method),
                header.get("supply_date", invoice.supply_date),
            )
        )
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
        approval_errors = _approval_errors(company, invoice.payment_method, invoice.supply_date)
        if approval_errors:
            raise invalid(approval_errors)
        _check_stock(company, invoice.lines)
        _approve(company, invoice)
        return invoice


def submit_invoice(company: Company, invoice_id: int) -> InvoiceRec:
    """Submit a draft to the approval workflow, as a clerk does in an approval-workflow tenant."""
    with company.lock:
        invoice = _invoice(company, invoice_id)
        if invoice.approved or invoice.awaiting_approval:
            raise ApiError(422, {"errors": "Not update other than draft"})
        invoice.awaiting_approval = True
        invoice.updated_at = now_stamp()
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
    for key in ("issue_date", "due_date", "supply_date"):
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


def _approval_errors(
    company: Company, payment_method: int | None, supply_date: str | None
) -> dict[str, list[str]]:
    """What a ZATCA Phase-2 company needs on an invoice before it may be approved."""
    if not company.zatca_phase2:
        return {}
    errors = {}
    if payment_method is None:
        errors["payment_method"] = ["can't be blank"]
    if not supply_date:
        errors["supply_date"] = ["can't be blank"]
    return errors


def _reference_problem(company: Company, reference: str, invoice_id: int | None) -> str:
    others = (o.reference for o in company.invoices.values() if o.id != invoice_id)
    return reference_problem(reference, others)


def reference_problem(reference: str, taken: Iterable[str]) -> str:
    """What is wrong with a document's reference: the format rules, then unique among `taken`."""
    if not reference:
        return ""
    if len(reference) > 25:
        return "is too long (maximum is 25 characters)"
    if not REFERENCE.match(reference):
        return "may contain only letters, digits, - and _, and must end with a digit"
    if reference in set(taken):
        return "has already been taken"
    return ""


def next_reference(company: Company, prefix: str, counter: str, taken: Iterable[str]) -> str:
    """The reference Qoyod assigns on approval when there is none (INV1, CRN1, …)."""
    used = set(taken)
    reference = f"{prefix}{company.next_id(counter)}"
    while reference in used:
        reference = f"{prefix}{company.next_id(counter)}"
    return reference


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
    elif rate is not None and rate <= 0:
        # A given percentage must be positive (qoyod-openapi-v2.1.yaml, tax_percentage): a 0%
        # line goes through its product's tax and special tax reason.
        problems.append(("tax_percent", "must be greater than 0"))
    elif rate is None and product is not None:
        reason = company.reason_problem(
            company.taxes[product.tax_id], product.special_tax_reason_id
        )
        if reason:
            problems.append(("special_tax_reason_id", reason))
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
        taken = (other.reference for other in company.invoices.values())
        invoice.reference = next_reference(company, "INV", "invoice_reference", taken)
    invoice.approved = True
    invoice.awaiting_approval = False
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


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def duplicate_invoice(company: Company, invoice_id: int) -> InvoiceRec:
    """A second invoice with the same reference and lines: what reconciliation must catch.

    Only the sandbox page's "break" buttons call it; the API keeps references unique.
    """
    original = _invoice(company, invoice_id)
    copy = dataclasses.replace(
        original,
        id=company.next_id("invoice"),
        lines=list(original.lines),
        allocations=[],
        created_at=now_stamp(),
        updated_at=now_stamp(),
    )
    company.invoices[copy.id] = copy
    return copy


def inflate_invoice(company: Company, invoice_id: int) -> InvoiceRec:
    """The invoice with its first line repeated, so its total no longer matches ours."""
    invoice = _invoice(company, invoice_id)
    if not invoice.lines:
        raise ApiError(422, {"errors": {"line_items": ["the invoice has no lines"]}})
    invoice.lines.append(invoice.lines[0])
    invoice.updated_at = now_stamp()
    return invoice


def zero_rate_invoice(company: Company, invoice_id: int) -> InvoiceRec:
    """The invoice with its first line zero-rated at the same line total, as an accountant who
    changes the tax of a VAT-inclusive line leaves it: the total agrees with ours, the VAT not."""
    invoice = _invoice(company, invoice_id)
    if not invoice.lines:
        raise ApiError(422, {"errors": {"line_items": ["the invoice has no lines"]}})
    line = invoice.lines[0]
    gross = line.line_total + line.discount_amount
    invoice.lines[0] = dataclasses.replace(
        line,
        tax_percent=Decimal("0"),
        net=line.line_total,
        vat=Decimal("0"),
        unrounded_vat=Decimal("0"),
        is_inclusive=True,
        unit_price=to_money(gross / line.quantity),
        inclusive_unit_price=to_money(gross / line.quantity),
    )
    invoice.updated_at = now_stamp()
    return invoice
