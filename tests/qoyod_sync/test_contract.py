"""Every client method against the sandbox over loopback HTTP."""

from __future__ import annotations

import socket
from datetime import date
from decimal import Decimal

import pytest

from qoyod_sync.client import QoyodReader, QoyodWriter, close_pooled_clients
from qoyod_sync.errors import (
    QoyodMaybeSaved,
    QoyodNotFound,
    QoyodNotSent,
    QoyodRateLimited,
    QoyodRejected,
    QoyodUnauthorised,
    QoyodUnavailable,
)
from qoyod_sync.types import (
    Address,
    DraftInvoice,
    DraftLine,
    JournalLine,
    NewJournalEntry,
)
from tests.qoyod_fixtures import TEST_OPTIONS, SandboxHandle


@pytest.fixture
def sandbox(qoyod_sandbox: SandboxHandle) -> SandboxHandle:
    # Refuse filters the sandbox does not know, so the client cannot lean on an ignored one.
    qoyod_sandbox.server.strict_filters = True
    return qoyod_sandbox


@pytest.fixture
def writer(sandbox: SandboxHandle) -> QoyodWriter:
    return sandbox.writer()


@pytest.fixture
def reader(sandbox: SandboxHandle) -> QoyodReader:
    return sandbox.reader()


def make_products(writer: QoyodWriter) -> tuple[int, int]:
    service = writer.create_service_product(
        sku="SVC-OIL",
        name_ar="تغيير زيت",
        name_en="Oil change",
        selling_price=Decimal("150"),
        tax_id=1,
        unit_id=2,
        category_id=1,
        sales_account_id=17,
    )
    part = writer.create_stock_product(
        sku="PART-HANDLE",
        name_ar="مقبض باب",
        name_en="Door handle",
        selling_price=Decimal("35"),
        buying_price=Decimal("20"),
        tax_id=1,
        unit_id=1,
        category_id=2,
        sales_account_id=17,
        cogs_account_id=12,
    )
    return service.id, part.id


def draft(contact_id: int, reference: str, *lines: DraftLine) -> DraftInvoice:
    return DraftInvoice(
        contact_id=contact_id,
        reference=reference,
        issue_date=date(2025, 3, 2),
        due_date=date(2025, 3, 9),
        supply_date=date(2025, 3, 1),
        payment_method=10,
        inventory_id=1,
        description="Toyota Camry - ABC 1234",
        lines=lines,
    )


def line(product_id: int, quantity: str, price: str) -> DraftLine:
    return DraftLine(
        product_id=product_id,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        tax_percent=Decimal("15"),
    )


# ---- configuration --------------------------------------------------------------------------


def test_configuration_lists_read_the_seeded_company(reader: QoyodReader) -> None:
    warehouses = reader.list_warehouses()
    taxes = reader.list_taxes()
    accounts = reader.list_accounts()
    units = reader.list_units()
    categories = reader.list_categories()

    assert [(w.id, w.name, w.is_default) for w in warehouses] == [
        (1, "Main Workshop", True),
        (2, "Jeddah Branch", False),
    ]
    assert [(t.id, t.percentage, t.code) for t in taxes] == [
        (1, Decimal("15"), "S"),
        (2, Decimal("0"), "Z"),
        (3, Decimal("0"), "E"),
    ]
    by_id = {a.id: a for a in accounts}
    assert (by_id[7].name_en, by_id[8].name_en, by_id[17].type) == (
        "Cash on hand",
        "Current bank account",
        "Revenue",
    )
    assert {19, 20, 22} <= set(by_id)
    assert [(u.id, u.unit_name) for u in units] == [(1, "Piece"), (2, "Hour")]
    assert [(c.id, c.name) for c in categories] == [(1, "Services"), (2, "Spare parts")]


# ---- customers ------------------------------------------------------------------------------


