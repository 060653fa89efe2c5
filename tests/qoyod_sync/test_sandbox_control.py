"""The sandbox's control endpoints and accountant page: acting as the accountant or customer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import httpx
import pytest

from qoyod_sync.client import QoyodWriter
from qoyod_sync.errors import QoyodMaybeSaved
from qoyod_sync.types import DraftInvoice, DraftLine
from tests.qoyod_fixtures import SANDBOX_KEY, SandboxHandle


@pytest.fixture
def http(qoyod_sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=qoyod_sandbox.root_url, timeout=5) as client:
        yield client


@pytest.fixture
def invoice_id(qoyod_writer: QoyodWriter) -> int:
    customer = qoyod_writer.create_customer(name="Ali <script>alert(1)</script>")
    product = qoyod_writer.create_service_product(
        sku="SVC-1",
        name_ar="خدمة",
        name_en="Brake service",
        selling_price=Decimal("100"),
        tax_id=1,
        unit_id=2,
        category_id=1,
        sales_account_id=17,
    )
    draft = DraftInvoice(
        contact_id=customer.id,
        reference="INV-000777",
        issue_date=date(2025, 3, 2),
        due_date=date(2025, 3, 9),
        supply_date=date(2025, 3, 2),
        payment_method=10,
        inventory_id=1,
        lines=(DraftLine(product_id=product.id, quantity=Decimal("2"), unit_price=Decimal("100")),),
    )
    return qoyod_writer.create_draft_invoice(draft).id


def key() -> dict[str, str]:
    return {"API-KEY": SANDBOX_KEY}


def test_the_accountant_approves_and_the_customer_pays_over_json(
    http: httpx.Client, qoyod_writer: QoyodWriter, invoice_id: int
) -> None:
    approved = http.post(f"/_sandbox/invoices/{invoice_id}/approve", headers=key())
    partial = http.post(
        f"/_sandbox/invoices/{invoice_id}/payments",
        headers=key(),
        json={"amount": "30.00", "date": "2025-03-04", "reference": "PAY-1"},
    )
    rest = http.post(f"/_sandbox/invoices/{invoice_id}/payments", headers=key(), json={})

    assert approved.status_code == 200
    assert approved.json()["invoice"]["status"] == "Approved"
    assert partial.json()["invoice"]["status"] == "Partially Paid"
    assert partial.json()["receipt"]["reference"] == "PAY-1"
    assert (partial.json()["receipt"]["amount"], partial.json()["receipt"]["account_id"]) == (
        "30.0",
        8,
    )
    assert rest.json()["receipt"]["amount"] == "200.0"
    assert rest.json()["invoice"]["status"] == "Paid"
    assert qoyod_writer.reader.get_invoice(invoice_id).due_amount == Decimal("0")


def test_control_actions_answer_with_the_apis_errors(http: httpx.Client, invoice_id: int) -> None:
    paying_a_draft = http.post(f"/_sandbox/invoices/{invoice_id}/payments", headers=key(), json={})
    unknown = http.post("/_sandbox/invoices/1/approve", headers=key())
    no_company = http.post(f"/_sandbox/invoices/{invoice_id}/approve")
    deleted = http.post(f"/_sandbox/invoices/{invoice_id}/delete", json={"company": 1})
    again = http.post(f"/_sandbox/invoices/{invoice_id}/delete", json={"company": 1})

    assert (paying_a_draft.status_code, paying_a_draft.json()) == (
        422,
        {"errors": "Cannot pay Draft invoice"},
    )
    assert (unknown.status_code, unknown.json()) == (404, "We found nothing")
    assert no_company.status_code == 400
    assert (deleted.status_code, deleted.json()) == (200, {"deleted": invoice_id})
    assert again.status_code == 404


def test_stock_and_customer_status_are_set_over_json(
    http: httpx.Client, qoyod_writer: QoyodWriter
) -> None:
    part = qoyod_writer.create_stock_product(
        sku="PART-9",
        name_ar="قطعة",
        name_en="Part",
        selling_price=Decimal("10"),
        buying_price=Decimal("5"),
        tax_id=1,
        unit_id=1,
        category_id=2,
        sales_account_id=17,
        cogs_account_id=12,
    )
    customer = qoyod_writer.create_customer(name="Ali")

    stock = http.post(
        f"/_sandbox/products/{part.id}/stock",
        headers=key(),
        json={"quantity": "12", "inventory_id": 2},
    )
    bad = http.post(f"/_sandbox/products/{part.id}/stock", headers=key(), json={"quantity": "x"})
    off = http.post(f"/_sandbox/customers/{customer.id}/deactivate", headers=key())
    on = http.post(f"/_sandbox/customers/{customer.id}/activate", headers=key())

    assert stock.json()["product"]["inventories"][1] == {
        "id": 2,
        "name_en": "Jeddah Branch",
        "name_ar": "فرع جدة",
        "stock": "12.0",
    }
    assert qoyod_writer.reader.get_product(part.id).stock_at(2) == Decimal("12")
    assert (bad.status_code, bad.json()) == (422, {"errors": {"quantity": ["must be a number"]}})
    assert off.json()["contact"]["status"] == "Inactive"
    assert on.json()["contact"]["status"] == "Active"


def test_companies_reset_and_revoke(
    http: httpx.Client, qoyod_sandbox: SandboxHandle, invoice_id: int
) -> None:
    companies = http.get("/_sandbox/companies").json()
    revoked = http.post("/_sandbox/revoke", headers=key())
    refused = http.get("/2.0/taxes", headers=key())
    reset = http.post("/_sandbox/reset")

    assert companies == {
        "companies": [
            {
                "company": 1,
                "name": "Sandbox Company 1",
                "key_hint": "…0001",
                "customers": 1,
                "products": 1,
                "invoices": 1,
            }
        ]
    }
    assert revoked.json() == {"revoked": "…0001"}
    assert refused.status_code == 401
    assert reset.json() == {"reset": True}
    assert http.get("/2.0/taxes", headers=key()).status_code == 200
    assert qoyod_sandbox.company().invoices == {}


def test_the_page_lists_the_companys_documents_escaped(http: httpx.Client, invoice_id: int) -> None:
    page = http.get("/_sandbox/")

    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    html = page.text
    assert "Qoyod sandbox" in html and "not real Qoyod" in html
    assert "INV-000777" in html
    assert "Ali &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert 'action="/_sandbox/ui/approve"' in html
    assert 'action="/_sandbox/ui/delete"' in html
    assert SANDBOX_KEY not in html
    assert "…0001" in html


def test_page_forms_approve_and_pay(
    http: httpx.Client, qoyod_writer: QoyodWriter, invoice_id: int
) -> None:
    approved = http.post("/_sandbox/ui/approve", data={"company": "1", "id": str(invoice_id)})
    page = http.get(approved.headers["Location"]).text
    paid = http.post(
        "/_sandbox/ui/pay",
        data={"company": "1", "id": str(invoice_id), "amount": "50", "account_id": "7"},
    )
    refused = http.post(
        "/_sandbox/ui/pay",
        data={"company": "1", "id": str(invoice_id), "amount": "999", "account_id": "7"},
    )

    assert approved.status_code == 303
    assert "Done: approve invoice" in page
    assert 'action="/_sandbox/ui/pay"' in page
    assert paid.status_code == 303
    invoice = qoyod_writer.reader.get_invoice(invoice_id)
    assert (invoice.status, invoice.paid_amount) == ("Partially Paid", Decimal("50.0"))
    assert "Refused+%28422%29" in refused.headers["Location"]
    assert qoyod_writer.reader.list_invoice_payments()[0].account_id == 7


def test_page_without_companies_says_so(http: httpx.Client) -> None:
    assert "No company yet" in http.get("/_sandbox/").text


# ---- fault switches on the page -------------------------------------------------------------


def switch_state(page: str, name: str) -> str:
    """The State cell of the page's fault switch called `name`."""
    row = page.split(f"<tr><td>{name}</td>", 1)[1].split("</tr>", 1)[0]
    return row.split("<td class=", 1)[1].split(">", 1)[1].split("</td>", 1)[0]


