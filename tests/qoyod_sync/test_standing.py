"""Qoyod's own state of an invoice's draft: every Qoyod status × local status gives exactly one
badge and the next step below; the row shows that one badge (never "draft created", "draft
deleted" and "In Qoyod: Draft" together) with an Open in Qoyod link, and the invoice page says
when it was read and what to do next."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core import roles
from invoicing.models import Invoice
from invoicing.services import invoice_void
from payments.models import QoyodPaymentState, QoyodStatus
from qoyod_sync.credit import credit_refusal
from qoyod_sync.models import (
    QoyodConnection,
    QoyodCreditNote,
    QoyodInvoiceSync,
    ReconciliationFinding,
    SyncState,
)
from qoyod_sync.readback import fetch
from qoyod_sync.reconcile import reconciliation_run
from qoyod_sync.sandbox import notes
from qoyod_sync.sandbox.records import ApiError
from qoyod_sync.status import Action, qoyod_standing, sync_status
from tests.factories import UserFactory
from tests.invoicing_factories import InvoiceFactory
from tests.qoyod_sync.refresh_helpers import connect, managed_invoice, qoyod_id

pytestmark = pytest.mark.django_db

APPROVE = "The accountant approves it in Qoyod."
DELETE_OLD = "This invoice is void here: delete its old draft in Qoyod."
AWAIT = "It waits in Qoyod's approval workflow: an approver approves it there."
PAY = "Record the customer's payment in Qoyod when it comes."
REST = "Record the rest of the payment in Qoyod when it comes."
DONE = "Nothing to do: it is paid in full in Qoyod."
CREDIT = (
    "This invoice is void here but approved in Qoyod: the accountant issues a credit note "
    "against it in Qoyod."
)
RETURNED = (
    "The draft was deleted in Qoyod instead of being approved. Check with the accountant, "
    "then void and reissue."
)
GONE = "The old draft was deleted in Qoyod; nothing to do there."

# Qoyod's status as read back ("" = never read) -> local status -> (code, label, next step).
EXPECTED = {
    "": {
        "issued": ("draft", "Draft", APPROVE),
        "paid": ("draft", "Draft", APPROVE),
        "void": ("draft", "Draft", DELETE_OLD),
    },
    QoyodStatus.DRAFT: {
        "issued": ("draft", "Draft", APPROVE),
        "paid": ("draft", "Draft", APPROVE),
        "void": ("draft", "Draft", DELETE_OLD),
    },
    QoyodStatus.AWAITING_APPROVAL: {
        "issued": ("awaiting_approval", "Awaiting approval", AWAIT),
        "paid": ("awaiting_approval", "Awaiting approval", AWAIT),
        "void": ("awaiting_approval", "Awaiting approval", DELETE_OLD),
    },
    QoyodStatus.APPROVED: {
        "issued": ("approved", "Approved (unpaid)", PAY),
        "paid": ("approved", "Approved (unpaid)", PAY),
        "void": ("approved", "Approved (unpaid)", CREDIT),
    },
    QoyodStatus.PARTIALLY_PAID: {
        "issued": ("partially_paid", "Partially paid", REST),
        "paid": ("partially_paid", "Partially paid", REST),
        "void": ("partially_paid", "Partially paid", CREDIT),
    },
    QoyodStatus.PAID: {
        "issued": ("paid", "Paid", DONE),
        "paid": ("paid", "Paid", DONE),
        "void": ("paid", "Paid", CREDIT),
    },
    QoyodStatus.MISSING: {
        "issued": ("returned", "Returned by accounting", RETURNED),
        "paid": ("returned", "Returned by accounting", RETURNED),
        "void": ("returned", "Returned by accounting", RETURNED),
    },
}
TABLE = [
    pytest.param(qoyod, local, id=f"{qoyod or 'unread'}-{local}")
    for qoyod in EXPECTED
    for local in ("issued", "paid", "void")
]


def _unsaved(local: str, *, state: str = SyncState.DRAFT_CREATED, deleted: bool = False):
    invoice = Invoice(number="INV-2026-000001", status=local, requires_qoyod=True,
                      qoyod_managed=state == SyncState.DRAFT_CREATED)  # fmt: skip
    sync = QoyodInvoiceSync(invoice=invoice, state=state, qoyod_invoice_id=41,
                            draft_deleted_at=timezone.now() if deleted else None)  # fmt: skip
    return invoice, sync


@pytest.mark.parametrize(("qoyod", "local"), TABLE)
def test_every_qoyod_status_and_local_status_gives_one_badge_and_its_next_step(qoyod, local):
    invoice, sync = _unsaved(local)
    payment = QoyodPaymentState(invoice=invoice, qoyod_status=qoyod) if qoyod else None

    got = qoyod_standing(invoice, sync, payment)

    assert (got.code, got.label, got.next_step) == EXPECTED[qoyod][local]


@pytest.mark.parametrize("qoyod", ["", QoyodStatus.DRAFT, QoyodStatus.MISSING])
def test_a_draft_we_deleted_is_deleted_in_qoyod_whatever_was_read_before(qoyod):
    invoice, sync = _unsaved("void", deleted=True)
    payment = QoyodPaymentState(invoice=invoice, qoyod_status=qoyod) if qoyod else None

    got = qoyod_standing(invoice, sync, payment)

    assert (got.code, got.label, got.next_step) == ("deleted", "Deleted in Qoyod", GONE)


@pytest.mark.parametrize(
    "state", [SyncState.READY, SyncState.SENDING, SyncState.FAILED, SyncState.UNKNOWN]
)
def test_no_qoyod_badge_before_there_is_a_draft(state):
    invoice, sync = _unsaved("issued", state=state)

    assert qoyod_standing(invoice, sync, None) is None


def _managed(*, status: str, qoyod: str, deleted: bool = False) -> Invoice:
    invoice = InvoiceFactory(requires_qoyod=True)
    Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=True, status=status)
    QoyodInvoiceSync.objects.create(
        invoice=invoice, state=SyncState.DRAFT_CREATED, qoyod_invoice_id=77,
        draft_deleted_at=timezone.now() if deleted else None,
    )  # fmt: skip
    if qoyod:
        QoyodPaymentState.objects.create(
            invoice=invoice, qoyod_status=qoyod, qoyod_total=invoice.total,
            qoyod_paid=Decimal("0.00"), qoyod_due=invoice.total, refreshed_at=timezone.now(),
        )  # fmt: skip
    return invoice


def _connect(base_url: str) -> None:
    QoyodConnection.objects.create(base_url=base_url)


def test_a_voided_row_whose_draft_was_deleted_shows_one_qoyod_badge(client):
    client.force_login(UserFactory(role=roles.ADVISOR))
    _connect("http://127.0.0.1:8765/2.0")
    invoice = _managed(status=Invoice.Status.VOID, qoyod=QoyodStatus.DRAFT, deleted=True)

    html = client.get(reverse("invoicing:invoice_list")).content.decode()

    row = html[html.index(f'id="invoice-row-{invoice.pk}"') :]
    row = row[: row.index("</tr>")]
    assert row.count('data-qoyod-standing="') == 1
    assert 'data-qoyod-standing="deleted"' in row
    assert "Deleted in Qoyod" in row
    assert "Qoyod draft created" not in row and "In Qoyod: Draft" not in row


def test_the_row_links_the_qoyod_id_to_qoyod(client, settings):
    settings.QOYOD_WEB_INVOICE_URL = "https://www.qoyod.com/invoices/{id}"
    client.force_login(UserFactory(role=roles.ADVISOR))
    _connect(settings.QOYOD_BASE_URL)
    invoice = _managed(status=Invoice.Status.ISSUED, qoyod=QoyodStatus.APPROVED)

    html = client.get(reverse("invoicing:invoice_list")).content.decode()

    assert 'href="https://www.qoyod.com/invoices/77"' in html
    assert "In Qoyod: Approved (unpaid)" in html
    assert invoice.number in html


def test_the_sandbox_link_lands_on_the_sandbox_row():
    connection = QoyodConnection(base_url="http://127.0.0.1:8765/2.0")

    assert connection.invoice_url(77) == "http://127.0.0.1:8765/_sandbox/#invoice-77"


def test_the_invoice_page_says_what_to_do_next(client):
    client.force_login(UserFactory(role=roles.ACCOUNTANT))
    _connect("http://127.0.0.1:8765/2.0")
    invoice = _managed(status=Invoice.Status.ISSUED, qoyod=QoyodStatus.PARTIALLY_PAID)

    html = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()

    panel = html[html.index('data-testid="qoyod-next-step"') :]
    panel = panel[: panel.index("</p>")]
    assert "Qoyod invoice id 77." in panel
    assert "Read from Qoyod" in panel
    assert f"Next step:</strong> {REST}" in panel
    assert 'href="http://127.0.0.1:8765/_sandbox/#invoice-77"' in panel


def test_the_badge_follows_qoyod_from_draft_to_awaiting_to_approved_to_paid(client, qoyod_sandbox):
    connect(qoyod_sandbox)
    client.force_login(UserFactory(role=roles.ADVISOR))
    invoice = managed_invoice(qoyod_sandbox)
    remote = qoyod_id(invoice)
    seen = []
    for action in (None, "submit", "approve", "payments"):
        if action:
            qoyod_sandbox.act("invoices", remote, action)
        fetch.invoices_refresh(invoice_ids=[invoice.pk])
        html = client.get(reverse("invoicing:invoice_list")).content.decode()
        seen.append(re.search(r'data-qoyod-standing="(\w+)"[^>]*>([^<]+)<', html).groups())

    assert seen == [
        ("draft", "In Qoyod: Draft"),
        ("awaiting_approval", "In Qoyod: Awaiting approval"),
        ("approved", "In Qoyod: Approved (unpaid)"),
        ("paid", "In Qoyod: Paid"),
    ]


def test_the_sandbox_refuses_to_submit_an_invoice_twice(qoyod_sandbox):
    connect(qoyod_sandbox)
    invoice = managed_invoice(qoyod_sandbox)
    qoyod_sandbox.act("invoices", qoyod_id(invoice), "submit")

    with pytest.raises(ApiError) as refused:
        qoyod_sandbox.act("invoices", qoyod_id(invoice), "submit")

    assert (refused.value.status, refused.value.body) == (
        422,
        {"errors": "Not update other than draft"},
    )


@pytest.mark.parametrize(
    ("qoyod", "offered"), [(QoyodStatus.DRAFT, True), (QoyodStatus.APPROVED, False),
                           (QoyodStatus.PAID, False)],
)  # fmt: skip
def test_a_void_invoices_old_draft_is_offered_for_deletion_only_while_qoyod_holds_a_draft(
    qoyod, offered
):
    invoice = Invoice.objects.get(pk=_managed(status=Invoice.Status.VOID, qoyod=qoyod).pk)

    refusal = sync_status(invoice, invoice.qoyod_sync).refusal(Action.DELETE_DRAFT)

    expected = None if offered else (
        f"Qoyod has approved {invoice.number}, so it cannot be deleted there: a credit note "
        "corrects it."
    )  # fmt: skip
    assert refusal == expected


CREDITED = "Nothing to do: credit notes cover it in full in Qoyod."
VOID_TO_MATCH = (
    "Credit notes cancelled it in full in Qoyod, but it is not void here: void it here to match "
    "(no credit note is made again)."
)


@pytest.mark.parametrize(
    ("local", "credited", "expected"),
    [
        ("issued", Decimal("115.00"), ("credited", "Credited", VOID_TO_MATCH)),
        ("paid", Decimal("115.00"), ("credited", "Credited", VOID_TO_MATCH)),
        ("void", Decimal("115.00"), ("credited", "Credited", CREDITED)),
        ("paid", Decimal("15.00"), ("paid", "Paid", DONE)),
        ("paid", Decimal("0.00"), ("paid", "Paid", DONE)),
        ("paid", None, ("paid", "Paid", DONE)),
    ],
)
def test_a_paid_invoice_that_credit_notes_settled_in_full_reads_credited(local, credited, expected):
    invoice, sync = _unsaved(local)
    payment = QoyodPaymentState(invoice=invoice, qoyod_status=QoyodStatus.PAID,
                                qoyod_total=Decimal("115.00"), qoyod_paid=Decimal("115.00"),
                                qoyod_credited=credited)  # fmt: skip

    got = qoyod_standing(invoice, sync, payment)

    assert (got.code, got.label, got.next_step) == expected


def _credit_in_qoyod(sandbox, remote: int, *, reference: str) -> int:
    """The accountant credits the whole invoice in Qoyod and uses the note on it."""
    company = sandbox.company()
    with company.lock:
        parent = company.invoices[remote]
        note = notes.create_note(
            company,
            {
                "contact_id": parent.contact_id,
                "parent_id": remote,
                "reference": reference,
                "issuance_reason": "Wrong part",
                "issue_date": timezone.localdate().isoformat(),
                "line_items": [
                    {"product_id": line.product_id, "quantity": str(line.quantity),
                     "unit_price": str(line.inclusive_unit_price or line.unit_price),
                     "tax_percent": str(line.tax_percent), "is_inclusive": line.is_inclusive}
                    for line in parent.lines
                ],
            },
        )  # fmt: skip
    sandbox.act("credit_notes", note.id, "approve")
    sandbox.act("credit_notes", note.id, "use")
    return note.id


def test_an_invoice_credited_in_qoyod_is_status_drift_until_it_is_void_here(client, qoyod_sandbox):
    connect(qoyod_sandbox)
    invoice = managed_invoice(qoyod_sandbox)
    remote = qoyod_id(invoice)
    qoyod_sandbox.act("invoices", remote, "approve")
    # The accountant's own note in Qoyod, under Qoyod's numbering: not one of ours.
    _credit_in_qoyod(qoyod_sandbox, remote, reference="CN-0001")
    fetch.invoices_refresh(invoice_ids=[invoice.pk])
    invoice = Invoice.objects.get(pk=invoice.pk)
    today = timezone.localdate()

    run = reconciliation_run(date_from=today, date_to=today, reader=qoyod_sandbox.reader())

    assert invoice.status == Invoice.Status.PAID
    assert (run.invoices, run.drift, run.orphans, run.findings.count()) == (1, 1, 0, 1)
    [drift] = run.findings.filter(kind=ReconciliationFinding.Kind.STATUS_DRIFT)
    assert (drift.invoice_id, drift.qoyod_ids, drift.advice) == (
        invoice.pk, [remote],
        f"{invoice.number} is credited in full in Qoyod ({invoice.total} SAR) but not void "
        "here: void it here to match.",
    )  # fmt: skip
    assert credit_refusal(invoice) == (
        f"Credit notes in Qoyod cover {invoice.number} in full already: void it here instead."
    )
    assert invoice.void_refusal() is None
    client.force_login(UserFactory(role=roles.ACCOUNTANT))
    page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()
    assert f"Next step:</strong> {VOID_TO_MATCH}" in page
    assert 'data-testid="credit-and-reissue"' not in page

    invoice_void(invoice=invoice, reason="Credited in Qoyod", user=None)
    again = reconciliation_run(date_from=today, date_to=today, reader=qoyod_sandbox.reader())

    assert (again.invoices, again.drift) == (0, 0)
    assert QoyodCreditNote.objects.count() == 0


def test_a_qoyod_credit_note_with_our_number_pattern_we_never_issued_is_an_orphan(qoyod_sandbox):
    connect(qoyod_sandbox)
    invoice = managed_invoice(qoyod_sandbox)
    remote = qoyod_id(invoice)
    qoyod_sandbox.act("invoices", remote, "approve")
    stranger = _credit_in_qoyod(qoyod_sandbox, remote, reference="CRN-2026-999999")
    today = timezone.localdate()

    run = reconciliation_run(date_from=today, date_to=today, reader=qoyod_sandbox.reader())

    [orphan] = run.findings.filter(kind=ReconciliationFinding.Kind.CREDIT_NOTE_ORPHAN)
    assert (orphan.reference, orphan.qoyod_ids, orphan.advice) == (
        "CRN-2026-999999", [stranger],
        "Qoyod has credit note CRN-2026-999999, which this app never issued: check who made it "
        "in Qoyod.",
    )  # fmt: skip
    assert run.orphans == 1


def test_a_credit_note_used_on_the_invoice_in_qoyod_reads_back_as_credited(client, qoyod_sandbox):
    connect(qoyod_sandbox)
    client.force_login(UserFactory(role=roles.ADVISOR))
    invoice = managed_invoice(qoyod_sandbox)
    remote = qoyod_id(invoice)
    qoyod_sandbox.act("invoices", remote, "approve")
    _credit_in_qoyod(qoyod_sandbox, remote, reference="CRN-2026-000001")

    fetch.invoices_refresh(invoice_ids=[invoice.pk])

    state = QoyodPaymentState.objects.get(invoice=invoice)
    assert (state.qoyod_status, state.qoyod_paid, state.qoyod_credited) == (
        QoyodStatus.PAID,
        invoice.total,
        invoice.total,
    )
    html = client.get(reverse("invoicing:invoice_list")).content.decode()
    assert re.search(r'data-qoyod-standing="(\w+)"[^>]*>([^<]+)<', html).groups() == (
        "credited",
        "In Qoyod: Credited",
    )