def test_customers_are_created_read_found_and_updated(writer: QoyodWriter) -> None:
    reader = writer.reader
    created = writer.create_customer(
        name="Al Noor Trading",
        phone_number="+966500000001",
        email="ap@alnoor.example",
        tax_number="300000000000003",
        organization="Al Noor Trading Co.",
        billing_address=Address(street="King Fahd Rd", city="Riyadh", zip_code="12345"),
    )
    writer.create_customer(name="Noor Garage Supplies", phone_number="0555555555")

    fetched = reader.get_customer(created.id)
    by_vat = reader.find_customers_by_tax_number("300000000000003")
    by_phone = reader.find_customers_by_phone("0500000001")
    by_name = reader.search_customers("NOOR")
    updated = writer.update_customer(created.id, phone_number="0500000002", name="Al Noor")

    assert fetched == created
    assert fetched.billing_address == Address(
        street="King Fahd Rd", city="Riyadh", zip_code="12345"
    )
    assert [c.id for c in by_vat] == [created.id]
    assert [c.id for c in by_phone] == [created.id]
    assert [c.name for c in by_name] == ["Al Noor Trading", "Noor Garage Supplies"]
    assert (updated.name, updated.phone_number, updated.tax_number) == (
        "Al Noor",
        "0500000002",
        "300000000000003",
    )
    assert reader.find_customers_by_phone("0500000001") == []


def test_a_customer_lookup_that_matches_nothing_is_empty(reader: QoyodReader) -> None:
    assert reader.find_customers_by_tax_number("399999999999993") == []
    assert reader.list_customers() == []
    with pytest.raises(QoyodNotFound) as caught:
        reader.get_customer(999)
    assert (
        caught.value.message
        == "Qoyod found nothing at /customers/999 (HTTP 404): Customer Not Found"
    )


def test_customer_validation_comes_back_as_field_errors(writer: QoyodWriter) -> None:
    with pytest.raises(QoyodRejected) as caught:
        writer.create_customer(name=" ", tax_number="12345")

    assert caught.value.errors == {
        "contact_name": ["can't be blank"],
        "tax_number": ["must be 15 digits, starting and ending with 3"],
    }


def test_customer_list_pages_past_a_hundred(sandbox: SandboxHandle, reader: QoyodReader) -> None:
    company = sandbox.company()
    for i in range(1, 151):
        company.create_customer({"name": f"Customer {i:03}"})

    customers = reader.list_customers()

    assert [c.name for c in customers] == [f"Customer {i:03}" for i in range(1, 151)]
    pages = [dict(r.query)["page"] for r in sandbox.requests.find(method="GET")]
    assert pages == ["1", "2"]


# ---- products -------------------------------------------------------------------------------