def arm(http: httpx.Client, switch: str) -> str:
    """Press a switch's button on the page; the page it redirects to."""
    pressed = http.post("/_sandbox/ui/fault", data={"company": "1", "switch": switch})
    assert pressed.status_code == 303
    return http.get(pressed.headers["Location"]).text


def test_the_page_says_what_each_fault_switch_does_and_none_is_armed(
    http: httpx.Client, qoyod_sandbox: SandboxHandle
) -> None:
    qoyod_sandbox.server.late_answer_seconds = 25
    page = http.get("/_sandbox/").text

    assert [
        switch_state(page, name)
        for name in (
            "Next POST fails with 503",
            "Next POST times out",
            "Next POST commits then drops the connection",
        )
    ] == ["Off", "Off", "Off"]
    assert "answers the next create only after 25 s, when the app has given up" in page
    assert page.count('action="/_sandbox/ui/fault"') == 4


def test_commit_then_drop_from_the_page_saves_the_record_drops_the_answer_and_acts_once(
    http: httpx.Client, qoyod_sandbox: SandboxHandle, qoyod_writer: QoyodWriter
) -> None:
    armed_page = arm(http, "commit_drop")

    with pytest.raises(QoyodMaybeSaved):
        qoyod_writer.create_customer(name="Saved, answer lost")
    after_page = http.get("/_sandbox/").text
    qoyod_writer.create_customer(name="Answered")

    name = "Next POST commits then drops the connection"
    assert "Armed: Next POST commits then drops the connection." in armed_page
    assert switch_state(armed_page, name) == "Armed: waits for the next POST"
    assert switch_state(after_page, name) == "Off"
    assert [c.name for c in qoyod_sandbox.company().customers.values()] == [
        "Saved, answer lost",
        "Answered",
    ]
    posts = qoyod_sandbox.requests.find(method="POST", path="/2.0/customers")
    assert [r.status for r in posts] == [None, 201]
    assert qoyod_sandbox.faults.snapshot()["rules"] == []


def test_the_503_and_time_out_switches_arm_once_and_clear_disarms_them(
    http: httpx.Client, qoyod_sandbox: SandboxHandle
) -> None:
    qoyod_sandbox.server.late_answer_seconds = 25
    arm(http, "fail_503")
    twice = arm(http, "fail_503")
    armed = arm(http, "time_out")
    snapshot = qoyod_sandbox.faults.snapshot()
    cleared = arm(http, "clear")

    assert "Already armed: Next POST fails with 503." in twice
    assert [
        switch_state(armed, n) for n in ("Next POST fails with 503", "Next POST times out")
    ] == [
        "Armed: waits for the next POST",
        "Armed: waits for the next POST",
    ]
    assert [(r["status"], r["method"], r["remaining"]) for r in snapshot["rules"]] == [
        (503, "POST", 1)
    ]
    assert [(h["method"], h["remaining"], h["release_after"]) for h in snapshot["holds"]] == [
        ("POST", 1, 25)
    ]
    assert "Faults cleared" in cleared
    assert switch_state(cleared, "Next POST times out") == "Off"
    assert qoyod_sandbox.faults.snapshot()["rules"] == []
    assert qoyod_sandbox.faults.snapshot()["holds"] == []
