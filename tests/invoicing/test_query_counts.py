"""What the invoice list and the invoice page cost in queries, with rows in every Qoyod state.

Each page reads what it shows with the invoice (the sync row and the read-back state are joined
to it), so the list costs the same for 1 row as for 50 and the invoice page reads each Qoyod row
once.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from core import roles
from invoicing.models import InvoiceEvent, InvoiceStatusChange
from payments.models import Payment
from qoyod_sync.models import (
    QoyodAttempt,
    QoyodConnection,
    QoyodInvoiceSync,
    QoyodStockAdjustment,
    QoyodSyncStateChange,
)
from tests.factories import BranchFactory, UserFactory
from tests.qoyod_factories import QOYOD_STATES, invoice_in_qoyod_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def accountant() -> Client:
    # Who sees every Qoyod part of the pages: Send and Retry, the attempt log, credit notes.
    QoyodConnection.objects.create(
        base_url=settings.QOYOD_BASE_URL, api_key_encrypted="unused", api_key_last4="0001"
    )
    client = Client()
    client.force_login(UserFactory(role=roles.ACCOUNTANT))
    return client


# Session, the user with their permissions (core.auth), the Qoyod connection
# with the retry queue's badge count (the links to Qoyod's drafts); then the rows with their
# sync and read-back rows, whether a credit note credits them and the list's capped count
# (core.paging), the branch filter's choices.
LIST_QUERIES = 5


def test_the_list_costs_the_same_queries_for_one_row_as_for_fifty_in_every_qoyod_state(
    accountant, django_assert_num_queries
):
    url = reverse("invoicing:invoice_list")
    invoice_in_qoyod_state("paid")
    accountant.get(url)

    with django_assert_num_queries(LIST_QUERIES):
        one = accountant.get(url)
    names = list(QOYOD_STATES)
    for n in range(49):
        invoice_in_qoyod_state(names[n % len(names)])
    with django_assert_num_queries(LIST_QUERIES):
        fifty = accountant.get(url)

    assert one.text.count('data-testid="qoyod-cell"') == 1
    assert fifty.text.count('data-testid="qoyod-cell"') == 25
    shown = set(re.findall(r'data-testid="qoyod-cell" data-state="([a-z_]+)"', fifty.text))
    assert shown == {
        "not_required", "ready", "sending", "failed", "unknown", "collision", "draft_created",
    }  # fmt: skip
    standings = set(re.findall(r'data-qoyod-standing="([a-z_]+)"', fifty.text))
    assert standings == {
        "draft", "awaiting_approval", "approved", "partially_paid", "paid", "returned", "deleted",
    }  # fmt: skip


# The three of every page; the invoice; its lines, status changes, events, finance changes,
# payments and credit notes in one (core.rows); the Qoyod panel's attempts, stock adjustments
# and, with a sync row, its state changes in one.
_DETAIL = 6
_SYNCED = _DETAIL
# Once managed, the credited quantities of the credit-note card.
_DRAFT = _SYNCED + 1

DETAIL_QUERIES = {
    "not_required": _DETAIL,
    "ready_never_sent": _DETAIL,
    "ready": _SYNCED,
    "sending": _SYNCED,
    "failed": _SYNCED,
    "unknown": _SYNCED,
    "collision": _SYNCED,
    "draft_not_read": _DRAFT,
    "draft": _DRAFT,
    "awaiting_approval": _DRAFT,
    "approved_total_differs": _DRAFT,
    "partially_paid": _DRAFT,
    "paid": _DRAFT,
    "returned": _DRAFT,
    "refresh_failed": _DRAFT,
    "refreshing": _DRAFT,
    "void_draft_deleted": _DRAFT,
    "void_approved": _DRAFT,
}


@pytest.mark.parametrize("name", list(QOYOD_STATES))
def test_the_invoice_page_reads_each_row_once_in_every_qoyod_state(
    accountant, django_assert_num_queries, name
):
    invoice = invoice_in_qoyod_state(name)
    url = reverse("invoicing:invoice_detail", args=[invoice.pk])
    accountant.get(url)

    with django_assert_num_queries(DETAIL_QUERIES[name]):
        response = accountant.get(url)

    assert response.status_code == 200
    sync = QOYOD_STATES[name][0]
    state = "not_required" if not QOYOD_STATES[name][2] else (sync or {"state": "ready"})["state"]
    assert f'data-testid="qoyod-cell" data-state="{state}"' in response.text


def test_the_invoice_page_costs_the_same_with_twelve_rows_in_every_list_as_with_one(
    accountant, django_assert_num_queries
):
    invoice = invoice_in_qoyod_state("paid")
    sync = QoyodInvoiceSync.objects.get(invoice=invoice)
    clerk = UserFactory(first_name="Noura")
    branch = BranchFactory(name_en="Olaya")
    url = reverse("invoicing:invoice_detail", args=[invoice.pk])

    def add(n: int) -> None:
        InvoiceStatusChange.objects.create(
            invoice=invoice, from_status="issued", to_status="issued", changed_by=clerk,
            note_code="payment.recorded", note_params={"method": "cash", "amount": f"{n}.00"},
        )  # fmt: skip
        InvoiceEvent.objects.create(
            invoice=invoice, kind="emailed", details={"recipient": f"r{n}@example.sa"}
        )
        Payment.objects.create(invoice=invoice, method="cash", amount=n, paid_on=invoice.issue_date,
                               reference=f"REF-{n}", created_by=clerk)  # fmt: skip
        QoyodAttempt.objects.create(
            invoice=invoice, step="lookup", target=f"target-{n}", outcome="found", user=clerk
        )
        QoyodSyncStateChange.objects.create(
            sync=sync, from_state="failed", to_state="ready", reason_code="sync.retry",
            changed_by=clerk,
        )  # fmt: skip
        QoyodStockAdjustment.objects.create(
            branch=branch, invoice=invoice, inventory_id=1, state="done", created_by=clerk,
            lines=[{"sku": f"SKU-{n}", "ours": "1", "qoyod": "0"}],
        )  # fmt: skip

    add(1)
    accountant.get(url)
    with django_assert_num_queries(DETAIL_QUERIES["paid"]):
        one = accountant.get(url)
    for n in range(2, 13):
        add(n)
    with django_assert_num_queries(DETAIL_QUERIES["paid"]):
        twelve = accountant.get(url)

    shown = [
        [text.format(n) in page.text for n in range(1, 13)]
        for page in (one, twelve)
        for text in ("r{}@example.sa", "REF-{}", "target-{}", "SKU-{} 1 / 0")
    ]
    assert shown[:4] == [[True] + [False] * 11] * 4
    assert shown[4:] == [[True] * 12] * 4
    # Who: on the status change, the attempt, the sync's state change and the stock sync.
    assert twelve.text.count("Noura") == 12 * 4
    assert twelve.text.count("Olaya") == 12
