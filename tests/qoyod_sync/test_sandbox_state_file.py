"""With a state file the sandbox keeps its books across restarts (the demo's `make run`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from qoyod_sync.client import QoyodWriter, close_pooled_clients
from qoyod_sync.sandbox import SandboxServer
from qoyod_sync.sandbox.persist import StateFileError
from qoyod_sync.types import (
    AdjustmentLine,
    DraftInvoice,
    DraftLine,
    JournalLine,
    NewInventoryAdjustment,
    NewJournalEntry,
)
from tests.qoyod_fixtures import TEST_OPTIONS

KEY = "state-file-key-000042"


@contextmanager
def running(path: Path, **options: Any) -> Iterator[SandboxServer]:
    sandbox = SandboxServer(state_path=path, **options).start()
    try:
        yield sandbox
    finally:
        close_pooled_clients(sandbox.base_url)
        sandbox.stop()


def writer(sandbox: SandboxServer) -> QoyodWriter:
    return QoyodWriter(base_url=sandbox.base_url, api_key=KEY, options=TEST_OPTIONS)


def draft(contact_id: int, reference: str, product_id: int) -> DraftInvoice:
    return DraftInvoice(
        contact_id=contact_id,
        reference=reference,
        issue_date=date(2025, 3, 2),
        due_date=date(2025, 3, 9),
        inventory_id=1,
        description="Toyota Camry - ABC 1234",
        payment_method=1,
        supply_date=date(2025, 3, 2),
        lines=(
            DraftLine(
                product_id=product_id,
                quantity=Decimal("2"),
                unit_price=Decimal("35"),
                tax_percent=Decimal("15"),
            ),
        ),
    )


def stock_product(client: QoyodWriter, sku: str) -> int:
    return client.create_stock_product(
        sku=sku, name_ar="مقبض باب", name_en="Door handle", selling_price=Decimal("35"),
        buying_price=Decimal("20"), tax_id=1, unit_id=1, category_id=2, sales_account_id=17,
        cogs_account_id=12,
    ).id  # fmt: skip


def test_a_restarted_sandbox_keeps_customers_and_drafts_and_continues_the_ids(
    tmp_path: Path,
) -> None:
    path = tmp_path / "var" / "qoyod-sandbox.json"
    with running(path, keys=[KEY]) as first:
        customer = writer(first).create_customer(name="Ali", phone_number="0501234567")
        part_id = stock_product(writer(first), "PART-HANDLE")
        invoice = writer(first).create_draft_invoice(draft(customer.id, "INV-000100", part_id))
        first.faults.fail_next(status=503)

    # Started without --key: the company's key is known from the file.
    with running(path) as second:
        client = writer(second)
        kept_customer = client.reader.get_customer(customer.id)
        kept_invoice = client.reader.get_invoice(invoice.id)
        next_customer = client.create_customer(name="Sara")
        next_invoice = client.create_draft_invoice(draft(customer.id, "INV-000101", part_id))
        recorded = second.requests.count()

    assert (kept_customer.name, kept_customer.phone_number) == ("Ali", "0501234567")
    assert (kept_invoice.reference, kept_invoice.status, kept_invoice.total) == (
        "INV-000100",
        "Draft",
        Decimal("80.5"),
    )
    assert (next_customer.id, next_invoice.id) == (customer.id + 1, invoice.id + 1)
    # The armed fault and the request log belonged to the first run.
    assert recorded == 4
    assert sorted(p.name for p in path.parent.iterdir()) == ["qoyod-sandbox.json"]


def test_every_part_of_a_company_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "qoyod-sandbox.json"
    with running(path, keys=[KEY]) as first:
        client = writer(first)
        customer = client.create_customer(name="Ali", tax_number="310000000000003")
        part_id = stock_product(client, "PART-HANDLE")
        client.create_inventory_adjustment(
            NewInventoryAdjustment(
                inventory_id=1, gain_account_id=17, loss_account_id=12, date=date(2025, 3, 1),
                description="Stock take", lines=(AdjustmentLine(
                    product_id=part_id, actual_quantity=Decimal("7"),
                    current_quantity=Decimal("0"), rate=Decimal("20"),
                ),),
            )
        )  # fmt: skip
        invoice = client.create_draft_invoice(draft(customer.id, "INV-000100", part_id))
        client.create_journal_entry(
            NewJournalEntry(
                date=date(2025, 3, 31), description="Expense 42: tyres",
                debits=(JournalLine(account_id=22, amount=Decimal("100.00"), comment="tyres"),),
                credits=(JournalLine(account_id=8, amount=Decimal("100.00")),),
            )
        )  # fmt: skip
        control = httpx.Client(base_url=first.root_url + "/_sandbox", headers={"API-KEY": KEY})
        with control:
            assert control.post(f"/invoices/{invoice.id}/approve").status_code == 200
            paid = control.post(f"/invoices/{invoice.id}/payments", json={"amount": "30"})
            assert paid.status_code == 200
            assert control.post("/accounts/29/deactivate").status_code == 200
            assert control.post("/companies/1/approval", json={"on": True}).status_code == 200
        before = books(first.company(KEY))

    with running(path) as second:
        after = books(second.company(KEY))

    assert after == before
    assert before["stock"] == {(part_id, 1): Decimal("5")}
    assert [i.status for i in before["invoices"].values()] == ["Partially Paid"]


def books(company: Any) -> dict[str, Any]:
    return {name: value for name, value in vars(company).items() if name != "lock"}


def test_without_a_state_file_nothing_is_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    sandbox = SandboxServer(keys=[KEY]).start()
    try:
        writer(sandbox).create_customer(name="Ali")
    finally:
        close_pooled_clients(sandbox.base_url)
        sandbox.stop()

    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_state_file_stops_the_sandbox_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "qoyod-sandbox.json"
    path.write_text('{"version": 1, "companies": [{"key_digest": "x"}]}')

    with pytest.raises(StateFileError) as caught:
        SandboxServer(state_path=path)

    assert str(caught.value) == (
        f"cannot read the sandbox state in {path} ('company'); move it away to start afresh"
    )
    assert path.read_text() == '{"version": 1, "companies": [{"key_digest": "x"}]}'
