"""Deleting the Qoyod draft of a voided invoice is recorded only once a GET confirms it is gone."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from invoicing.services import invoice_void_and_reissue
from qoyod_sync.models import QoyodAttempt, QoyodInvoiceSync
from qoyod_sync.services import invoice_qoyod_draft_delete
from qoyod_sync.status import Action, sync_status
from tests import factories
from tests.qoyod_sync.test_push import (  # noqa: F401  (fixtures)
    drafts,
    http_guard,
    make_invoice,
    options,
    qoyod,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)


def voided_with_draft(qoyod, options):  # noqa: F811
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    send(invoice, None, options)
    [draft] = drafts(qoyod, invoice)
    invoice_void_and_reissue(invoice=invoice, reason="wrong price", user=None)
    invoice.refresh_from_db()
    qoyod.requests.clear()
    return invoice, draft


def test_a_404_to_the_delete_itself_is_not_confirmed_and_the_draft_stays_ours(qoyod, options):  # noqa: F811
    invoice, draft = voided_with_draft(qoyod, options)
    # A tenant without the route (DELETE /invoices/{id} is not in the published YAML).
    qoyod.faults.fail_next(status=404, body={"error": "Not Found"}, method="DELETE")

    with pytest.raises(ValidationError) as refused:
        invoice_qoyod_draft_delete(invoice=invoice, user=None, options=options)

    assert refused.value.messages == [
        f"Qoyod did not confirm that draft {draft.id} was deleted: it still holds it as a "
        "draft. Delete it in Qoyod, or try again."
    ]
    assert draft.id in qoyod.company().invoices
    sync = QoyodInvoiceSync.objects.get(invoice=invoice)
    assert sync.draft_deleted_at is None
    attempt = QoyodAttempt.objects.get(invoice=invoice, step=QoyodAttempt.Step.DELETE)
    assert (attempt.outcome, attempt.http_status, attempt.qoyod_id, attempt.detail_code) == (
        QoyodAttempt.Outcome.UNCONFIRMED, 404, draft.id, "delete.unconfirmed"
    )  # fmt: skip
    assert Action.DELETE_DRAFT in sync_status(invoice, sync).actions
    assert [f"{r.method} {r.path}" for r in qoyod.requests.all()] == [
        f"GET /2.0/invoices/{draft.id}",
        f"DELETE /2.0/invoices/{draft.id}",
        f"GET /2.0/invoices/{draft.id}",
    ]


def test_a_delete_that_answers_ok_but_leaves_the_draft_is_not_confirmed(qoyod, options):  # noqa: F811
    invoice, draft = voided_with_draft(qoyod, options)
    qoyod.faults.fail_next(status=200, body="Invoice destroyed successfully", method="DELETE")

    with pytest.raises(ValidationError):
        invoice_qoyod_draft_delete(invoice=invoice, user=None, options=options)

    assert QoyodInvoiceSync.objects.get(invoice=invoice).draft_deleted_at is None
    attempt = QoyodAttempt.objects.get(invoice=invoice, step=QoyodAttempt.Step.DELETE)
    assert attempt.outcome == QoyodAttempt.Outcome.UNCONFIRMED


def test_a_delete_confirmed_by_a_not_found_get_is_recorded(qoyod, options):  # noqa: F811
    invoice, draft = voided_with_draft(qoyod, options)

    invoice_qoyod_draft_delete(invoice=invoice, user=None, options=options)

    assert draft.id not in qoyod.company().invoices
    assert QoyodInvoiceSync.objects.get(invoice=invoice).draft_deleted_at is not None
    attempt = QoyodAttempt.objects.get(invoice=invoice, step=QoyodAttempt.Step.DELETE)
    assert attempt.outcome == QoyodAttempt.Outcome.OK
    assert [f"{r.method} {r.path}" for r in qoyod.requests.all()] == [
        f"GET /2.0/invoices/{draft.id}",
        f"DELETE /2.0/invoices/{draft.id}",
        f"GET /2.0/invoices/{draft.id}",
    ]
