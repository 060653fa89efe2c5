"""Twenty people clicking Send on the same invoice at the same instant: one draft, ever.

PostgreSQL only (real row-level concurrency), threads behind a barrier, and the sandbox's own
count of POST /invoices as the judge (design.md §8).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from invoicing.models import Invoice
from qoyod_sync.models import QoyodCustomerLink, QoyodInvoiceSync, SyncState
from qoyod_sync.push import SendRefused, invoice_send_draft
from tests import factories

# The connected-garage fixtures (with the no-transaction-during-HTTP guard) are shared.
from tests.qoyod_sync.test_push import http_guard, make_invoice, options, qoyod  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
REPETITIONS = 20


def _click_together(invoice, users, client_options) -> tuple[list[str], list[BaseException]]:
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def click(user) -> None:
        try:
            # Each click is its own request, with its own copy of the invoice.
            mine = Invoice.objects.get(pk=invoice.pk)
            barrier.wait(timeout=30)
            try:
                result = invoice_send_draft(invoice=mine, user=user, options=client_options)
                outcome = "sent" if result.ok else f"not sent: {result.message}"
            except SendRefused as exc:
                outcome = exc.messages[0]
            with lock:
                outcomes.append(outcome)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            with lock:
                errors.append(exc)
        finally:
            # Each thread opened its own database connection; leave none behind for teardown.
            connection.close()

    threads = [threading.Thread(target=click, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes, errors


def test_twenty_simultaneous_sends_create_exactly_one_draft(require_postgres, qoyod, options):  # noqa: F811
    users = [factories.UserFactory(username=f"clerk{i}", role="Accountant") for i in range(THREADS)]
    customer = factories.CustomerFactory()
    service = factories.ServiceItemFactory()
    for repetition in range(REPETITIONS):
        invoice = make_invoice(customer=customer, services=[service])
        qoyod.requests.clear()

        outcomes, errors = _click_together(invoice, users, options)

        assert errors == [], f"repetition {repetition}"
        assert len(outcomes) == THREADS
        assert outcomes.count("sent") == 1, (repetition, outcomes)
        assert all(o == "sent" or "already" in o for o in outcomes), (repetition, outcomes)
        assert qoyod.requests.count(method="POST", path="/2.0/invoices") == 1, repetition
        sync = QoyodInvoiceSync.objects.get(invoice=invoice)
        assert (sync.state, sync.attempts) == (SyncState.DRAFT_CREATED, 1)
    assert len(qoyod.company().invoices) == REPETITIONS
    assert len(qoyod.company().customers) == 1


def test_two_users_sending_invoices_of_one_new_customer_create_it_once(
    require_postgres,
    qoyod,  # noqa: F811
    options,  # noqa: F811
):
    users = [factories.UserFactory(username=f"cashier{i}", role="Accountant") for i in range(2)]
    service = factories.ServiceItemFactory()
    for repetition in range(REPETITIONS):
        customer = factories.CustomerFactory(name_en=f"New customer {repetition}")
        invoices = [make_invoice(customer=customer, services=[service]) for _ in users]

        outcomes, errors = _click_apart(invoices, users, options)

        assert errors == [], f"repetition {repetition}"
        named = [c for c in qoyod.company().customers.values() if c.name == customer.name_en]
        assert len(named) == 1, (repetition, outcomes)
        assert "sent" in outcomes, (repetition, outcomes)
        assert all(o == "sent" or "another send is creating this customer" in o
                   for o in outcomes), (repetition, outcomes)  # fmt: skip
        link = QoyodCustomerLink.objects.get(customer=customer)
        assert link.qoyod_id == named[0].id
    assert qoyod.requests.count(method="POST", path="/2.0/customers") == REPETITIONS


def _click_apart(invoices, users, client_options) -> tuple[list[str], list[BaseException]]:
    """Each user sends their own invoice, all at the same instant."""
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def click(invoice, user) -> None:
        try:
            mine = Invoice.objects.get(pk=invoice.pk)
            barrier.wait(timeout=30)
            result = invoice_send_draft(invoice=mine, user=user, options=client_options)
            with lock:
                outcomes.append("sent" if result.ok else result.message)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=click, args=pair) for pair in zip(invoices, users, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes, errors
