"""Invoices in every state the Qoyod column shows: each sync state and each read-back state.

Rows are written directly, as the send and the read-back would have left them, so the pages can
be drawn in every state without a Qoyod server.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from invoicing.models import Invoice
from payments.models import QoyodPaymentState
from qoyod_sync.models import QoyodInvoiceSync
from tests.invoicing_factories import InvoiceFactory

HOUR = datetime.timedelta(hours=1)
DRAFT = {"state": "draft_created"}

# name: (sync row fields or None for none, read-back state fields or None, requires Qoyod, void)
QOYOD_STATES: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None, bool, bool]] = {
    "not_required": (None, None, False, False),
    "ready_never_sent": (None, None, True, False),
    "ready": ({"state": "ready"}, None, True, False),
    "sending": ({"state": "sending", "lease_until": "later"}, None, True, False),
    "failed": (
        {
            "state": "failed",
            "failure_kind": "rejected",
            "reason_code": "send.rejected",
            "reason_params": {"status": 422},
            "qoyod_message": "reference has already been taken",
        },
        None,
        True,
        False,
    ),
    "unknown": ({"state": "unknown", "reason_code": "qoyod.error.maybe_saved"}, None, True, False),
    "collision": ({"state": "collision"}, None, True, False),
    "draft_not_read": (DRAFT, None, True, False),
    "draft": (DRAFT, {"qoyod_status": "draft"}, True, False),
    "awaiting_approval": (DRAFT, {"qoyod_status": "awaiting_approval"}, True, False),
    "approved_total_differs": (
        {**DRAFT, "total_difference": Decimal("0.01")},
        {"qoyod_status": "approved", "total_difference": Decimal("0.01")},
        True,
        False,
    ),
    "partially_paid": (DRAFT, {"qoyod_status": "partially_paid"}, True, False),
    "paid": (DRAFT, {"qoyod_status": "paid"}, True, False),
    "returned": (DRAFT, {"qoyod_status": "missing"}, True, False),
    "refresh_failed": (
        DRAFT,
        {"qoyod_status": "approved", "last_error_code": "readback.failed"},
        True,
        False,
    ),
    "refreshing": (DRAFT, {"qoyod_status": "draft", "queued_until": "later"}, True, False),
    "void_draft_deleted": ({**DRAFT, "draft_deleted_at": "now"}, None, True, True),
    "void_approved": (DRAFT, {"qoyod_status": "approved"}, True, True),
}


def _when(fields: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    moments = {"now": now, "later": now + HOUR}
    return {key: moments.get(value, value) if isinstance(value, str) else value
            for key, value in fields.items()}  # fmt: skip


def invoice_in_qoyod_state(name: str) -> Invoice:
    """An invoice whose Qoyod column shows state `name` of QOYOD_STATES."""
    sync, payment, requires_qoyod, void = QOYOD_STATES[name]
    invoice = InvoiceFactory(requires_qoyod=requires_qoyod)
    managed = sync is not None and sync["state"] == "draft_created"
    if sync is not None:
        QoyodInvoiceSync.objects.create(
            invoice=invoice, qoyod_invoice_id=9000 + invoice.pk if managed else None, **_when(sync)
        )
    if payment is not None:
        QoyodPaymentState.objects.create(
            invoice=invoice,
            qoyod_total=invoice.total,
            qoyod_paid=Decimal("0"),
            refreshed_at=timezone.now() - HOUR,
            checked_at=timezone.now() - HOUR,
            **_when(payment),
        )
    Invoice.objects.filter(pk=invoice.pk).update(
        qoyod_managed=managed, **({"status": Invoice.Status.VOID} if void else {})
    )
    return invoice
