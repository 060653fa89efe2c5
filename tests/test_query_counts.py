"""What each list page, and each page of one record with a list on it, costs in queries.

Every page is drawn with one row and with fifty (rows in every Qoyod state where the page shows
Qoyod's), and costs the same: the rows are read with what they show, never one query per row.
The invoice list and the invoice page have their own file (tests/invoicing/test_query_counts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounting.models import AccountingSettings, Transaction
from core import roles
from qoyod_sync.models import QoyodConnection, ReconciliationFinding, ReconciliationRun
from tests.accounting_factories import TransactionFactory
from tests.factories import (
    BranchFactory,
    CustomerFactory,
    JobCardFactory,
    PartStockFactory,
    ServiceItemFactory,
    ServiceLineFactory,
    SparePartFactory,
    UserFactory,
    VehicleFactory,
)
from tests.invoicing_factories import CompletedJobFactory
from tests.qoyod_factories import invoice_in_qoyod_state

pytestmark = pytest.mark.django_db

S = Transaction.SyncState
# The Qoyod states a transaction row shows, cycled over the rows.
TRANSACTION_STATES: list[dict[str, Any]] = [
    {"state": S.NOT_SYNCED},
    {"state": S.FAILED, "reason_code": "journal.rejected", "qoyod_message": "account closed"},
    {"state": S.UNKNOWN, "reason_code": "qoyod.error.maybe_saved"},
    {"state": S.SENDING, "lease_until": timezone.now() + timedelta(hours=1)},
    {"state": S.SYNCED, "qoyod_entry_id": 700, "qoyod_entry_status": "Approved"},
    {"state": S.SYNCED, "qoyod_entry_id": 701, "qoyod_document": "simple_bill"},
]
FINDING_KINDS = [
    ReconciliationFinding.Kind.MISSING,
    ReconciliationFinding.Kind.TOTAL_DRIFT,
    ReconciliationFinding.Kind.JOURNAL_MISSING,
    ReconciliationFinding.Kind.BILL_DRIFT,
    ReconciliationFinding.Kind.ORPHAN,
]


@dataclass
class Page:
    # Makes the page's record, if it has one, and returns the page's URL.
    url: Callable[[], str]
    # Adds the page's n-th row (n from 0) and returns a text the row shows.
    row: Callable[[int], str]
    queries: int
    # How many of fifty rows the page shows (its page size, or the tab the rows fall in).
    shown: int
    role: str = roles.ADMIN


def _transaction(n: int, *, verified: bool) -> str:
    row = TransactionFactory(
        **TRANSACTION_STATES[n % len(TRANSACTION_STATES)],
        verified_at=timezone.now() if verified else None,
    )
    return row.number


def _reconciliation_run() -> str:
    ReconciliationRun.objects.create(
        date_from=date(2026, 11, 1), date_to=date(2026, 11, 30), finished_at=timezone.now()
    )
    return reverse("qoyod_sync:reconciliation")


def _finding(n: int) -> str:
    invoice = invoice_in_qoyod_state("paid")
    ReconciliationFinding.objects.create(
        run=ReconciliationRun.objects.get(),
        kind=FINDING_KINDS[n % len(FINDING_KINDS)],
        invoice=invoice,
        qoyod_ids=[9000 + n],
        reference=invoice.number,
        code="reconcile.missing",
    )
    return invoice.number


_record: dict[str, Any] = {}


def _keep(name: str, value: Any, url: str) -> str:
    _record[name] = value
    return url


# The parts of every page: session, the user with their permissions (core.auth), the Qoyod
# connection with the retry queue's badge count.
EVERY = 3

PAGES: dict[str, Page] = {
    # The jobs with their capped count (core.paging reads it with the rows).
    "needs invoice": Page(
        lambda: reverse("invoicing:needs_invoice"),
        lambda n: CompletedJobFactory().number,
        EVERY + 1,
        25,
    ),
    # The rows with their capped count, the branch filter's choices.
    "jobs": Page(
        lambda: reverse("garage:job_list"), lambda n: JobCardFactory().number, EVERY + 2, 25
    ),
    "customers": Page(
        lambda: reverse("garage:customer_list"), lambda n: CustomerFactory().name_en, EVERY + 1, 25
    ),
    "vehicles": Page(
        lambda: reverse("garage:vehicle_list"),
        lambda n: VehicleFactory().plate_number,
        EVERY + 1,
        25,
    ),
    # The parts with the capped count, their stock rows, the branches (the stock columns and the
    # filter's choices).
    "parts": Page(
        lambda: reverse("garage:part_list"), lambda n: PartStockFactory().part.sku, EVERY + 4, 25
    ),
    "services": Page(
        lambda: reverse("garage:service_list"), lambda n: ServiceItemFactory().code, EVERY + 1, 25
    ),
    "retry queue": Page(
        lambda: reverse("qoyod_sync:retry_queue"),
        lambda n: invoice_in_qoyod_state(("failed", "unknown", "collision")[n % 3]).number,
        EVERY + 1,
        50,
        roles.ACCOUNTANT,
    ),
    # The four tabs' capped counts in one query, the rows, the filter's and the bulk assign's
    # choices (branches, budgets, employees, accounts) in one (core.forms.choices_read).
    "transactions": Page(
        lambda: reverse("accounting:transaction_list"),
        lambda n: _transaction(n, verified=False),
        EVERY + 3,
        50,
    ),
    # With the sync panel and the pre-flight of the rows waiting to be sent: the settings (with
    # the last entry's approval status) and the branches' source accounts and warehouses.
    "transactions verified": Page(
        lambda: reverse("accounting:transaction_list") + "?tab=verified",
        lambda n: _transaction(n, verified=True),
        EVERY + 5,
        50,
    ),
    # The last run, its findings with their invoices.
    "reconciliation": Page(_reconciliation_run, _finding, EVERY + 2, 30, roles.ACCOUNTANT),
    # The customer, their vehicles, their last jobs.
    "customer page": Page(
        lambda: _keep(
            "customer", c := CustomerFactory(), reverse("garage:customer_detail", args=[c.pk])
        ),
        lambda n: JobCardFactory(customer=_record["customer"]).number,
        EVERY + 3,
        20,
    ),
    # The job, its lines, the line form's services and parts, the job's costs.
    "job page": Page(
        lambda: _keep("job", j := JobCardFactory(), reverse("garage:job_detail", args=[j.pk])),
        lambda n: ServiceLineFactory(job=_record["job"]).description,
        EVERY + 5,
        50,
    ),
    # The part, its stock by branch, its movements, the receive form's branches.
    "part page": Page(
        lambda: _keep("part", p := SparePartFactory(), reverse("garage:part_detail", args=[p.pk])),
        lambda n: PartStockFactory(part=_record["part"], branch=BranchFactory()).branch.name_en,
        EVERY + 4,
        50,
    ),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_a_page_costs_the_same_queries_for_one_row_as_for_fifty(name, django_assert_num_queries):
    page = PAGES[name]
    QoyodConnection.objects.create(
        base_url=settings.QOYOD_BASE_URL, api_key_encrypted="unused", api_key_last4="0001"
    )
    AccountingSettings.objects.create(singleton=True)
    client = Client()
    client.force_login(UserFactory(role=page.role))
    url = page.url()
    first = page.row(0)
    client.get(url)

    with django_assert_num_queries(page.queries):
        one = client.get(url)
    labels = [first, *(page.row(n) for n in range(1, 50))]
    with django_assert_num_queries(page.queries):
        fifty = client.get(url)

    assert (one.status_code, fifty.status_code) == (200, 200)
    assert first in one.text
    assert sum(label in fifty.text for label in labels) == page.shown
