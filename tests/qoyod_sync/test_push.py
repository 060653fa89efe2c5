"""Sending drafts to Qoyod against the sandbox over loopback HTTP: happy path, every failure
cause, every maybe-saved fault followed by Retry, and the bad input of issue 5.

Every test runs with transaction=True so that `connection.in_atomic_block` means what it says:
the client's request hook asserts no database transaction is open during any HTTP call.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest
from django.db import connection as db_connection
from django.utils import timezone

from garage.models import JobCard
from invoicing.models import Invoice, InvoiceLine
from invoicing.services import invoice_create, invoice_prefill
from qoyod_sync.models import (
    BranchWarehouse,
    FailureKind,
    QoyodAttempt,
    QoyodConnection,
    QoyodCustomerLink,
    QoyodInvoiceSync,
    QoyodProductLink,
    SyncState,
)
from qoyod_sync.push import SendRefused, invoice_send_draft, sync_transition
from qoyod_sync.services import connection_save, connection_test
from tests import factories
from tests.qoyod_fixtures import (
    PART_ACCOUNTS,
    SANDBOX_KEY,
    TEST_OPTIONS,
    choose_send_mappings,
)

pytestmark = pytest.mark.django_db(transaction=True)

INVOICES = "/2.0/invoices"


class NoTransactionDuringHttp:
    """A request hook: records (and fails on) any Qoyod call made inside transaction.atomic."""

    def __init__(self) -> None:
        self.requests = 0
        self.violations: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        self.requests += 1
        if db_connection.in_atomic_block:
            self.violations.append(f"{request.method} {request.url.path}")
            raise AssertionError(f"{request.method} {request.url} sent inside a transaction")


@pytest.fixture
def http_guard() -> NoTransactionDuringHttp:
    return NoTransactionDuringHttp()


@pytest.fixture
def options(http_guard: NoTransactionDuringHttp):
    return replace(TEST_OPTIONS, event_hooks={"request": [http_guard]})


@pytest.fixture
def qoyod(qoyod_sandbox, options, http_guard):
    """A connected garage: key saved, Test connection run (catalogue, defaults, warehouse)."""
    branch = factories.BranchFactory(code="RUH", name_en="Riyadh")
    connection_save(base_url=qoyod_sandbox.base_url, api_key=SANDBOX_KEY, user=None)
    connection_test(user=None, options=options)
    choose_send_mappings()
    assert BranchWarehouse.objects.get(branch=branch).qoyod_inventory_id == 1
    qoyod_sandbox.requests.clear()
    yield qoyod_sandbox
    assert http_guard.violations == []


@pytest.fixture
def accountant():
    return factories.UserFactory(username="accountant", role="Accountant")


def make_invoice(
    *,
    customer=None,
    branch=None,
    services=(),
    parts=(),
    user=None,
) -> Invoice:
    """A saved invoice (Requires Qoyod ticked) from a completed job with these lines."""
    branch = branch or factories.BranchFactory(code="RUH")
    customer = customer or factories.CustomerFactory()
    vehicle = customer.vehicles.first() or factories.VehicleFactory(customer=customer)
    job = factories.JobCardFactory(
        branch=branch, customer=customer, vehicle=vehicle, status=JobCard.Status.COMPLETED
    )
    for item in services:
        factories.ServiceLineFactory(job=job, service_item=item)
    for part, quantity in parts:
        factories.PartLineFactory(job=job, spare_part=part, quantity=Decimal(quantity))
    today = timezone.localdate()
    return invoice_create(
        job=job, customer=customer, vehicle=vehicle, lines=invoice_prefill(job=job),
        issue_date=today, due_date=today + datetime.timedelta(days=30), requires_qoyod=True,
        user=user,
    )  # fmt: skip


def qoyod_part(sandbox, part, *, stock: str = "10", inventory_id: int = 1) -> int:
    """The part as the garage bought it in Qoyod: a tracked product with stock."""
    product = sandbox.writer().create_stock_product(
        sku=part.sku, name_ar=part.name_ar, name_en=part.name_en, selling_price=part.sale_price,
        buying_price=part.cost, tax_id=1, unit_id=1, category_id=2, **PART_ACCOUNTS,
    )  # fmt: skip
    sandbox.company().set_stock(product.id, inventory_id, Decimal(stock))
    sandbox.requests.clear()
    return product.id


def calls(sandbox) -> list[str]:
    return [f"{r.method} {r.path}" for r in sandbox.requests.all()]


def drafts(sandbox, invoice: Invoice) -> list:
    return [i for i in sandbox.company().invoices.values() if i.reference == invoice.number]


def sync_of(invoice: Invoice) -> QoyodInvoiceSync:
    return QoyodInvoiceSync.objects.get(invoice=invoice)


def send(invoice, user, options, **kwargs):
    return invoice_send_draft(invoice=invoice, user=user, options=options, **kwargs)


def retry(invoice, user, options):
    return invoice_send_draft(invoice=invoice, user=user, options=options, retry=True)


# ---- the happy path -------------------------------------------------------------------------


def test_first_send_creates_customer_and_service_links_part_and_writes_draft(
    qoyod, options, accountant
):
    customer = factories.CompanyCustomerFactory(name_en="Al Noor Trading")
    service = factories.ServiceItemFactory(code="BRK-SVC", default_price=Decimal("180.00"))
    part = factories.SparePartFactory(sku="PAD-1", sale_price=Decimal("220.00"))
    part_id = qoyod_part(qoyod, part)
    invoice = make_invoice(customer=customer, services=[service], parts=[(part, "2")])

    result = send(invoice, accountant, options)

    assert result.ok, result.message
    sync = sync_of(invoice)
    remote = drafts(qoyod, invoice)
    assert len(remote) == 1
    assert sync.state == SyncState.DRAFT_CREATED
    assert sync.qoyod_invoice_id == remote[0].id
    assert sync.qoyod_total == Decimal("713.00") == invoice.total
    assert sync.total_difference == Decimal("0.00")
    assert (sync.attempts, sync.last_attempt_by) == (1, accountant)
    invoice.refresh_from_db()
    assert invoice.qoyod_managed is True
    assert calls(qoyod) == [
        "GET /2.0/customers",  # by VAT number
        "GET /2.0/customers",  # by phone
        "POST /2.0/customers",
        "GET /2.0/products",  # by SKU: finds the part, not the service
        "POST /2.0/products",
        "POST /2.0/invoices",
    ]
    company = qoyod.company()
    created_customer = company.customers[QoyodCustomerLink.objects.get().qoyod_id]
    assert created_customer.tax_number == customer.vat_number
    service_product = company.products[QoyodProductLink.objects.get(service_item=service).qoyod_id]
    assert (service_product.type, service_product.track_quantity) == ("Service", 0)
    assert QoyodProductLink.objects.get(spare_part=part).qoyod_id == part_id
    draft = remote[0]
    assert draft.status == "Draft"
    assert draft.contact_id == created_customer.id
    assert draft.inventory_id == 1
    assert invoice.vehicle_plate in draft.description
    assert invoice.job.number in draft.description
    assert [(a.step, a.outcome) for a in QoyodAttempt.objects.filter(invoice=invoice)] == [
        ("customer", "ok"),
        ("product", "ok"),
        ("invoice", "ok"),
    ]
    assert [(h.from_state, h.to_state) for h in sync.history.all()] == [
        ("ready", "sending"),
        ("sending", "draft_created"),
    ]


def test_returning_customer_with_known_products_reuses_ids(qoyod, options, accountant):
    customer = factories.CustomerFactory()
    service = factories.ServiceItemFactory()
    part = factories.SparePartFactory()
    qoyod_part(qoyod, part)
    first = make_invoice(customer=customer, services=[service], parts=[(part, "1")])
    assert send(first, accountant, options).ok
    qoyod.requests.clear()

    second = make_invoice(customer=customer, services=[service], parts=[(part, "1")])
    result = send(second, accountant, options)

    assert result.ok, result.message
    # Only the stock read and the invoice itself: nothing is looked up or created again.
    assert calls(qoyod) == ["GET /2.0/products", "POST /2.0/invoices"]
    assert len(qoyod.company().customers) == 1
    assert len(qoyod.company().products) == 2
    assert drafts(qoyod, second)[0].contact_id == QoyodCustomerLink.objects.get().qoyod_id


def test_existing_qoyod_customer_is_matched_by_phone_not_created(qoyod, options, accountant):
    customer = factories.CustomerFactory(phone="+966551234567")
    existing = qoyod.writer().create_customer(name="Mohammed", phone_number="0551234567")
    qoyod.requests.clear()
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])

    assert send(invoice, accountant, options).ok

    link = QoyodCustomerLink.objects.get(customer=customer)
    assert (link.qoyod_id, link.matched_by) == (existing.id, "phone")
    assert qoyod.requests.count(method="POST", path="/2.0/customers") == 0


def test_second_send_of_a_created_draft_is_refused_without_http(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    assert send(invoice, accountant, options).ok
    qoyod.requests.clear()

    with pytest.raises(SendRefused, match="already has a draft in Qoyod"):
        send(invoice, accountant, options)
    with pytest.raises(SendRefused, match="already has a draft in Qoyod"):
        retry(invoice, accountant, options)
    assert calls(qoyod) == []


def test_total_difference_from_qoyod_is_recorded_and_shown(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory(default_price=Decimal("100"))])
    # Qoyod answers with its own arithmetic (here 0.02 more, as per-line VAT rounding can give).
    qoyod.faults.fail_next(
        status=201, method="POST", path="/invoices",
        body={"invoice": {"id": 4242, "reference": invoice.number, "status": "Draft",
                          "total": "115.02", "paid_amount": "0.0", "due_amount": "115.02",
                          "contact_id": 101, "line_items": [], "payments": []}},
    )  # fmt: skip

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.qoyod_invoice_id) == (SyncState.DRAFT_CREATED, 4242)
    assert (sync.qoyod_total, sync.total_difference) == (Decimal("115.02"), Decimal("0.02"))
    assert "Qoyod's total is 115.02 SAR, ours 115.00 SAR (difference 0.02)" in result.message


# ---- failure causes, each followed by a fix and Retry → exactly one draft ------------------


def test_missing_branch_warehouse_fails_before_any_http(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    BranchWarehouse.objects.all().delete()

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.failure_kind) == (SyncState.FAILED, FailureKind.MAPPING_MISSING)
    assert "has no Qoyod warehouse" in result.message
    assert calls(qoyod) == []
    invoice.refresh_from_db()
    assert invoice.qoyod_managed is False

    BranchWarehouse.objects.create(branch=invoice.branch, qoyod_inventory_id=1, name="Main")
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1
    assert sync_of(invoice).attempts == 2


def test_line_no_longer_linked_fails_before_any_http(qoyod, options, accountant):
    service = factories.ServiceItemFactory()
    invoice = make_invoice(services=[service])
    line = invoice.lines.get()
    InvoiceLine.objects.filter(pk=line.pk).update(service_item=None)

    result = send(invoice, accountant, options)

    assert sync_of(invoice).failure_kind == FailureKind.LINE_UNLINKED
    assert "Line 1" in result.message and "no longer linked" in result.message
    assert calls(qoyod) == []

    InvoiceLine.objects.filter(pk=line.pk).update(service_item=service)
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1


def test_company_without_vat_number_or_address_fails_before_any_http(qoyod, options, accountant):
    customer = factories.CompanyCustomerFactory(vat_number="", street="")
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])

    result = send(invoice, accountant, options)

    assert sync_of(invoice).failure_kind == FailureKind.CUSTOMER_INCOMPLETE
    assert "VAT number" in result.message and "national address" in result.message
    assert calls(qoyod) == []

    customer.vat_number, customer.street = "300000000000013", "King Fahd Road"
    customer.save()
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1


def test_missing_product_defaults_is_a_mapping_failure(qoyod, options, accountant):
    from qoyod_sync.models import QoyodConnection

    QoyodConnection.objects.update(unit_id=None)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])

    result = send(invoice, accountant, options)

    assert sync_of(invoice).failure_kind == FailureKind.MAPPING_MISSING
    assert "tax, unit and category" in result.message
    assert calls(qoyod) == []


@pytest.mark.parametrize(
    ("body", "kind", "said"),
    [
        (
            {"errors": {"line_items": ["quantity is more than the stock"]}},
            "rejected_stock",
            "line_items: quantity is more than the stock",
        ),
        (
            {"errors": {"tax_percent": ["is not a valid VAT rate"]}},
            "rejected_vat",
            "tax_percent: is not a valid VAT rate",
        ),
        (
            {"errors": "Plutus::Account id 999 is not valid"},
            "rejected_accounting",
            "Plutus::Account id 999 is not valid",
        ),
    ],
)
def test_qoyod_rejection_is_stored_in_garage_words_then_retry_creates_one_draft(
    qoyod, options, accountant, body, kind, said
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.faults.fail_next(status=422, body=body, method="POST", path="/invoices")

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.failure_kind) == (SyncState.FAILED, kind)
    assert result.message == f"Qoyod rejected the invoice (HTTP 422). Qoyod's message: “{said}”"
    assert (sync.reason, sync.qoyod_message) == ("Qoyod rejected the invoice (HTTP 422).", said)
    attempt = QoyodAttempt.objects.get(invoice=invoice, step="invoice")
    assert (attempt.outcome, attempt.http_status) == ("rejected", 422)
    assert (attempt.detail, attempt.message) == ("Qoyod rejected the request (HTTP 422)", said)
    assert SANDBOX_KEY not in attempt.message

    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1


def test_temporary_problem_before_the_invoice_fails_and_retry_creates_one_draft(
    qoyod, options, accountant
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    # Reads are retried (3 attempts); five 503s outlast them.
    qoyod.faults.fail_next(5, status=503, method="GET", path="/customers")

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.failure_kind) == (SyncState.FAILED, FailureKind.TEMPORARY)
    assert "Temporary Qoyod or network problem" in result.message
    assert qoyod.requests.count(method="POST") == 0

    qoyod.faults.clear()
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1


def test_rate_limited_invoice_post_is_not_sent_so_it_fails(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.faults.fail_next(status=429, retry_after=30, method="POST", path="/invoices")

    send(invoice, accountant, options)

    assert sync_of(invoice).failure_kind == FailureKind.TEMPORARY
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1


def test_revoked_key_fails_the_send_into_the_retry_queue_and_marks_the_connection(
    qoyod, options, accountant
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.state.revoke(SANDBOX_KEY)

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.failure_kind) == (SyncState.FAILED, FailureKind.KEY_REJECTED)
    assert sync.get_failure_kind_display() == "Qoyod refused the key"
    assert "finance manager" in result.message and "Qoyod connection" in result.message
    assert sync.in_retry_queue
    assert qoyod.requests.count(method="POST") == 0
    connection = QoyodConnection.objects.get()
    assert connection.key_refused_at is not None
    assert connection.key_refused_request == qoyod.requests.all()[-1].method + " " + (
        qoyod.requests.all()[-1].path.removeprefix("/2.0")
    )

    qoyod.state.reinstate(SANDBOX_KEY)
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1
    connection.refresh_from_db()
    assert (connection.key_refused_at, connection.key_refused_request) == (None, "")


# ---- unknown outcomes, each followed by Retry → exactly one draft --------------------------


def test_commit_then_drop_is_unknown_and_retry_links_without_second_create(
    qoyod, options, accountant
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.faults.drop_next(commit=True, method="POST", path="/invoices")

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.failure_kind) == (SyncState.UNKNOWN, FailureKind.OUTCOME_UNKNOWN)
    assert "may already exist in Qoyod" in result.message
    assert sync.in_retry_queue
    invoice.refresh_from_db()
    assert invoice.qoyod_managed is False
    qoyod.requests.clear()

    assert retry(invoice, accountant, options).ok

    assert calls(qoyod) == ["GET /2.0/invoices"]  # the lookup, and no second create
    [draft] = drafts(qoyod, invoice)
    assert sync_of(invoice).qoyod_invoice_id == draft.id
    assert [a.outcome for a in QoyodAttempt.objects.filter(invoice=invoice, step="lookup")] == [
        "found"
    ]


def test_bad_gateway_after_sending_is_unknown_and_retry_creates_when_absent(
    qoyod, options, accountant
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    # 502 without processing: the lookup will confirm it is absent.
    qoyod.faults.fail_next(status=502, method="POST", path="/invoices")

    send(invoice, accountant, options)
    assert sync_of(invoice).state == SyncState.UNKNOWN
    qoyod.requests.clear()

    assert retry(invoice, accountant, options).ok

    assert calls(qoyod) == ["GET /2.0/invoices", "POST /2.0/invoices"]
    assert len(drafts(qoyod, invoice)) == 1
    assert [a.outcome for a in QoyodAttempt.objects.filter(invoice=invoice).order_by("id")][
        -2:
    ] == ["absent", "ok"]


def test_timeout_after_sending_is_unknown_and_retry_links_the_late_draft(
    qoyod, options, accountant
):
    customer = factories.CustomerFactory()
    service = factories.ServiceItemFactory()
    assert send(make_invoice(customer=customer, services=[service]), accountant, options).ok
    invoice = make_invoice(customer=customer, services=[service])
    qoyod.requests.clear()
    # Qoyod holds the create unanswered until the client has stopped waiting, then saves it.
    held = qoyod.faults.hold_next(method="POST", path="/invoices")
    impatient = replace(options, timeout=httpx.Timeout(5.0, read=0.1))

    result = send(invoice, accountant, impatient)

    assert sync_of(invoice).state == SyncState.UNKNOWN, result.message
    assert drafts(qoyod, invoice) == []
    held.release()
    held.wait_finished()
    assert calls(qoyod) == ["POST /2.0/invoices"] and len(drafts(qoyod, invoice)) == 1

    assert retry(invoice, accountant, options).ok
    assert calls(qoyod) == ["POST /2.0/invoices", "GET /2.0/invoices"]  # no second create
    assert len(drafts(qoyod, invoice)) == 1


def test_failed_lookup_keeps_the_invoice_unknown(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.faults.fail_next(status=502, method="POST", path="/invoices")
    send(invoice, accountant, options)
    qoyod.faults.fail_next(5, status=500, method="GET", path="/invoices")

    result = retry(invoice, accountant, options)

    sync = sync_of(invoice)
    assert sync.state == SyncState.UNKNOWN
    assert "Could not check Qoyod" in result.message
    assert qoyod.requests.count(method="POST", path=INVOICES) == 1
    assert sync.attempts == 2

    qoyod.faults.clear()
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1


def test_sending_row_with_expired_lease_counts_as_unknown(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.faults.drop_next(commit=True, method="POST", path="/invoices")
    send(invoice, accountant, options)
    # As if the process died after POST /invoices: sending, with a lease that ran out.
    QoyodInvoiceSync.objects.filter(invoice=invoice).update(
        state=SyncState.SENDING, claim_token="dead", lease_until=timezone.now()
    )
    assert sync_of(invoice).effective_state == SyncState.UNKNOWN
    qoyod.requests.clear()

    with pytest.raises(SendRefused, match="needs a retry"):
        send(invoice, accountant, options)
    assert retry(invoice, accountant, options).ok

    assert calls(qoyod) == ["GET /2.0/invoices"]
    assert len(drafts(qoyod, invoice)) == 1
    states = [(h.from_state, h.to_state) for h in sync_of(invoice).history.all()]
    assert ("sending", "unknown") in states


def test_sending_row_with_live_lease_is_already_being_sent(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    sync = QoyodInvoiceSync.objects.create(invoice=invoice)
    sync_transition(
        sync=sync, to_state=SyncState.SENDING, user=None, claim_token="other",
        lease_until=timezone.now() + datetime.timedelta(minutes=5),
    )  # fmt: skip

    with pytest.raises(SendRefused, match="already being sent"):
        send(invoice, accountant, options)
    with pytest.raises(SendRefused, match="already being sent"):
        retry(invoice, accountant, options)
    assert calls(qoyod) == []


# ---- bad input ------------------------------------------------------------------------------


def test_unparseable_answer_to_the_invoice_is_unknown_not_a_crash(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.faults.fail_next(status=201, body="<html>Saved</html>", method="POST",
                           path="/invoices")  # fmt: skip

    result = send(invoice, accountant, options)

    assert sync_of(invoice).state == SyncState.UNKNOWN
    assert "may already exist in Qoyod" in result.message
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1


def test_part_sku_taken_by_a_service_in_qoyod_is_reported_not_overwritten(
    qoyod, options, accountant
):
    part = factories.SparePartFactory(sku="GEN-1", name_en="Gasket")
    other = qoyod.writer().create_service_product(
        sku="GEN-1", name_ar="غسيل", name_en="Car wash", selling_price=Decimal("30"), tax_id=1,
        unit_id=1, category_id=1,
        sales_account_id=17,
    )  # fmt: skip
    qoyod.requests.clear()
    invoice = make_invoice(parts=[(part, "1")])

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.failure_kind) == (SyncState.FAILED, FailureKind.SKU_TAKEN)
    assert "GEN-1" in result.message and "Car wash" in result.message
    assert qoyod.company().products[other.id].name_en == "Car wash"
    assert qoyod.requests.count(method="POST", path="/2.0/products") == 0
    assert qoyod.requests.count(method="POST", path=INVOICES) == 0
    assert qoyod.requests.count(method="PUT") == 0
    assert not QoyodProductLink.objects.exists()


def test_customer_inactive_in_qoyod_gets_a_clear_message(qoyod, options, accountant):
    customer = factories.CustomerFactory(name_en="Reem")
    service = factories.ServiceItemFactory()
    assert send(make_invoice(customer=customer, services=[service]), accountant, options).ok
    qoyod.company().set_customer_status(QoyodCustomerLink.objects.get().qoyod_id, "Inactive")
    invoice = make_invoice(customer=customer, services=[service])

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.failure_kind) == (SyncState.FAILED, FailureKind.CUSTOMER_INACTIVE)
    assert "Reem is inactive in Qoyod" in result.message

    qoyod.company().set_customer_status(QoyodCustomerLink.objects.get().qoyod_id, "Active")
    assert retry(invoice, accountant, options).ok
    assert len(drafts(qoyod, invoice)) == 1


def test_inactive_match_by_phone_is_linked_and_reported(qoyod, options, accountant):
    customer = factories.CustomerFactory(phone="+966559998887")
    writer = qoyod.writer()
    existing = writer.create_customer(name="Old", phone_number="+966559998887")
    qoyod.company().set_customer_status(existing.id, "Inactive")
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])

    result = send(invoice, accountant, options)

    assert sync_of(invoice).failure_kind == FailureKind.CUSTOMER_INACTIVE
    assert f"Qoyod id {existing.id}" in result.message
    assert QoyodCustomerLink.objects.get().qoyod_id == existing.id


def test_invoice_not_requiring_qoyod_or_void_is_refused(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    Invoice.objects.filter(pk=invoice.pk).update(requires_qoyod=False)
    with pytest.raises(SendRefused, match="Requires Qoyod invoice"):
        send(invoice, accountant, options)
    Invoice.objects.filter(pk=invoice.pk).update(requires_qoyod=True, status="void")
    with pytest.raises(SendRefused, match="is void"):
        send(invoice, accountant, options)
    assert calls(qoyod) == []


def test_invoice_already_managed_in_qoyod_is_never_sent_again(qoyod, options, accountant):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=True)

    with pytest.raises(SendRefused, match="already managed in Qoyod"):
        send(invoice, accountant, options)
    assert calls(qoyod) == []
