"""The sandbox's credit notes over loopback HTTP (qoyod-api.md §7.1): created against an approved
invoice of the same customer, never more than is left to credit, Draft until approved (Unused),
then Partially Used / Used as they are used against the invoice, which lists them among its
payments with source_type "CreditNote"; drafts may be deleted, approved notes not."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from qoyod_sync.sandbox import notes
from qoyod_sync.sandbox.records import ApiError
from qoyod_sync.sandbox.server import SandboxState
from tests.qoyod_fixtures import SANDBOX_KEY
from tests.qoyod_sync.refresh_helpers import qoyod_draft

HEADERS = {"API-KEY": SANDBOX_KEY}


def _api(sandbox, method: str, path: str, body=None) -> httpx.Response:
    return httpx.request(method, f"{sandbox.base_url}{path}", json=body, headers=HEADERS)


def _approved_invoice(sandbox, total: str = "115.00") -> dict:
    invoice_id = qoyod_draft(sandbox, total=Decimal(total), reference="INV-2026-000007")
    return sandbox.act("invoices", invoice_id, "approve")["invoice"]


def _note(invoice: dict, *, price: str = "100.00", **extra) -> dict:
    line = invoice["line_items"][0]
    return {
        "credit_note": {
            "contact_id": invoice["contact_id"], "parent_id": invoice["id"],
            "issue_date": invoice["issue_date"], "issuance_reason": "Part returned",
            "line_items": [{"product_id": line["product_id"], "quantity": "1",
                            "unit_price": price, "tax_percent": "15"}],
            **extra,
        }
    }  # fmt: skip


def test_a_credit_note_is_a_draft_then_unused_then_used_and_pays_the_invoice(qoyod_sandbox):
    invoice = _approved_invoice(qoyod_sandbox)

    created = _api(qoyod_sandbox, "POST", "/credit_notes", _note(invoice))

    assert created.status_code == 201
    note = created.json()["note"]
    assert (note["status"], note["parent_id"], note["total_amount"]) == (
        "Draft", invoice["id"], "115.0",
    )  # fmt: skip
    assert note["line_items"][0]["price"] == "100.0"
    assert note["line_items"][0]["total"] == "115.0"
    approved = qoyod_sandbox.act("credit_notes", note["id"], "approve")["note"]
    assert (approved["status"], approved["reference"]) == ("Unused", "CRN1")
    part = qoyod_sandbox.act("credit_notes", note["id"], "use", {"amount": "15.00"})["note"]
    assert (part["status"], part["remaining_amount"]) == ("Partially Used", "100.0")
    used = qoyod_sandbox.act("credit_notes", note["id"], "use")["note"]
    assert (used["status"], used["remaining_amount"]) == ("Used", "0.0")
    after = _api(qoyod_sandbox, "GET", f"/invoices/{invoice['id']}").json()["invoice"]
    assert after["status"] == "Paid"
    assert [(p["source_type"], p["source_id"], p["amount"]) for p in after["payments"]] == [
        ("CreditNote", note["id"], "15.0"), ("CreditNote", note["id"], "100.0"),
    ]  # fmt: skip
    listed = _api(qoyod_sandbox, "GET", "/credit_notes").json()["credit_notes"]
    assert [n["id"] for n in listed] == [note["id"]]
    assert _api(qoyod_sandbox, "GET", f"/credit_notes/{note['id']}").json()["note"]["status"] == (
        "Used"
    )


def test_a_draft_invoice_or_another_customers_invoice_cannot_be_credited(qoyod_sandbox):
    draft_id = qoyod_draft(qoyod_sandbox, total=Decimal("115.00"), reference="INV-2026-000008")
    draft = _api(qoyod_sandbox, "GET", f"/invoices/{draft_id}").json()["invoice"]

    refused = _api(qoyod_sandbox, "POST", "/credit_notes", _note(draft))

    assert (refused.status_code, refused.json()) == (
        422, {"errors": {"parent": ["must be an approved invoice of the same customer"]}},
    )  # fmt: skip
    assert qoyod_sandbox.company().credit_notes == {}


def test_notes_never_credit_more_than_the_invoice(qoyod_sandbox):
    invoice = _approved_invoice(qoyod_sandbox)
    assert _api(qoyod_sandbox, "POST", "/credit_notes", _note(invoice, price="60.00")).is_success

    refused = _api(qoyod_sandbox, "POST", "/credit_notes", _note(invoice, price="41.00"))

    assert (refused.status_code, refused.json()) == (
        422, {"errors": {"total": ["is more than what is left to credit on the invoice"]}},
    )  # fmt: skip
    assert len(qoyod_sandbox.company().credit_notes) == 1


def test_approval_needs_a_reason_under_zatca_phase_2(qoyod_sandbox):
    invoice = _approved_invoice(qoyod_sandbox)

    refused = _api(
        qoyod_sandbox, "POST", "/credit_notes",
        _note(invoice, issuance_reason="", status="Approved"),
    )  # fmt: skip

    assert (refused.status_code, refused.json()) == (
        422, {"errors": {"issuance_reason": ["can't be blank"]}},
    )  # fmt: skip


def test_drafts_may_be_deleted_approved_notes_not(qoyod_sandbox):
    invoice = _approved_invoice(qoyod_sandbox)
    draft = _api(qoyod_sandbox, "POST", "/credit_notes", _note(invoice, price="10.00")).json()
    kept = _api(
        qoyod_sandbox, "POST", "/credit_notes", _note(invoice, price="10.00", status="Approved")
    ).json()

    deleted = _api(qoyod_sandbox, "DELETE", f"/credit_notes/{draft['note']['id']}")
    refused = _api(qoyod_sandbox, "DELETE", f"/credit_notes/{kept['note']['id']}")
    missing = _api(qoyod_sandbox, "DELETE", f"/credit_notes/{draft['note']['id']}")
    edited = _api(
        qoyod_sandbox, "PUT", f"/credit_notes/{kept['note']['id']}",
        {"credit_note": {"notes": "x"}},
    )  # fmt: skip

    assert (deleted.status_code, deleted.json()) == (200, "Credit note destroyed successfully")
    assert (refused.status_code, refused.json()) == (422, "Credit note couldn't be destroyed")
    assert (missing.status_code, missing.json()) == (404, "Credit note not found")
    assert (edited.status_code, edited.json()) == (422, {"errors": "Not update other than draft"})
    assert list(qoyod_sandbox.company().credit_notes) == [kept["note"]["id"]]


def test_the_state_file_keeps_credit_notes(tmp_path, qoyod_sandbox):
    invoice = _approved_invoice(qoyod_sandbox)
    state = SandboxState(state_path=tmp_path / "state.json")
    company = state.company_for_key(SANDBOX_KEY)
    company.customers = qoyod_sandbox.company().customers
    company.products = qoyod_sandbox.company().products
    company.invoices = qoyod_sandbox.company().invoices
    note = notes.create_note(company, _note(invoice, status="Approved")["credit_note"])
    state.changed()

    again = SandboxState(state_path=tmp_path / "state.json").company_for_key(SANDBOX_KEY)
    assert again.credit_notes[note.id].to_json() == note.to_json()
    assert again.next_id("credit_note") == note.id + 1


@pytest.mark.parametrize("action", ["approve", "use", "delete"])
def test_control_actions_on_a_missing_note_answer_not_found(qoyod_sandbox, action):
    with pytest.raises(ApiError) as refused:
        qoyod_sandbox.act("credit_notes", 9999, action)

    assert refused.value.status == 404


def test_the_accountant_page_submits_drafts_and_approves_and_uses_notes(qoyod_sandbox):
    company = qoyod_sandbox.company()
    draft_id = qoyod_draft(qoyod_sandbox, total=Decimal("115.00"), reference="INV-2026-000009")
    root = qoyod_sandbox.server.root_url

    def click(action: str, record_id: int) -> httpx.Response:
        return httpx.post(
            f"{root}/_sandbox/ui/{action}", data={"company": company.number, "id": record_id}
        )

    assert click("submit", draft_id).status_code == 303
    assert company.invoices[draft_id].status == "Awaiting for approval"
    assert click("approve", draft_id).status_code == 303
    invoice = _api(qoyod_sandbox, "GET", f"/invoices/{draft_id}").json()["invoice"]
    note = _api(qoyod_sandbox, "POST", "/credit_notes", _note(invoice)).json()["note"]
    page = httpx.get(f"{root}/_sandbox/?company={company.number}").text
    assert f'<tr id="credit-note-{note["id"]}">' in page and "Delete draft" in page

    click("note_approve", note["id"])
    click("note_use", note["id"])

    assert company.credit_notes[note["id"]].status == "Used"
    assert company.invoices[draft_id].status == "Paid"
