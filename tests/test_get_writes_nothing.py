"""A GET never writes: every route is opened with GET by a superuser, with the query log on.

Routes come from the URL resolver, so a new one is covered the day it is added; path arguments
are filled from factory objects. Routes that only take POST answer 405 without touching the
database. Logging in happens before the log starts; a session row the request itself saves
(a flash message, a language choice) is bookkeeping, not a write of ours.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounting.models import StatementUpload
from api.services import apiclient_create
from invoicing.models import Invoice
from invoicing.views.document import SHARE_SALT
from payments.models import QoyodPaymentState
from qoyod_sync.models import QoyodInvoiceSync, ReconciliationRun, SyncState
from tests.accounting_factories import TransactionFactory
from tests.factories import PartLineFactory, PartStockFactory, ServiceItemFactory, UserFactory
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory
from tests.qoyod_factories import QOYOD_STATES, invoice_in_qoyod_state
from tests.routes import named_routes, route_kwargs

pytestmark = pytest.mark.django_db

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
BOOKKEEPING = re.compile(r'\b(INTO|UPDATE|FROM)\s+"?django_session"?', re.I)


# In the admin, the pages that name one object are Django's own forms; its index and every list
# (our filters and list columns among them) are walked.
ROUTES = {
    name: pattern
    for name, pattern in named_routes().items()
    if not (name.startswith("admin:") and pattern.pattern.regex.groupindex)
}


@pytest.fixture
def world():
    line = PartLineFactory()
    PartStockFactory(part=line.spare_part, branch=line.job.branch, quantity=Decimal("5"))
    invoice = InvoiceFactory()
    # Rows that make the Qoyod parts of the pages draw: a managed invoice with a stale payment
    # state (the invoices page once queued it on render), a failed send in the retry queue.
    managed = InvoiceFactory(requires_qoyod=True)
    QoyodInvoiceSync.objects.create(
        invoice=managed, state=SyncState.DRAFT_CREATED, qoyod_invoice_id=7
    )
    Invoice.objects.filter(pk=managed.pk).update(qoyod_managed=True)
    QoyodPaymentState.objects.create(invoice=managed, checked_at=timezone.now().replace(year=2020))
    failed = InvoiceFactory(requires_qoyod=True)
    QoyodInvoiceSync.objects.create(
        invoice=failed, state=SyncState.FAILED, reason_code="sync.retry"
    )
    pk_of = {
        "garage:job": line.job_id,
        "garage:customer": line.job.customer_id,
        "garage:vehicle": line.job.vehicle_id,
        "garage:part": line.spare_part_id,
        "garage:service": ServiceItemFactory().pk,
        "invoicing:invoice": invoice.pk,
        "qoyod_sync:invoice": managed.pk,
        "qoyod_sync:reconciliation": ReconciliationRun.objects.create(
            date_from=invoice.issue_date, date_to=invoice.issue_date
        ).pk,
        "api:invoice": invoice.pk,
        "api:customer": line.job.customer_id,
        "api:webhook": 1,
        "api_clients:client": apiclient_create(
            name="ERP", scopes=["invoices:read"], branch=None, expires_at=None, user=None
        )[0].pk,
    }
    other = {
        "line_pk": line.pk,
        "job_id": CompletedJobFactory().pk,
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "contact_pk": 1,
        "token": signing.dumps(invoice.pk, salt=SHARE_SALT),
        "upload": StatementUpload.objects.create(
            uploaded_by=UserFactory(), encoding="utf-8-sig", delimiter=",", content=b"a,b\n1,2\n"
        ).token,
        # A real receipts page (its transaction exists), and a receipt id it does not have.
        "receipts_token": TransactionFactory().receipts_token,
        "receipt_id": 1,
    }
    return pk_of, other


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_a_get_writes_nothing(name, world, client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = reverse(name, kwargs=route_kwargs(name, ROUTES[name], *world))

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code < 500
    writes = [
        q["sql"] for q in queries if WRITE.match(q["sql"]) and not BOOKKEEPING.search(q["sql"])
    ]
    assert writes == []


def test_the_invoice_list_and_every_invoice_page_write_nothing_in_every_qoyod_state(client):
    # The routes above open one invoice of each kind; these are the Qoyod states a row and an
    # invoice page draw differently (a stale read-back state among them).
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    invoices = [invoice_in_qoyod_state(name) for name in QOYOD_STATES]
    QoyodPaymentState.objects.update(checked_at=timezone.now().replace(year=2020))
    urls = [reverse("invoicing:invoice_list")] + [
        reverse("invoicing:invoice_detail", args=[invoice.pk]) for invoice in invoices
    ]

    with CaptureQueriesContext(connection) as queries:
        statuses = [client.get(url).status_code for url in urls]

    assert statuses == [200] * len(urls)
    writes = [
        q["sql"] for q in queries if WRITE.match(q["sql"]) and not BOOKKEEPING.search(q["sql"])
    ]
    assert writes == []
