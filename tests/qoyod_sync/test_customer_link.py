"""Customers and products are created in Qoyod at most once, and a document found by our
reference is linked only when it is ours (issue 11 items 1, 2 and 10).

Against the sandbox over loopback; its hold_next makes Qoyod save a create after our read
timeout deterministically, without sleeps.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from qoyod_sync.models import (
    FailureKind,
    QoyodCustomerLink,
    QoyodInvoiceSync,
    QoyodProductLink,
    SyncState,
)
from qoyod_sync.push import SendRefused
from qoyod_sync.types import DraftInvoice, DraftLine
from tests import factories
from tests.qoyod_sync.test_push import (  # noqa: F401  (fixtures)
    accountant,
    calls,
    drafts,
    http_guard,
    make_invoice,
    options,
    qoyod,
    retry,
    send,
    sync_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMERS = "/2.0/customers"
INVOICES = "/2.0/invoices"


def customers_named(sandbox, name: str) -> list:
    return [c for c in sandbox.company().customers.values() if c.name == name]


# ---- item 1: the customer is created at most once ------------------------------------------


def test_customer_saved_after_our_timeout_is_looked_up_not_created_again(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    customer = factories.CustomerFactory(name_en="Faisal Garage Client")
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])
    # Qoyod holds the customer create unanswered until the client has stopped waiting.
    held = qoyod.faults.hold_next(method="POST", path="/customers")
    impatient = replace(options, timeout=httpx.Timeout(5.0, read=0.1))

    result = send(invoice, accountant, impatient)

    sync = sync_of(invoice)
    assert sync.state == SyncState.FAILED
    assert "creating the customer" in result.message
    link = QoyodCustomerLink.objects.get(customer=customer)
    assert (link.state, link.qoyod_id) == (QoyodCustomerLink.State.UNKNOWN, None)

    # Retry pressed while Qoyod is still working on the create: look up, find nothing, and
    # do not create a second one.
    result = retry(invoice, accountant, options)
    assert sync_of(invoice).state == SyncState.FAILED
    assert "Retry in a moment" in result.message
    assert qoyod.requests.count(method="POST", path=CUSTOMERS) == 1
    assert customers_named(qoyod, "Faisal Garage Client") == []

    held.release()
    held.wait_finished()
    [created] = customers_named(qoyod, "Faisal Garage Client")

    assert retry(invoice, accountant, options).ok
    assert qoyod.requests.count(method="POST", path=CUSTOMERS) == 1
    assert len(customers_named(qoyod, "Faisal Garage Client")) == 1
    link.refresh_from_db()
    assert (link.state, link.qoyod_id) == (QoyodCustomerLink.State.LINKED, created.id)
    assert drafts(qoyod, invoice)[0].contact_id == created.id


def test_unknown_customer_create_absent_after_the_wait_is_created(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    customer = factories.CustomerFactory(name_en="Huda")
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])
    # A 502 without processing: nothing was saved, but we cannot know that.
    qoyod.faults.fail_next(status=502, method="POST", path="/customers")
    send(invoice, accountant, options)
    assert QoyodCustomerLink.objects.get().state == QoyodCustomerLink.State.UNKNOWN
    # Long enough ago that Qoyod has finished whatever it was doing.
    QoyodCustomerLink.objects.update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    qoyod.requests.clear()

    assert retry(invoice, accountant, options).ok

    assert qoyod.requests.count(method="POST", path=CUSTOMERS) == 1
    assert len(customers_named(qoyod, "Huda")) == 1
    assert QoyodCustomerLink.objects.get().state == QoyodCustomerLink.State.LINKED


def test_unknown_customer_is_found_by_exact_name_when_phone_changed_in_qoyod(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    customer = factories.CustomerFactory(name_en="Majed Al Otaibi")
    factories.CustomerFactory(name_en="Majed Al Otaibi Trading")
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])
    qoyod.faults.drop_next(commit=True, method="POST", path="/customers")
    send(invoice, accountant, options)
    [created] = customers_named(qoyod, "Majed Al Otaibi")
    # The accountant corrected the phone in Qoyod meanwhile; a near name is someone else.
    created.phone_number = "+966588888881"
    qoyod.writer().create_customer(name="Majed Al Otaibi Trading", phone_number="0588888882")
    qoyod.requests.clear()

    assert retry(invoice, accountant, options).ok

    assert qoyod.requests.count(method="POST", path=CUSTOMERS) == 0
    link = QoyodCustomerLink.objects.get(customer=customer)
    assert (link.qoyod_id, link.matched_by) == (created.id, QoyodCustomerLink.MatchedBy.NAME)


def test_customer_being_created_by_another_send_stops_with_a_retry_message(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    customer = factories.CustomerFactory()
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])
    # Another request holds the claim on this customer (its lease is live).
    QoyodCustomerLink.objects.create(
        customer=customer, state=QoyodCustomerLink.State.CREATING, claim_token="other",
        lease_until=timezone.now() + datetime.timedelta(minutes=1),
    )  # fmt: skip

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert (sync.state, sync.failure_kind) == (SyncState.FAILED, FailureKind.TEMPORARY)
    assert "another send is creating this customer — retry in a moment" in result.message
    assert qoyod.requests.count(method="POST", path=CUSTOMERS) == 0
    assert qoyod.requests.count(method="POST", path=INVOICES) == 0
    assert QoyodCustomerLink.objects.get().claim_token == "other"


@pytest.mark.parametrize(
    "refuse",
    [
        lambda faults: faults.fail_next(status=422, body={"message": "Name is invalid"},
                                        method="POST", path="/customers"),
        lambda faults: faults.fail_next(status=429, retry_after=30, method="POST",
                                        path="/customers"),
    ],
    ids=["refused", "rate-limited"],
)  # fmt: skip
def test_customer_create_qoyod_refused_is_not_waited_for_on_retry(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
    refuse,
):
    customer = factories.CustomerFactory(name_en="Salem Workshop Client")
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])
    refuse(qoyod.faults)

    send(invoice, accountant, options)

    # Qoyod answered: nothing was saved, so there is nothing to wait for or look up after.
    assert sync_of(invoice).state == SyncState.FAILED
    assert not QoyodCustomerLink.objects.filter(customer=customer).exists()
    result = retry(invoice, accountant, options)
    assert result.ok, result.message
    assert qoyod.requests.count(method="POST", path=CUSTOMERS) == 2
    [created] = customers_named(qoyod, "Salem Workshop Client")
    assert QoyodCustomerLink.objects.get(customer=customer).qoyod_id == created.id


def test_refused_create_after_a_lost_one_keeps_waiting_for_the_lost_one(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    customer = factories.CustomerFactory(name_en="Nasser")
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])
    qoyod.faults.fail_next(status=502, method="POST", path="/customers")
    send(invoice, accountant, options)
    lost_until = timezone.now() - datetime.timedelta(seconds=1)
    QoyodCustomerLink.objects.update(lease_until=lost_until)
    qoyod.faults.fail_next(status=422, method="POST", path="/customers")

    retry(invoice, accountant, options)

    # The refusal says nothing about the earlier create, which stays unknown as it was.
    link = QoyodCustomerLink.objects.get(customer=customer)
    assert (link.state, link.claim_token, link.lease_until) == (
        QoyodCustomerLink.State.UNKNOWN, "", lost_until,
    )  # fmt: skip


# ---- item 1: products, after an SKU race ----------------------------------------------------


def test_sku_taken_after_our_lookup_missed_it_links_the_product(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    service = factories.ServiceItemFactory(code="OIL-SVC", name_en="Oil change")
    invoice = make_invoice(services=[service])
    # Another send created it between our lookup (which saw nothing) and our create.
    theirs = qoyod.writer().create_service_product(
        sku="OIL-SVC", name_ar="تغيير زيت", name_en="Oil change", selling_price=Decimal("80"),
        tax_id=1, unit_id=1, category_id=1,
        sales_account_id=17,
    )  # fmt: skip
    qoyod.faults.fail_next(status=404, body="We found nothing", method="GET", path="/products")
    qoyod.requests.clear()

    result = send(invoice, accountant, options)

    assert result.ok, result.message
    assert QoyodProductLink.objects.get(service_item=service).qoyod_id == theirs.id
    assert drafts(qoyod, invoice)[0].lines[0].product_id == theirs.id
    assert qoyod.requests.count(method="POST", path="/2.0/products") == 1
    assert len([p for p in qoyod.company().products.values() if p.sku == "OIL-SVC"]) == 1


# ---- item 2: never link someone else's document ---------------------------------------------


def _foreign_draft(sandbox, reference: str):
    """Another customer's invoice in Qoyod that happens to carry our number."""
    writer = sandbox.writer()
    contact = writer.create_customer(name="Other Customer", phone_number="0500000009")
    product = writer.create_service_product(
        sku="X-1", name_ar="سلعة", name_en="Other thing", selling_price=Decimal("999"), tax_id=1,
        unit_id=1, category_id=1,
        sales_account_id=17,
    )  # fmt: skip
    today = timezone.localdate()
    existing = writer.create_draft_invoice(
        DraftInvoice(
            contact_id=contact.id, reference=reference, issue_date=today,
            due_date=today, inventory_id=1,
            lines=(DraftLine(product_id=product.id, quantity=Decimal("1"),
                             unit_price=Decimal("999")),),
        )
    )  # fmt: skip
    sandbox.requests.clear()
    return existing


