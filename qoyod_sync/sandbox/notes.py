"""Credit notes (sales returns): POST/GET/PUT/DELETE /credit_notes, and the accountant's moves.

Choices where the contract is silent (qoyod-api.md §7.1, §15), never kinder than Qoyod:
- A note credits one approved invoice of the same customer (`parent_id`); a draft cannot be
  credited (it can be deleted instead), and all notes of an invoice together cannot credit more
  than its total. `external_parent_reference` (an invoice outside Qoyod) is refused with
  parent_id, as the contract says "not both"; alone it is accepted without checks.
- `status: "Approved"` stores the note as Unused; anything else is a Draft. A ZATCA Phase-2
  company refuses to approve a note without `issuance_reason`.
- A reference is unique among the company's credit notes; approval assigns CRN<n> when empty.
- Approval returns tracked stock to the note's warehouse (it is a sales return).
- Using a note allocates it to its invoice: the invoice's payments list it with
  source_type "CreditNote"; the note turns Partially Used, then Used.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.documents import (
    _check_contact,
    _header_fields,
    _line,
    next_reference,
    reference_problem,
)
from qoyod_sync.sandbox.records import (
    AllocationRec,
    ApiError,
    NoteRec,
    invalid,
    now_stamp,
    parse_amount,
    parse_id,
    today,
)

_LINES_HINT = (
    'invalid line_items json body - expecting {"credit_note" : { ... line_items: [ {...}, ... ] }}'
)


def create_note(company: Company, data: Any) -> NoteRec:
    if not isinstance(data, Mapping):
        raise ApiError(422, {"errors": ['invalid json body - expecting {"credit_note" : { ... }}']})
    contact_id = parse_id(data.get("contact_id"))
    if contact_id is None:
        raise ApiError(422, {"errors": ["contact id is missing"]})
    _check_contact(company, contact_id)
    raw_lines = data.get("line_items")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ApiError(422, {"errors": [_LINES_HINT]})
    errors: dict[str, list[str]] = {}
    header = _header_fields(company, {k: v for k, v in data.items() if k != "reference"}, errors,
                            invoice_id=None)  # fmt: skip
    reference = str(data.get("reference") or data.get("note_no") or "").strip()
    if problem := reference_problem(
        reference, (n.reference for n in company.credit_notes.values())
    ):
        errors["reference"] = [problem]
    reason = str(data.get("issuance_reason") or "")
    if len(reason) > 255:
        errors["issuance_reason"] = ["is too long (maximum is 255 characters)"]
    parent_id = parse_id(data.get("parent_id"))
    if parent_id is not None and data.get("external_parent_reference"):
        errors["parent"] = ["give parent_id or external_parent_reference, not both"]
    parent = company.invoices.get(parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        errors["parent"] = ["must exist"]
    elif parent is not None and (parent.contact_id != contact_id or not parent.approved):
        errors["parent"] = ["must be an approved invoice of the same customer"]
    inventory_id = parse_id(data.get("inventory_id")) or (
        parent.inventory_id if parent else company.default_warehouse.id
    )
    lines = [_line(company, raw, inventory_id, errors) for raw in raw_lines]
    approve = data.get("status") == "Approved"
    if approve and company.zatca_phase2 and not reason:
        errors["issuance_reason"] = ["can't be blank"]
    note = NoteRec(
        id=company.next_id("credit_note"), contact_id=contact_id, parent_id=parent_id or 0,
        reference=reference, issuance_reason=reason,
        issue_date=header.get("issue_date", today()),
        due_date=header.get("due_date", header.get("issue_date", today())),
        supply_date=header.get("supply_date", ""), inventory_id=inventory_id,
        payment_method=header.get("payment_method"), notes=header.get("notes", ""),
        lines=[line for line in lines if line is not None],
    )  # fmt: skip
    if parent is not None and note.total > parent.total - _credited(company, parent.id):
        errors["total"] = ["is more than what is left to credit on the invoice"]
    if errors:
        raise invalid(errors)
    if approve:
        _approve(company, note)
    company.credit_notes[note.id] = note
    return note


def update_note(company: Company, note_id: int, data: Any) -> NoteRec:
    """PUT: header fields while a Draft; `status: "Approved"` approves it."""
    note = _note(company, note_id)
    if note.approved:
        raise ApiError(422, {"errors": "Not update other than draft"})
    if not isinstance(data, Mapping):
        raise ApiError(422, {"errors": ['invalid json body - expecting {"credit_note" : { ... }}']})
    if "issuance_reason" in data:
        note.issuance_reason = str(data.get("issuance_reason") or "")[:255]
    if "notes" in data:
        note.notes = str(data.get("notes") or "")
    if data.get("status") == "Approved":
        approve_note(company, note_id)
    note.updated_at = now_stamp()
    return note


def approve_note(company: Company, note_id: int) -> NoteRec:
    note = _note(company, note_id)
    if note.approved:
        raise ApiError(422, {"errors": "Not update other than draft"})
    if company.zatca_phase2 and not note.issuance_reason:
        raise invalid({"issuance_reason": ["can't be blank"]})
    _approve(company, note)
    return note


def delete_note(company: Company, note_id: int) -> str:
    note = company.credit_notes.get(note_id)
    if note is None:
        raise ApiError(404, "Credit note not found")
    if note.approved:
        raise ApiError(422, "Credit note couldn't be destroyed")
    del company.credit_notes[note_id]
    return "Credit note destroyed successfully"


def use_note(company: Company, note_id: int, amount: Any = None) -> NoteRec:
    """Allocate the note to its invoice (all that is left of it unless `amount`)."""
    note = _note(company, note_id)
    invoice = company.invoices.get(note.parent_id)
    if not note.approved or invoice is None:
        raise ApiError(422, {"errors": "Only an approved credit note of an invoice can be used"})
    wanted = note.remaining if amount in (None, "") else parse_amount(amount)
    if wanted is None or wanted <= 0 or wanted > min(note.remaining, invoice.due):
        raise invalid({"amount": ["must be more than 0 and at most what is left and due"]})
    invoice.allocations.append(
        AllocationRec(
            id=company.next_id("allocation"),
            amount=wanted,
            date=today(),
            source_id=note.id,
            allocatee_id=invoice.id,
            source_type="CreditNote",
        )  # fmt: skip
    )
    note.used += wanted
    note.updated_at = invoice.updated_at = now_stamp()
    return note


def _approve(company: Company, note: NoteRec) -> None:
    for line in note.lines:
        if company.products[line.product_id].track_quantity:
            key = (line.product_id, line.inventory_id)
            company.stock[key] = company.stock_of(*key) + line.quantity
    if not note.reference:
        taken = (other.reference for other in company.credit_notes.values())
        note.reference = next_reference(company, "CRN", "credit_note_reference", taken)
    note.approved = True
    note.updated_at = now_stamp()


def _credited(company: Company, invoice_id: int) -> Decimal:
    return sum(
        (n.total for n in company.credit_notes.values() if n.parent_id == invoice_id),
        Decimal("0"),
    )


def _note(company: Company, note_id: int) -> NoteRec:
    note = company.credit_notes.get(note_id)
    if note is None:
        raise ApiError(404, "We found nothing")
    return note
