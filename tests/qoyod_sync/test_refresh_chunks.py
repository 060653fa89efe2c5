"""The periodic refresh queues open invoices in chunks of 100, the stalest first, a capped number
of chunks per run, one task (one read) per chunk drawing on the shared rate budget."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from garage.models import JobCard
from invoicing.models import Invoice
from payments.models import QoyodPaymentState
from payments.services import qoyod_payment_states_claim
from qoyod_sync import ratelimit, tasks
from qoyod_sync.client.transport import DEFAULT_BURST
from qoyod_sync.models import QoyodInvoiceSync, SyncState
from qoyod_sync.ratelimit import TokenBucket
from qoyod_sync.readback import fetch
from tests.invoicing_factories import InvoiceFactory
from tests.qoyod_fixtures import SANDBOX_KEY
from tests.qoyod_sync.refresh_helpers import connect

pytestmark = pytest.mark.django_db


def open_invoices(count: int) -> list[int]:
    """`count` open Qoyod-managed invoices, one job each, in id order; their Qoyod ids are made
    up (no draft in any sandbox: a read of them finds them gone)."""
    template = InvoiceFactory(requires_qoyod=True)
    job = template.job
    jobs = JobCard.objects.bulk_create(
        JobCard(number=f"JOB-T-{n:05d}", branch=job.branch, customer=job.customer,
                vehicle=job.vehicle, status=JobCard.Status.COMPLETED)
        for n in range(count)
    )  # fmt: skip
    total = Decimal("115.00")
    invoices = Invoice.objects.bulk_create(
        Invoice(number=f"INV-T-{n:05d}", job=job, branch=job.branch, customer=job.customer,
                vehicle=job.vehicle, customer_name="Chunk customer", vehicle_description="Camry",
                vehicle_plate="1234 ABJ", issue_date=template.issue_date,
                due_date=template.due_date, net_total=Decimal("100.00"),
                vat_total=Decimal("15.00"), total=total, balance=total, requires_qoyod=True,
                qoyod_managed=True)
        for n, job in enumerate(jobs)
    )  # fmt: skip
    QoyodInvoiceSync.objects.bulk_create(
        QoyodInvoiceSync(
            invoice=invoice, state=SyncState.DRAFT_CREATED, qoyod_invoice_id=90_000 + n
        )
        for n, invoice in enumerate(invoices)
    )
    return sorted(invoice.pk for invoice in invoices)


def queued_chunks(capture) -> list[tuple[list[int], str]]:
    """Run the periodic task's queueing; the (ids, token) of each task it would publish."""
    with capture(execute=False) as callbacks:
        tasks.refresh_open_invoices.apply()
    return [(sorted(callback.args[0]), callback.args[1]) for callback in callbacks]


def test_the_stalest_open_invoices_are_queued_first_in_chunks_of_100(
    settings, django_capture_on_commit_callbacks
):
    settings.QOYOD_REFRESH_CHUNKS_PER_RUN = 2
    ids = open_invoices(230)
    never, checked = ids[:30], ids[30:]
    now = timezone.now()
    # The higher the id, the longer ago it was checked.
    QoyodPaymentState.objects.bulk_create(
        QoyodPaymentState(invoice_id=pk, checked_at=now - timedelta(minutes=n))
        for n, pk in enumerate(checked, start=1)
    )
    paid, void = checked[-1], checked[-2]
    Invoice.objects.filter(pk=paid).update(status="paid", amount_paid=F("total"), balance=0)
    Invoice.objects.filter(pk=void).update(status="void", void_reason="test")

    chunks = queued_chunks(django_capture_on_commit_callbacks)

    stalest = never + [pk for pk in reversed(checked) if pk not in (paid, void)]
    assert [chunk for chunk, _token in chunks] == [sorted(stalest[:100]), sorted(stalest[100:200])]
    for chunk, token in chunks:
        marked = QoyodPaymentState.objects.filter(claim_token=token, queued_until__gt=now)
        assert sorted(marked.values_list("invoice_id", flat=True)) == chunk
    # Past the cap: left for the next run, unmarked.
    rest = QoyodPaymentState.objects.filter(invoice_id__in=stalest[200:])
    assert set(rest.values_list("claim_token", "queued_until")) == {("", None)}


def test_no_run_takes_a_chunk_another_refresh_holds(settings, django_capture_on_commit_callbacks):
    settings.QOYOD_REFRESH_CHUNKS_PER_RUN = 1
    ids = open_invoices(300)

    [(first, token)] = queued_chunks(django_capture_on_commit_callbacks)
    # Its task has started: the claim, not the queued mark, holds those invoices now.
    qoyod_payment_states_claim(invoice_ids=first, token=token, until=timezone.now() + fetch.CLAIM)
    [(second, _token)] = queued_chunks(django_capture_on_commit_callbacks)
    [(third, _token)] = queued_chunks(django_capture_on_commit_callbacks)
    after = queued_chunks(django_capture_on_commit_callbacks)

    assert (first, second, third) == (ids[:100], ids[100:200], ids[200:])
    assert after == []


def test_marks_that_lapsed_are_queued_again(settings, django_capture_on_commit_callbacks):
    settings.QOYOD_REFRESH_CHUNKS_PER_RUN = 1
    ids = open_invoices(150)
    [(first, _token)] = queued_chunks(django_capture_on_commit_callbacks)
    # The worker never took the task: its marks ran out.
    QoyodPaymentState.objects.update(queued_until=timezone.now() - timedelta(seconds=1))

    [(again, _token)] = queued_chunks(django_capture_on_commit_callbacks)

    assert first == again == ids[:100]


class FakeClock:
    """A monotonic clock that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.time = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += seconds


def test_each_chunk_is_one_read_paced_by_the_shared_budget(
    qoyod_sandbox, settings, monkeypatch, run_queued_refreshes, django_capture_on_commit_callbacks
):
    settings.QOYOD_REFRESH_CHUNKS_PER_RUN = 3
    settings.QOYOD_RATE_LIMIT_PER_MINUTE = 60
    connect(qoyod_sandbox)
    ids = open_invoices(350)
    clock = FakeClock()
    bucket = TokenBucket(
        rate_per_minute=60, burst=DEFAULT_BURST, clock=clock.now, sleep=clock.sleep
    )
    # Other calls (pages, sends) have just spent the burst: every read must wait its turn.
    for _ in range(DEFAULT_BURST):
        bucket.acquire()
    # The bucket every process of this key draws on, as bucket_for would hand it out.
    key = (settings.REDIS_URL, ratelimit.key_digest(SANDBOX_KEY), 60, DEFAULT_BURST)
    monkeypatch.setitem(ratelimit._buckets, key, bucket)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.refresh_open_invoices.apply()

    assert [(r.method, r.path) for r in qoyod_sandbox.requests.all()] == [
        ("GET", "/2.0/invoices")
    ] * 3
    # 60 a minute: each read waited one second for its token, none went early.
    assert clock.slept == pytest.approx([1.0, 1.0, 1.0])
    checked = QoyodPaymentState.objects.filter(checked_at__isnull=False)
    assert sorted(checked.values_list("invoice_id", flat=True)) == ids[:300]
    assert not QoyodPaymentState.objects.exclude(claim_token="").exists()
