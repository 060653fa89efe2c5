"""The home page by role: the job board, a technician's own jobs, the accountant's queues."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import roles
from garage.models import JobCard
from invoicing.models import Invoice
from invoicing.selectors import QoyodView, invoice_qoyod_q
from payments.models import QoyodPaymentState
from qoyod_sync.models import QoyodConnection, QoyodInvoiceSync, SyncState
from qoyod_sync.status import effective_state
from tests.factories import JobCardFactory, ServiceLineFactory, UserFactory
from tests.invoicing_factories import CompletedJobFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def _client(role: str, **user: object) -> tuple[Client, object]:
    person = UserFactory(role=role, **user)
    client = Client()
    client.force_login(person)
    return client, person


def _column(html: str, key: str) -> list[str]:
    """The job numbers on the cards of one board column, top to bottom."""
    start = html.index(f'data-testid="column-{key}"')
    end = html.find('data-testid="column-', start + 1)
    return re.findall(r'data-testid="card-(JOB-[\d-]+)"', html[start : end if end > 0 else None])


def _figure(html: str, key: str) -> str:
    match = re.search(rf'data-testid="figure-{key}".*?<bdi>([^<]*)</bdi>', html, re.S)
    assert match, key
    return match.group(1)


def _figure_link(html: str, key: str) -> str:
    match = re.search(rf'href="([^"]*)" data-testid="figure-{key}"', html)
    assert match, key
    return match.group(1).replace("&amp;", "&")


def _board_jobs() -> dict[str, JobCard]:
    now = timezone.now()
    open_old = JobCardFactory(number="JOB-2026-000001")
    open_new = JobCardFactory(number="JOB-2026-000002")
    JobCard.objects.filter(pk=open_old.pk).update(created_at=now - datetime.timedelta(days=2))
    working = JobCardFactory(number="JOB-2026-000003", status=JobCard.Status.IN_PROGRESS)
    waiting = CompletedJobFactory(number="JOB-2026-000004")
    invoiced = CompletedJobFactory(number="JOB-2026-000005")
    InvoiceFactory(job=invoiced)
    yesterday = CompletedJobFactory(number="JOB-2026-000006")
    InvoiceFactory(job=yesterday, issue_date=timezone.localdate() - datetime.timedelta(days=1))
    JobCardFactory(number="JOB-2026-000007", status=JobCard.Status.CANCELLED)
    return {
        "open_old": open_old,
        "open_new": open_new,
        "working": working,
        "waiting": waiting,
        "invoiced": invoiced,
    }


def test_the_advisor_home_is_a_board_of_the_day_by_column():
    _board_jobs()
    client, _ = _client(roles.ADVISOR)

    html = client.get(reverse("home")).content.decode()

    assert _column(html, "open") == ["JOB-2026-000001", "JOB-2026-000002"]
    assert _column(html, "in_progress") == ["JOB-2026-000003"]
    assert _column(html, "waiting") == ["JOB-2026-000004"]
    assert _column(html, "invoiced_today") == ["JOB-2026-000005"]
    assert 'data-testid="finance"' not in html
    # Open cards move to In progress, in-progress cards to Completed; the others stay put.
    assert html.count('data-move-to="in_progress"') == 2
    assert html.count('data-move-to="waiting"') == 1
    assert html.count("draggable=") == 3


def test_the_day_figures_count_today_and_what_the_counter_is_owed():
    jobs = _board_jobs()
    paid_part = InvoiceFactory(job=CompletedJobFactory(number="JOB-2026-000008"))
    PaymentFactory(invoice=paid_part, amount=Decimal("100.00"))
    client, _ = _client(roles.ADVISOR)

    html = client.get(reverse("home")).content.decode()

    # Seven jobs opened today: every job but the one dated two days back.
    assert _figure(html, "opened") == "7"
    assert _figure(html, "completed") == "4"
    assert _figure(html, "invoiced") == "2"
    # invoiced today: two invoices of 276.00 each; owed: 276.00 ×3 less the 100.00 paid.
    assert "552.00" in html
    assert _figure(html, "unpaid") == "3"
    assert "728.00" in html
    assert jobs["invoiced"].invoices.get().total == Decimal("276.00")


def test_a_technician_sees_their_own_jobs_in_the_order_to_work_them():
    client, technician = _client(roles.TECHNICIAN)
    first = JobCardFactory(number="JOB-2026-000011", technician=technician)
    JobCard.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=3)
    )
    JobCardFactory(number="JOB-2026-000012", technician=technician)
    JobCardFactory(
        number="JOB-2026-000013", technician=technician, status=JobCard.Status.IN_PROGRESS
    )
    JobCardFactory(number="JOB-2026-000014")  # someone else's
    CompletedJobFactory(number="JOB-2026-000015", technician=technician)

    html = client.get(reverse("home")).content.decode()

    assert re.findall(r'data-testid="my-job-(JOB-[\d-]+)"', html) == [
        "JOB-2026-000013",
        "JOB-2026-000011",
        "JOB-2026-000012",
    ]
    assert 'data-testid="job-board"' not in html
    assert 'data-testid="finance"' not in html


def _sync(invoice: Invoice, state: str, qoyod_status: str = "") -> Invoice:
    Invoice.objects.filter(pk=invoice.pk).update(
        requires_qoyod=True, qoyod_managed=state == SyncState.DRAFT_CREATED
    )
    QoyodInvoiceSync.objects.create(
        invoice=invoice,
        state=state,
        qoyod_invoice_id=900 + invoice.pk if state == SyncState.DRAFT_CREATED else None,
    )
    if qoyod_status:
        QoyodPaymentState.objects.create(
            invoice=invoice, qoyod_status=qoyod_status, qoyod_due=Decimal("276.00")
        )
    return invoice


def test_the_accountant_home_counts_each_queue_and_links_to_it():
    CompletedJobFactory()
    CompletedJobFactory()
    InvoiceFactory(requires_qoyod=True)
    _sync(InvoiceFactory(), SyncState.READY)
    _sync(InvoiceFactory(), SyncState.FAILED)
    _sync(InvoiceFactory(), SyncState.UNKNOWN)
    _sync(InvoiceFactory(), SyncState.DRAFT_CREATED)
    _sync(InvoiceFactory(), SyncState.DRAFT_CREATED, "awaiting_approval")
    _sync(InvoiceFactory(), SyncState.DRAFT_CREATED, "approved")
    _sync(InvoiceFactory(), SyncState.DRAFT_CREATED, "partially_paid")
    _sync(InvoiceFactory(), SyncState.DRAFT_CREATED, "paid")
    client, _ = _client(roles.ACCOUNTANT)

    html = client.get(reverse("home")).content.decode()

    assert _figure(html, "needs-invoice") == "2"
    assert _figure(html, "ready") == "2"
    assert _figure(html, "retry") == "2"
    assert _figure(html, "awaiting") == "2"
    assert _figure(html, "unpaid-qoyod") == "2"
    assert "552.00" in html
    assert 'data-testid="job-board"' not in html
    expected = {
        "needs-invoice": (reverse("invoicing:needs_invoice"), None),
        "ready": (reverse("invoicing:invoice_list") + "?qoyod=ready", 2),
        "retry": (reverse("qoyod_sync:retry_queue"), None),
        "awaiting": (reverse("invoicing:invoice_list") + "?qoyod=awaiting_approval", 2),
        "unpaid-qoyod": (reverse("invoicing:invoice_list") + "?qoyod=unpaid", 2),
    }
    needs = client.get(reverse("invoicing:needs_invoice")).content.decode()
    assert len(re.findall(r'<tr id="job-row-', needs)) == 2
    for key, (url, rows) in expected.items():
        assert _figure_link(html, key) == url
        listed = client.get(url).content.decode()
        if rows is not None:
            assert len(re.findall(r'<tr id="invoice-row-', listed)) == rows, key


def test_the_ready_filter_is_the_query_form_of_the_send_rule():
    invoices = [InvoiceFactory(requires_qoyod=True), InvoiceFactory()]
    for state in SyncState.values:
        for requires in (True, False):
            invoice = InvoiceFactory(requires_qoyod=requires)
            QoyodInvoiceSync.objects.create(
                invoice=invoice,
                state=state,
                qoyod_invoice_id=1 if state == SyncState.DRAFT_CREATED else None,
                lease_until=timezone.now() + datetime.timedelta(minutes=1)
                if state == SyncState.SENDING
                else None,
            )
            invoices.append(invoice)

    ready = set(
        Invoice.objects.filter(invoice_qoyod_q(QoyodView.READY)).values_list("pk", flat=True)
    )

    def sync_of(invoice: Invoice) -> QoyodInvoiceSync | None:
        return QoyodInvoiceSync.objects.filter(invoice=invoice).first()

    expected = {
        i.pk
        for i in (Invoice.objects.get(pk=i.pk) for i in invoices)
        if effective_state(i, sync_of(i)) == SyncState.READY
    }
    assert ready == expected
    assert len(expected) == 3


def _home_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", [roles.ADVISOR, roles.ACCOUNTANT, roles.ADMIN])
def test_the_home_page_costs_the_same_for_1_and_500_jobs(role):
    client, _ = _client(role)
    JobCardFactory()
    few = _home_queries(client)
    JobCardFactory.create_batch(200)
    JobCardFactory.create_batch(150, status=JobCard.Status.IN_PROGRESS)
    for job in JobCardFactory.create_batch(
        149, status=JobCard.Status.COMPLETED, completed_at=timezone.now()
    ):
        ServiceLineFactory(job=job)

    assert _home_queries(client) == few


def test_a_card_moved_on_the_board_comes_back_to_the_board():
    job = JobCardFactory()
    ServiceLineFactory(job=job)
    client, _ = _client(roles.ADVISOR)

    started = client.post(reverse("garage:job_start", args=[job.pk]), {"next": "/"})
    completed = client.post(reverse("garage:job_complete", args=[job.pk]), {"next": "/"})

    assert (started.status_code, started["Location"]) == (302, "/")
    assert (completed.status_code, completed["Location"]) == (302, "/")
    job.refresh_from_db()
    assert job.status == JobCard.Status.COMPLETED


def test_a_move_never_redirects_off_site():
    job = JobCardFactory()
    client, _ = _client(roles.ADVISOR)

    response = client.post(
        reverse("garage:job_start", args=[job.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("garage:job_detail", args=[job.pk])


def test_the_retry_queue_is_in_the_menu_with_its_count_for_those_who_retry():
    _sync(InvoiceFactory(), SyncState.FAILED)
    accountant, _ = _client(roles.ACCOUNTANT)
    technician, _ = _client(roles.TECHNICIAN)
    queue = reverse("qoyod_sync:retry_queue")

    html = accountant.get(reverse("invoicing:invoice_list")).content.decode()
    other = technician.get(reverse("home")).content.decode()

    assert re.search(
        rf'href="{queue}">Retry queue <span [^>]*data-testid="nav-badge"><bdi>1</bdi>', html
    )
    assert f'href="{queue}"' not in other


def test_the_menu_badge_counts_a_send_whose_claim_lapsed_but_not_one_still_running():
    QoyodConnection.objects.create(
        base_url=settings.QOYOD_BASE_URL, api_key_encrypted="unused", api_key_last4="0001"
    )
    now = timezone.now()
    for lease in (now - datetime.timedelta(seconds=5), now + datetime.timedelta(minutes=5)):
        invoice = InvoiceFactory()
        Invoice.objects.filter(pk=invoice.pk).update(requires_qoyod=True)
        QoyodInvoiceSync.objects.create(
            invoice=invoice, state=SyncState.SENDING, lease_until=lease, claim_token="t"
        )
    accountant, _ = _client(roles.ACCOUNTANT)

    html = accountant.get(reverse("invoicing:invoice_list")).content.decode()
    QoyodInvoiceSync.objects.update(lease_until=now - datetime.timedelta(seconds=1))
    later = accountant.get(reverse("invoicing:invoice_list")).content.decode()

    badge = r'data-testid="nav-badge"><bdi>(\d+)</bdi>'
    assert re.findall(badge, html) == ["1"]
    assert re.findall(badge, later) == ["2"]


def test_a_completed_job_offers_create_invoice_then_links_its_invoice():
    job = CompletedJobFactory()
    client, _ = _client(roles.ADVISOR)
    page = reverse("garage:job_detail", args=[job.pk])

    before = client.get(page).content.decode()
    invoice = InvoiceFactory(job=job)
    after = client.get(page).content.decode()

    generate = reverse("invoicing:invoice_generate", args=[job.pk])
    assert f'href="{generate}" data-testid="create-invoice"' in before
    assert 'data-testid="create-invoice"' not in after
    assert f"Invoice {invoice.number}" in after


def test_the_saved_invoice_is_pinned_first_in_the_list_with_its_row_once():
    older = InvoiceFactory()
    saved = InvoiceFactory()
    client, _ = _client(roles.ADVISOR)

    html = client.get(reverse("invoicing:invoice_list"), {"saved": saved.pk}).content.decode()

    rows = re.findall(r'<tr id="invoice-row-(\d+)"', html)
    assert rows == [str(saved.pk), str(older.pk)]
    assert f"Just saved: {saved.number}." in html
