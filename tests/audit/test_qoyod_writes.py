"""Every Qoyod write and its outcome is audited once: customer, product and invoice creation
in a send, and deleting a voided draft (against the sandbox)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from audit.models import AuditEvent
from invoicing.models import Invoice
from invoicing.services import invoice_void
from qoyod_sync.models import QoyodCustomerLink, QoyodInvoiceSync, QoyodProductLink
from qoyod_sync.services import invoice_qoyod_draft_delete
from tests import factories
from tests.qoyod_sync.test_push import (  # noqa: F401  (fixtures)
    accountant,
    drafts,
    http_guard,
    make_invoice,
    options,
    qoyod,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)

A = AuditEvent.Action


def _rows(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=since, action__startswith="qoyod.").order_by("pk"))


def _mark() -> int:
    last = AuditEvent.objects.order_by("-pk").first()
    return last.pk if last else 0


def _written(row: AuditEvent) -> tuple:
    return (row.action, row.actor_label, row.content_type, row.object_id, row.object_label,
            row.before, row.after)  # fmt: skip


def test_a_send_audits_each_create_with_its_qoyod_id(qoyod, options, accountant):  # noqa: F811
    service = factories.ServiceItemFactory(code="BRK-SVC")
    invoice = make_invoice(services=[service])
    mark = _mark()

    assert send(invoice, accountant, options).ok

    customer_id = QoyodCustomerLink.objects.get().qoyod_id
    product_id = QoyodProductLink.objects.get(service_item=service).qoyod_id
    draft_id = QoyodInvoiceSync.objects.get(invoice=invoice).qoyod_invoice_id
    invoice_type = ContentType.objects.get_for_model(Invoice)

    def ok(target, qoyod_id):
        return {"target": target, "outcome": "ok", "qoyod_id": qoyod_id, "http_status": None,
                "detail_code": ""}  # fmt: skip

    assert [_written(r) for r in _rows(mark)] == [
        (A.QOYOD_CUSTOMER_CREATE, "accountant", invoice_type, str(invoice.pk), invoice.number,
         None, ok(invoice.customer.name, customer_id)),
        (A.QOYOD_PRODUCT_CREATE, "accountant", invoice_type, str(invoice.pk), invoice.number,
         None, ok("BRK-SVC", product_id)),
        (A.QOYOD_INVOICE_CREATE, "accountant", invoice_type, str(invoice.pk), invoice.number,
         None, ok(invoice.number, draft_id)),
    ]  # fmt: skip


def test_a_rejected_invoice_create_is_audited_with_its_outcome(qoyod, options, accountant):  # noqa: F811
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    # Customer and product already in Qoyod: the invoice is the one write of this send.
    assert send(invoice, accountant, options).ok
    again = make_invoice(customer=invoice.customer, services=[invoice.lines.get().service_item])
    qoyod.faults.fail_next(
        status=422, body={"errors": {"reference": ["is invalid"]}}, method="POST", path="/invoices"
    )
    mark = _mark()

    assert not send(again, accountant, options).ok

    [row] = _rows(mark)
    assert (row.action, row.actor_label, row.object_id, row.object_label) == (
        A.QOYOD_INVOICE_CREATE, "accountant", str(again.pk), again.number,
    )  # fmt: skip
    assert row.after == {
        "target": again.number, "outcome": "rejected", "qoyod_id": None, "http_status": 422,
        "detail_code": "qoyod.error.rejected",
    }  # fmt: skip


def test_deleting_a_voided_draft_is_audited_once(qoyod, options, accountant):  # noqa: F811
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    assert send(invoice, accountant, options).ok
    [draft] = drafts(qoyod, invoice)
    invoice = invoice_void(invoice=invoice, reason="Wrong price", user=accountant)
    mark = _mark()

    invoice_qoyod_draft_delete(invoice=invoice, user=accountant, options=options)

    [row] = _rows(mark)
    assert _written(row) == (
        A.QOYOD_DRAFT_DELETE, "accountant", ContentType.objects.get_for_model(Invoice),
        str(invoice.pk), invoice.number, None, {"qoyod_id": draft.id, "outcome": "ok"},
    )  # fmt: skip
