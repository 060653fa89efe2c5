"""Manual journal entries: balance, accounts, filters and the optional approval of entries.

POST /journal_entries refuses (qoyod-api.md §8.2, the YAML's 422 oneOf):
- a side without amounts, an amount not above zero → field-keyed 422;
- an account id the chart does not have → {"errors": "Plutus::Account id 999 is not valid"};
- an inactive account → the same string shape: Qoyod's interface offers no inactive account
  for an entry, and nothing says the API is kinder, so the sandbox refuses it too;
- debits ≠ credits → {"errors": {"base": ["Total debit and credit amounts must be equal"]}}.
GET /journal_entries has no paging and returns the whole ledger unless filtered (api.py).

Approval of manual entries is a per-company setting of Qoyod's interface, off by default. When
on, a new entry is "Awaiting approval" until the accountant approves it (the sandbox page);
only such companies print a status at all, since the published response has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from qoyod_sync.sandbox.chart import ACTIVE
from qoyod_sync.sandbox.records import (
    ApiError,
    JournalAmountRec,
    JournalEntryRec,
    invalid,
    parse_amount,
    parse_id,
    today,
)

if TYPE_CHECKING:
    from qoyod_sync.sandbox.company import Company

AWAITING_APPROVAL = "Awaiting approval"
APPROVED = "Approved"
# Receivables and payables carry a contact (qoyod-api.md §8.2).
CONTACT_ACCOUNTS = (9, 14)


def create_journal_entry(company: Company, data: Any) -> JournalEntryRec:
    if not isinstance(data, Mapping):
        raise invalid({"base": ["journal_entry must be an object"]})
    inventory_id = parse_id(data.get("inventory_id"))
    if data.get("inventory_id") not in (None, "") and inventory_id not in company.warehouses:
        # The body is assumed after the Plutus::Account one: refused, as a lookup failure.
        raise ApiError(422, {"errors": f"Inventory id {data.get('inventory_id')} is not valid"})
    sides = {}
    for key in ("debit_amounts", "credit_amounts"):
        rows = data.get(key)
        if not isinstance(rows, list) or not rows:
            raise invalid({key: ["can't be blank"]})
        sides[key] = [_amount(company, row) for row in rows]
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
        inventory_id=inventory_id,
        status=AWAITING_APPROVAL if company.manual_entry_approval else None,
    )
    company.journal_entries[entry.id] = entry
    return entry


def approval_set(company: Company, *, on: bool) -> None:
    """Turn Qoyod's approval of manual entries on or off for this company."""
    with company.lock:
        company.manual_entry_approval = on


def approve(company: Company, entry_id: int) -> JournalEntryRec:
    """Approve an entry awaiting approval, as the accountant does in Qoyod."""
    with company.lock:
        entry = company.journal_entries.get(entry_id)
        if entry is None:
            raise ApiError(404, {"message": "Invalid journal entry ID."})
        if entry.status != AWAITING_APPROVAL:
            raise invalid({"status": ["is not awaiting approval"]})
        entry.status = APPROVED
        return entry


def _amount(company: Company, row: Any) -> JournalAmountRec:
    if not isinstance(row, Mapping):
        raise invalid({"base": ["each amount must be an object"]})
    account_id = parse_id(row.get("account_id"))
    account = None if account_id is None else company.accounts.get(account_id)
    if account is None or account.status != ACTIVE:
        raise ApiError(422, {"errors": f"Plutus::Account id {row.get('account_id')} is not valid"})
    amount = parse_amount(row.get("amount"))
    if amount is None or amount <= 0:
        raise invalid({"amount": ["must be greater than 0"]})
    contact_id = parse_id(row.get("contact_id"))
    if account.id in CONTACT_ACCOUNTS and contact_id is None:
        raise invalid({"contact_id": ["is required on the receivables and payables accounts"]})
    return JournalAmountRec(
        account_id=account.id,
        amount=amount,
        comment=str(row.get("comment") or ""),
        contact_id=contact_id if account.id in CONTACT_ACCOUNTS else None,
    )


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
