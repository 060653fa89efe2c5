"""The admin's Retry action sends through the same service as the Retry button."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from qoyod_sync import push
from qoyod_sync.models import QoyodInvoiceSync, QoyodSyncStateChange, SyncState
from tests import factories
from tests.qoyod_sync.test_push import (  # noqa: F401  (fixtures)
    drafts,
    http_guard,
    make_invoice,
    options,
    qoyod,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_admin_retry_action_creates_the_draft_and_records_the_state_change(qoyod):  # noqa: F811
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    customer = factories.CompanyCustomerFactory(vat_number="")
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])
    push.invoice_send_draft(invoice=invoice, user=None)
    customer.vat_number = "300000000000013"
    customer.save()
    sync = QoyodInvoiceSync.objects.get(invoice=invoice)
    assert sync.state == SyncState.FAILED

    response = client.post(
        reverse("admin:qoyod_sync_qoyodinvoicesync_changelist"),
        {"action": "retry", "_selected_action": [sync.pk]},
        follow=True,
    )

    sync.refresh_from_db()
    assert [str(m) for m in response.context["messages"]] == [
        f"Qoyod draft created for {invoice.number} (Qoyod id {sync.qoyod_invoice_id})."
    ]
    assert (sync.state, sync.attempts, sync.last_attempt_by) == (SyncState.DRAFT_CREATED, 2, root)
    assert len(drafts(qoyod, invoice)) == 1
    last = QoyodSyncStateChange.objects.filter(sync=sync).order_by("changed_at", "id").last()
    assert (last.to_state, last.changed_by) == (SyncState.DRAFT_CREATED, root)