def test_products_are_created_found_by_sku_and_show_stock(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    reader = writer.reader
    service_id, part_id = make_products(writer)
    sandbox.act("products", part_id, "stock", {"quantity": "7", "inventory_id": 2})

    part = reader.get_product(part_id)
    service = reader.find_product_by_sku("SVC-OIL")
    several = reader.find_products_by_skus(["PART-HANDLE", "SVC-OIL", "NOPE"])

    assert part.track_quantity is True
    assert (part.stock_at(1), part.stock_at(2)) == (Decimal("0"), Decimal("7"))
    assert (part.buying_price, part.selling_price, part.expense_account_id) == (
        Decimal("20"),
        Decimal("35"),
        12,
    )
    assert service is not None
    assert (service.id, service.type, service.track_quantity, service.stock) == (
        service_id,
        "Service",
        False,
        (),
    )
    assert service.sales_account_id == 17
    assert {sku: p.id for sku, p in several.items()} == {
        "PART-HANDLE": part_id,
        "SVC-OIL": service_id,
    }
    assert reader.find_product_by_sku("PART") is None


def test_a_duplicate_sku_is_rejected(writer: QoyodWriter) -> None:
    _, part_id = make_products(writer)

    with pytest.raises(QoyodRejected) as caught:
        writer.create_service_product(
            sku="PART-HANDLE",
            name_ar="غسيل",
            name_en="Car wash",
            selling_price=Decimal("1"),
            tax_id=1,
            unit_id=1,
            category_id=1,
            sales_account_id=17,
        )

    assert caught.value.errors == {"sku": [f"Reference is already taken by id {part_id}"]}


def test_product_list_pages_past_a_hundred(sandbox: SandboxHandle, reader: QoyodReader) -> None:
    company = sandbox.company()
    for i in range(205):
        company.create_product({
            "name": f"Part {i}", "sku": f"P-{i:03}", "tax_id": 1, "selling_price": "10",
            "buying_price": "5", "sales_account_id": 17,
        })  # fmt: skip

    products = reader.list_products()

    assert [p.sku for p in products] == [f"P-{i:03}" for i in range(205)]
    assert sandbox.requests.count(method="GET", path="/2.0/products") == 3


# ---- invoices -------------------------------------------------------------------------------


def test_a_draft_invoice_is_created_with_qoyods_totals(writer: QoyodWriter) -> None:
    service_id, part_id = make_products(writer)
    customer = writer.create_customer(name="Ali")

    invoice = writer.create_draft_invoice(
        draft(customer.id, "INV-000123", line(part_id, "2", "35"), line(service_id, "1", "150"))
    )
    fetched = writer.reader.get_invoice(invoice.id)

    assert fetched == invoice
    assert (invoice.status, invoice.reference, invoice.contact_id) == (
        "Draft",
        "INV-000123",
        customer.id,
    )
    assert [ln.line_total for ln in invoice.lines] == [Decimal("80.5"), Decimal("172.5")]
    assert (invoice.total, invoice.paid_amount, invoice.due_amount) == (
        Decimal("253.0"),
        Decimal("0"),
        Decimal("253.0"),
    )
    assert invoice.description == "Toyota Camry - ABC 1234"


def test_the_same_reference_twice_is_refused_and_found_by_lookup(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    service_id, _ = make_products(writer)
    customer = writer.create_customer(name="Ali")
    first = writer.create_draft_invoice(
        draft(customer.id, "INV-000200", line(service_id, "1", "100"))
    )

    with pytest.raises(QoyodRejected) as caught:
        writer.create_draft_invoice(draft(customer.id, "INV-000200", line(service_id, "1", "100")))

    assert caught.value.errors == {"reference": ["has already been taken"]}
    found = writer.reader.find_invoice_by_reference("INV-000200")
    assert found is not None and found.id == first.id
    assert writer.reader.find_invoice_by_reference("INV-000201") is None
    assert len(sandbox.company().invoices) == 1


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("INV-A", "may contain only letters, digits, - and _, and must end with a digit"),
        ("INV 1", "may contain only letters, digits, - and _, and must end with a digit"),
        ("INV-" + "0" * 22, "is too long (maximum is 25 characters)"),
    ],
)
def test_a_reference_qoyod_cannot_take_is_refused(
    writer: QoyodWriter, reference: str, message: str
) -> None:
    service_id, _ = make_products(writer)
    customer = writer.create_customer(name="Ali")

    with pytest.raises(QoyodRejected) as caught:
        writer.create_draft_invoice(draft(customer.id, reference, line(service_id, "1", "100")))

    assert caught.value.errors == {"reference": [message]}


def test_a_deleted_draft_frees_its_reference(writer: QoyodWriter) -> None:
    service_id, _ = make_products(writer)
    customer = writer.create_customer(name="Ali")
    first = writer.create_draft_invoice(
        draft(customer.id, "INV-000300", line(service_id, "1", "10"))
    )

    writer.delete_draft_invoice(first.id)
    second = writer.create_draft_invoice(
        draft(customer.id, "INV-000300", line(service_id, "1", "10"))
    )

    assert second.id != first.id
    with pytest.raises(QoyodNotFound):
        writer.reader.get_invoice(first.id)


def test_an_approved_invoice_cannot_be_deleted(sandbox: SandboxHandle, writer: QoyodWriter) -> None:
    service_id, _ = make_products(writer)
    customer = writer.create_customer(name="Ali")
    invoice = writer.create_draft_invoice(
        draft(customer.id, "INV-000301", line(service_id, "1", "10"))
    )
    sandbox.act("invoices", invoice.id, "approve")

    with pytest.raises(QoyodRejected) as caught:
        writer.delete_draft_invoice(invoice.id)

    assert caught.value.errors == {"base": ["Only draft invoices can be deleted"]}


