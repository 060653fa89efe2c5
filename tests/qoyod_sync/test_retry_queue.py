"""The Send / Retry buttons, the retry queue page, the attempt log and deleting a voided draft,
through the web pages (the role matrix, htmx row swaps) against the sandbox.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import roles
from invoicing.models import Invoice
from invoicing.services import invoice_void_and_reissue
from qoyod_sync.models import QoyodAttempt, QoyodInvoiceSync, SyncState
from tests import factories
from tests.invoicing_factories import InvoiceFactory
from tests.qoyod_sync.test_push import (  # noqa: F401  (fixtures)
    drafts,
    http_guard,
    make_invoice,
    options,
    qoyod,
)

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = reverse("qoyod_sync:retry_queue")


def client_for(role: str) -> Client:
    client = Client()
    user = factories.UserFactory(username=role.replace(" ", "").lower(), role=role)
    user.first_name = "Noura"
    user.save()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (roles.ADVISOR, False),
        (roles.TECHNICIAN, False),
        (roles.ACCOUNTANT, True),
        (roles.FINANCE_MANAGER, True),
        (roles.ADMIN, True),
    ],
)
def test_send_retry_and_queue_are_for_accountant_finance_and_admin(qoyod, role, allowed):  # noqa: F811
    client = client_for(role)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])

    send = client.post(reverse("qoyod_sync:invoice_send", args=[invoice.pk]))
    queue = client.get(QUEUE)

    assert (send.status_code == 403) is not allowed
    assert (queue.status_code == 403) is not allowed
    assert len(drafts(qoyod, invoice)) == (1 if allowed else 0)
    for name in ("invoice_retry", "invoice_draft_delete"):
        status = client.post(reverse(f"qoyod_sync:{name}", args=[invoice.pk])).status_code
        assert (status == 403) is not allowed
    # A write is POST only, for everyone (the method is checked first).
    assert client.get(reverse("qoyod_sync:invoice_send", args=[invoice.pk])).status_code == 405


def test_send_from_the_list_swaps_the_row_to_show_the_draft(qoyod):  # noqa: F811
    client = client_for(roles.ACCOUNTANT)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    page = client.get(reverse("invoicing:invoice_list")).text
    assert 'data-testid="qoyod-send"' in page
    assert f'hx-target="#invoice-row-{invoice.pk}"' in page

    response = client.post(
        reverse("qoyod_sync:invoice_send", args=[invoice.pk]), HTTP_HX_REQUEST="true"
    )

    [draft] = drafts(qoyod, invoice)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="invoice-row-{invoice.pk}"')
    assert "Qoyod draft created" in response.text
    assert f"Qoyod id {draft.id}" in response.text
    assert 'data-testid="qoyod-send"' not in response.text


def test_double_click_gets_a_clear_refusal_not_a_second_draft(qoyod):  # noqa: F811
    client = client_for(roles.ACCOUNTANT)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    url = reverse("qoyod_sync:invoice_send", args=[invoice.pk])

    client.post(url, HTTP_HX_REQUEST="true")
    again = client.post(url, HTTP_HX_REQUEST="true")

    assert "already has a draft in Qoyod" in again.text
    assert len(drafts(qoyod, invoice)) == 1


def test_failed_invoice_is_in_the_queue_with_reason_attempts_and_who_then_retry(qoyod):  # noqa: F811
    client = client_for(roles.ACCOUNTANT)
    customer = factories.CompanyCustomerFactory(vat_number="")
    invoice = make_invoice(customer=customer, services=[factories.ServiceItemFactory()])
    client.post(reverse("qoyod_sync:invoice_send", args=[invoice.pk]))

    queue = client.get(QUEUE).text

    assert invoice.number in queue
    assert "Customer details missing" in queue and "VAT number" in queue
    assert reverse("garage:customer_edit", args=[customer.pk]) in queue  # the fix
    assert "Noura" in queue
    row = client.get(reverse("invoicing:invoice_list")).text
    assert "Qoyod sync failed" in row and 'data-testid="qoyod-retry"' in row

    customer.vat_number = "300000000000013"
    customer.save()
    response = client.post(
        reverse("qoyod_sync:invoice_retry", args=[invoice.pk]), {"next": QUEUE}, follow=True
    )

    assert response.redirect_chain[-1][0] == QUEUE
    assert "Qoyod draft created" in response.text
    assert invoice.number not in response.text.split("retry-queue")[-1]
    assert QoyodInvoiceSync.objects.get(invoice=invoice).attempts == 2
    assert len(drafts(qoyod, invoice)) == 1


def test_unknown_outcome_row_says_may_already_exist(qoyod):  # noqa: F811
    client = client_for(roles.ACCOUNTANT)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.faults.drop_next(commit=True, method="POST", path="/invoices")
    client.post(reverse("qoyod_sync:invoice_send", args=[invoice.pk]))

    assert "May already exist in Qoyod" in client.get(reverse("invoicing:invoice_list")).text
    assert "May already exist in Qoyod" in client.get(QUEUE).text


def test_invoice_page_shows_the_attempt_log_without_the_key(qoyod):  # noqa: F811
    client = client_for(roles.ACCOUNTANT)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    qoyod.faults.fail_next(status=422, method="POST", path="/invoices",
                           body={"errors": {"tax_percent": ["is invalid"]}})  # fmt: skip
    client.post(reverse("qoyod_sync:invoice_send", args=[invoice.pk]))

    page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).text

    assert 'data-testid="qoyod-attempts"' in page
    assert "Create customer" in page and "Create draft invoice" in page
    assert "tax_percent: is invalid" in page
    assert "Qoyod rejected the VAT data" in page
    assert qoyod.base_url not in page and "sandbox-test-key" not in page


def test_advisor_sees_the_state_but_no_buttons_or_log(qoyod):  # noqa: F811
    client = client_for(roles.ADVISOR)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])

    page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).text

    assert "Ready to send" in page
    assert 'data-testid="qoyod-send"' not in page
    assert 'data-testid="qoyod-panel"' not in page


def test_void_and_reissue_offers_to_delete_the_old_draft_and_the_replacement_is_sent(qoyod):  # noqa: F811
    client = client_for(roles.ACCOUNTANT)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    client.post(reverse("qoyod_sync:invoice_send", args=[invoice.pk]))
    [old_draft] = drafts(qoyod, invoice)
    replacement = invoice_void_and_reissue(invoice=invoice, reason="wrong price", user=None)

    page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).text
    assert 'data-testid="qoyod-delete-draft"' in page
    client.post(reverse("qoyod_sync:invoice_draft_delete", args=[invoice.pk]))
    client.post(reverse("qoyod_sync:invoice_send", args=[replacement.pk]))

    assert old_draft.id not in qoyod.company().invoices
    assert QoyodInvoiceSync.objects.get(invoice=invoice).draft_deleted_at is not None
    assert len(drafts(qoyod, replacement)) == 1
    page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).text
    assert 'data-testid="qoyod-delete-draft"' not in page


def test_an_approved_draft_is_not_deleted(qoyod):  # noqa: F811
    client = client_for(roles.ACCOUNTANT)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    client.post(reverse("qoyod_sync:invoice_send", args=[invoice.pk]))
    [draft] = drafts(qoyod, invoice)
    qoyod.act("invoices", draft.id, "approve")
    invoice_void_and_reissue(invoice=invoice, reason="wrong price", user=None)

    response = client.post(
        reverse("qoyod_sync:invoice_draft_delete", args=[invoice.pk]), follow=True
    )

    assert "not a draft" in response.text
    assert draft.id in qoyod.company().invoices


def test_a_draft_already_gone_from_qoyod_is_logged_as_absent_without_our_words(qoyod):  # noqa: F811
    client = client_for(roles.ACCOUNTANT)
    invoice = make_invoice(services=[factories.ServiceItemFactory()])
    client.post(reverse("qoyod_sync:invoice_send", args=[invoice.pk]))
    [draft] = drafts(qoyod, invoice)
    qoyod.act("invoices", draft.id, "delete")
    invoice_void_and_reissue(invoice=invoice, reason="wrong price", user=None)

    client.post(reverse("qoyod_sync:invoice_draft_delete", args=[invoice.pk]))

    attempt = QoyodAttempt.objects.get(invoice=invoice, step=QoyodAttempt.Step.DELETE)
    assert (attempt.outcome, attempt.message, attempt.qoyod_id) == (
        QoyodAttempt.Outcome.ABSENT, "", draft.id
    )  # fmt: skip
    assert QoyodInvoiceSync.objects.get(invoice=invoice).draft_deleted_at is not None


@pytest.mark.parametrize("rows", [1, 50])
def test_invoice_list_query_count_does_not_grow_with_qoyod_cells(
    rows, django_assert_max_num_queries
):
    client = client_for(roles.ACCOUNTANT)
    invoices = [InvoiceFactory(requires_qoyod=True) for _ in range(rows)]
    QoyodInvoiceSync.objects.create(
        invoice=invoices[0],
        state=SyncState.FAILED,
        reason_code="legacy",
        reason_params={"text": "x"},
    )

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("invoicing:invoice_list")).status_code == 200

    assert len(queries) <= 12, [q["sql"] for q in queries.captured_queries]
    assert Invoice.objects.count() == rows