def test_reference_taken_by_another_customers_invoice_is_a_collision_not_linked(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    customer = factories.CustomerFactory(name_en="Salem")
    service = factories.ServiceItemFactory(default_price=Decimal("150.00"))
    invoice = make_invoice(customer=customer, services=[service])
    theirs = _foreign_draft(qoyod, invoice.number)
    assert theirs.total == Decimal("1148.85")

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert not result.ok
    assert (sync.state, sync.failure_kind) == (
        SyncState.REFERENCE_COLLISION, FailureKind.REFERENCE_COLLISION,
    )  # fmt: skip
    assert sync.qoyod_invoice_id is None
    assert "1148.85" in result.message and "172.50" in result.message
    assert "Other Customer" in result.message and "Salem" in result.message
    assert f"Qoyod already has invoice id {theirs.id}" in result.message
    assert sync.in_retry_queue
    invoice.refresh_from_db()
    assert invoice.qoyod_managed is False
    last = sync.history.last()
    assert (last.from_state, last.to_state) == (SyncState.SENDING, SyncState.REFERENCE_COLLISION)
    with pytest.raises(SendRefused, match="needs a retry"):
        send(invoice, accountant, options)

    # Retry looks again and still refuses to link it: never a blind create or link.
    qoyod.requests.clear()
    retry(invoice, accountant, options)
    assert sync_of(invoice).state == SyncState.REFERENCE_COLLISION
    assert qoyod.requests.count(method="POST", path=INVOICES) == 0

    # The accountant renames the other document's reference in Qoyod, as the message says.
    qoyod.company().invoices[theirs.id].reference = "OLD-1"
    assert retry(invoice, accountant, options).ok
    [ours] = drafts(qoyod, invoice)
    assert ours.id != theirs.id
    assert sync_of(invoice).qoyod_invoice_id == ours.id


def test_reference_taken_by_our_own_lost_draft_is_linked(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.faults.drop_next(commit=True, method="POST", path="/invoices")
    send(invoice, accountant, options)
    [lost] = drafts(qoyod, invoice)
    # As if that send had been recorded as failed: the retry creates, Qoyod says taken.
    QoyodInvoiceSync.objects.filter(invoice=invoice).update(state=SyncState.FAILED)
    qoyod.requests.clear()

    result = retry(invoice, accountant, options)

    assert result.ok, result.message
    assert sync_of(invoice).qoyod_invoice_id == lost.id
    assert calls(qoyod) == ["POST /2.0/invoices", "GET /2.0/invoices"]


def test_lookup_after_unknown_outcome_does_not_link_another_document(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    # Dropped before Qoyod saved anything; then someone else used our number in Qoyod.
    qoyod.faults.drop_next(commit=False, method="POST", path="/invoices")
    send(invoice, accountant, options)
    assert sync_of(invoice).state == SyncState.UNKNOWN
    theirs = _foreign_draft(qoyod, invoice.number)

    result = retry(invoice, accountant, options)

    sync = sync_of(invoice)
    assert sync.state == SyncState.REFERENCE_COLLISION, result.message
    assert sync.qoyod_invoice_id is None
    assert f"Qoyod already has invoice id {theirs.id}" in result.message
    assert qoyod.requests.count(method="POST", path=INVOICES) == 0


# ---- item 10: words a garage understands ----------------------------------------------------


def test_refused_customer_create_names_the_step_without_http_reason_phrases(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    # Qoyod's body is only the reason phrase: {"error": "Bad Request"}.
    qoyod.faults.fail_next(status=400, method="POST", path="/customers")

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert sync.state == SyncState.FAILED
    assert "Bad Request" not in result.message
    assert sync.qoyod_message == ""
    assert "creating the customer" in result.message
    assert "invoice" not in sync.get_failure_kind_display().lower()


def test_qoyod_words_about_a_product_are_kept_apart_and_labelled(
    qoyod,  # noqa: F811
    options,  # noqa: F811
    accountant,  # noqa: F811
):
    invoice = make_invoice(services=[factories.ServiceItemFactory(code="WASH-1")])
    qoyod.faults.fail_next(
        status=422, body={"errors": {"cogs_account_id": ["Can't be blank"]}}, method="POST",
        path="/products",
    )  # fmt: skip

    result = send(invoice, accountant, options)

    sync = sync_of(invoice)
    assert sync.qoyod_message == "cogs_account_id: Can't be blank"
    assert sync.reason.startswith("Qoyod refused creating product WASH-1")
    assert "Can't be blank" not in sync.reason
    assert result.message.endswith("Qoyod's message: “cogs_account_id: Can't be blank”")
    assert "invoice" not in sync.get_failure_kind_display().lower()