def test_an_inactive_customer_cannot_be_invoiced(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    service_id, _ = make_products(writer)
    customer = writer.create_customer(name="Ali")
    sandbox.act("customers", customer.id, "deactivate")

    with pytest.raises(QoyodRejected) as caught:
        writer.create_draft_invoice(draft(customer.id, "INV-000302", line(service_id, "1", "10")))

    assert caught.value.errors == {"base": [f"this contact {customer.id} is not active"]}
    assert writer.reader.get_customer(customer.id).is_active is False


def test_invoices_by_ids_read_120_invoices_in_two_requests(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    service_id, _ = make_products(writer)
    customer = writer.create_customer(name="Ali")
    ids = [
        writer.create_draft_invoice(
            draft(customer.id, f"INV-{i:06}", line(service_id, "1", "10"))
        ).id
        for i in range(1, 121)
    ]
    sandbox.requests.clear()

    invoices = writer.reader.list_invoices_by_ids([*reversed(ids), 999_999])

    assert [inv.id for inv in invoices] == list(reversed(ids))
    assert sandbox.requests.count(method="GET", path="/2.0/invoices") == 2


def test_payment_state_is_read_back_after_the_accountant_acts(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    reader = writer.reader
    service_id, part_id = make_products(writer)
    sandbox.act("products", part_id, "stock", {"quantity": "5"})
    customer = writer.create_customer(name="Ali")
    invoice = writer.create_draft_invoice(
        draft(customer.id, "INV-000400", line(part_id, "2", "35"), line(service_id, "1", "150"))
    )

    sandbox.act("invoices", invoice.id, "approve")
    approved = reader.get_invoice(invoice.id)
    first = sandbox.act(
        "invoices", invoice.id, "payments", {"amount": "200.00", "date": "2025-03-03"}
    )
    partly = reader.get_invoice(invoice.id)
    sandbox.act("invoices", invoice.id, "payments", {"account_id": 7, "reference": "CASH-1"})
    paid = reader.get_invoice(invoice.id)

    assert (approved.status, approved.due_amount) == ("Approved", Decimal("253.0"))
    assert (partly.status, partly.paid_amount, partly.due_amount) == (
        "Partially Paid",
        Decimal("200.0"),
        Decimal("53.0"),
    )
    assert (paid.status, paid.paid_amount, paid.due_amount) == (
        "Paid",
        Decimal("253.0"),
        Decimal("0"),
    )
    assert [(p.amount, p.source_type) for p in paid.payments] == [
        (Decimal("200.0"), "Receipt"),
        (Decimal("53.0"), "Receipt"),
    ]
    assert reader.get_product(part_id).stock_at(1) == Decimal("3")

    payments = reader.list_invoice_payments(contact_id=customer.id)
    receipt = reader.get_invoice_payment(first["receipt"]["id"])
    assert [(p.amount, p.account_id, p.kind) for p in payments] == [
        (Decimal("200.0"), 8, "received"),
        (Decimal("53.0"), 7, "received"),
    ]
    assert payments[1].reference == "CASH-1"
    assert receipt.allocations[0].allocatee_id == invoice.id
    assert [r.id for r in reader.list_receipts(contact_id=customer.id)] == [p.id for p in payments]
    assert reader.list_invoice_payments(contact_id=customer.id + 1) == []


# ---- journal entries ------------------------------------------------------------------------


def test_journal_entries_are_created_found_and_read(writer: QoyodWriter) -> None:
    entry = NewJournalEntry(
        date=date(2025, 3, 31),
        description="Expense 42: tyres",
        debits=(
            JournalLine(account_id=22, amount=Decimal("100.00"), comment="tyres"),
            JournalLine(account_id=20, amount=Decimal("15.00")),
        ),
        credits=(JournalLine(account_id=8, amount=Decimal("115.00")),),
    )
    created = writer.create_journal_entry(entry)
    writer.create_journal_entry(
        NewJournalEntry(
            date=date(2025, 3, 31),
            description="Expense 42: tyres and more",
            debits=(JournalLine(account_id=22, amount=Decimal("1")),),
            credits=(JournalLine(account_id=8, amount=Decimal("1")),),
        )
    )

    found = writer.reader.find_journal_entries(
        description="Expense 42: tyres", on=date(2025, 3, 31)
    )
    other_day = writer.reader.find_journal_entries(
        description="Expense 42: tyres", on=date(2025, 4, 1)
    )
    fetched = writer.reader.get_journal_entry(created.id)

    assert [e.id for e in found] == [created.id]
    assert other_day == []
    assert fetched == created
    assert (created.total_debit, created.total_credit) == (Decimal("115.0"), Decimal("115.0"))
    assert [(d.account_id, d.amount, d.comments) for d in created.debits] == [
        (22, Decimal("100.0"), ("tyres",)),
        (20, Decimal("15.0"), ()),
    ]


def test_an_unbalanced_journal_entry_is_rejected(writer: QoyodWriter) -> None:
    with pytest.raises(QoyodRejected) as caught:
        writer.create_journal_entry(
            NewJournalEntry(
                date=date(2025, 3, 31),
                description="Broken",
                debits=(JournalLine(account_id=22, amount=Decimal("100.00")),),
                credits=(JournalLine(account_id=8, amount=Decimal("99.99")),),
            )
        )

    assert caught.value.errors == {"base": ["Total debit and credit amounts must be equal"]}


# ---- failures over real HTTP ----------------------------------------------------------------


def test_a_revoked_key_is_unauthorised(sandbox: SandboxHandle, reader: QoyodReader) -> None:
    sandbox.state.revoke("sandbox-test-key-0001")

    with pytest.raises(QoyodUnauthorised) as caught:
        reader.list_warehouses()

    assert caught.value.status_code == 401
    assert sandbox.requests.count() == 1


def test_commit_then_drop_leaves_a_draft_the_lookup_finds(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    service_id, _ = make_products(writer)
    customer = writer.create_customer(name="Ali")
    sandbox.faults.drop_next(method="POST", path="/invoices", commit=True)

    with pytest.raises(QoyodMaybeSaved) as caught:
        writer.create_draft_invoice(draft(customer.id, "INV-000500", line(service_id, "1", "10")))

    assert caught.value.message == (
        "The connection to Qoyod broke before it answered; it may already be saved in Qoyod."
    )
    assert sandbox.requests.count(method="POST", path="/2.0/invoices") == 1
    found = writer.reader.find_invoice_by_reference("INV-000500")
    assert found is not None and found.status == "Draft"


def test_a_drop_before_processing_saves_nothing(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    service_id, _ = make_products(writer)
    customer = writer.create_customer(name="Ali")
    sandbox.faults.drop_next(method="POST", path="/invoices", commit=False)

    with pytest.raises(QoyodMaybeSaved):
        writer.create_draft_invoice(draft(customer.id, "INV-000501", line(service_id, "1", "10")))

    assert writer.reader.find_invoice_by_reference("INV-000501") is None


def test_a_server_error_after_commit_is_maybe_saved(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    sandbox.faults.fail_next(status=502, method="POST")

    with pytest.raises(QoyodMaybeSaved) as caught:
        writer.create_customer(name="Ali")

    assert caught.value.status_code == 502
    assert sandbox.requests.count(method="POST") == 1


def test_sandbox_rate_limit_reaches_the_writer_with_retry_after(
    sandbox: SandboxHandle, writer: QoyodWriter
) -> None:
    sandbox.faults.rate_limit(2, retry_after=30)
    writer.create_customer(name="A")
    writer.create_customer(name="B")

    with pytest.raises(QoyodRateLimited) as caught:
        writer.create_customer(name="C")

    assert caught.value.retry_after == 30.0
    assert len(sandbox.company().customers) == 2


def test_reads_ride_out_transient_sandbox_failures(
    sandbox: SandboxHandle, reader: QoyodReader
) -> None:
    sandbox.faults.fail_next(2, status=503, method="GET")

    assert len(reader.list_warehouses()) == 2
    assert sandbox.requests.count(method="GET") == 3


def test_a_slow_sandbox_times_out_a_read_within_its_deadline(sandbox: SandboxHandle) -> None:
    # Held past the deadline, however fast or slow this machine is; a retry would be held too.
    sandbox.faults.hold_next(5, method="GET")
    reader = sandbox.reader(deadline=0.15)

    with pytest.raises(QoyodUnavailable) as caught:
        reader.list_taxes()

    assert caught.value.message == "Qoyod did not answer in time."


def test_a_closed_port_is_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/2.0"
    reader = QoyodReader(base_url=base_url, api_key="closed-port-key", options=TEST_OPTIONS)

    try:
        with pytest.raises(QoyodNotSent) as caught:
            reader.list_warehouses()
    finally:
        close_pooled_clients(base_url)

    assert caught.value.message == "Qoyod's server refused the connection; nothing was sent."
