"""The accountant's actions on the chart and the journal, and their part of the sandbox page.

POST /_sandbox/accounts/<id>/deactivate  (or /activate)     → {"account": {...}}
POST /_sandbox/journal_entries/<id>/approve                 → {"journal_entry": {...}}
POST /_sandbox/companies/<number>/approval  {"on": true}    → {"manual_entry_approval": true}
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any

from qoyod_sync.sandbox import chart, journal
from qoyod_sync.sandbox.records import ApiError, money

if TYPE_CHECKING:
    from qoyod_sync.sandbox.company import Company

KINDS = ("accounts", "journal_entries", "companies")
Button = Callable[..., str]
Table = Callable[[str, tuple[str, ...], list[str]], str]

# form action → (kind, action, form fields → JSON body), as control._FORM_ACTIONS
FORM_ACTIONS: dict[str, tuple[str, str, Callable[[dict[str, str]], dict[str, Any]]]] = {
    "account_deactivate": ("accounts", "deactivate", lambda form: {}),
    "account_activate": ("accounts", "activate", lambda form: {}),
    "entry_approve": ("journal_entries", "approve", lambda form: {}),
    "approval": ("companies", "approval", lambda form: {"on": form.get("on") == "1"}),
}


def act(company: Company, kind: str, record_id: int, action: str, body: dict[str, Any]) -> Any:
    """One accountant action on the chart, the journal or the company's settings."""
    if kind == "accounts" and action in ("deactivate", "activate"):
        status = chart.INACTIVE if action == "deactivate" else chart.ACTIVE
        return {"account": chart.account_set_status(company, record_id, status).to_json()}
    if (kind, action) == ("journal_entries", "approve"):
        return {"journal_entry": journal.approve(company, record_id).to_json()}
    if (kind, action) == ("companies", "approval"):
        journal.approval_set(company, on=bool(body.get("on")))
        return {"manual_entry_approval": company.manual_entry_approval}
    raise ApiError(404, {"error": "Not Found"})


def html(company: Company, button: Button, table: Table) -> list[str]:
    """The journal (newest first) and the chart, for the accountant's page."""
    return [_journal_html(company, button, table), _accounts_html(company, button, table)]


def _journal_html(company: Company, button: Button, table: Table) -> str:
    names = {a.id: f"{a.code} {a.name_en}" for a in company.accounts.values()}
    on = company.manual_entry_approval
    setting = (
        f"<p>Approval of manual journal entries: <b>{'on' if on else 'off'}</b> "
        + button(
            company, "approval", company.number, "Turn off" if on else "Turn on",
            f'<input type=hidden name=on value="{"0" if on else "1"}">',
        )
        + "</p>"
    )  # fmt: skip
    rows = []
    for entry in sorted(company.journal_entries.values(), key=lambda e: e.id, reverse=True):
        lines = "<br>".join(
            f"{side} {escape(names.get(row.account_id, str(row.account_id)))}: {money(row.amount)}"
            for side, rows_ in (("Dr", entry.debits), ("Cr", entry.credits))
            for row in rows_
        )
        action = ""
        if entry.status == journal.AWAITING_APPROVAL:
            action = button(company, "entry_approve", entry.id, "Approve")
        total = sum((row.amount for row in entry.debits), Decimal("0"))
        rows.append(
            f"<tr><td>{entry.id}</td><td>{escape(entry.date)}</td>"
            f"<td>{escape(entry.description)}</td><td>{lines}</td>"
            f"<td class=n>{money(total)}</td><td>{escape(entry.status or '—')}</td>"
            f"<td>{action}</td></tr>"
        )
    return setting + table(
        "Journal entries", ("Id", "Date", "Description", "Lines", "Total", "Status", ""), rows
    )


def _accounts_html(company: Company, button: Button, table: Table) -> str:
    rows = []
    for account in sorted(company.accounts.values(), key=lambda a: a.code):
        active = account.status == chart.ACTIVE
        action = "account_deactivate" if active else "account_activate"
        label = "Deactivate" if active else "Activate"
        rows.append(
            f"<tr><td>{account.id}</td><td>{escape(account.code)}</td>"
            f"<td>{escape(account.name_en)}</td><td>{escape(account.type)}</td>"
            f"<td>{escape(account.status)}</td>"
            f"<td>{button(company, action, account.id, label)}</td></tr>"
        )
    return table("Chart of accounts", ("Id", "Code", "Name", "Type", "Status", ""), rows)
