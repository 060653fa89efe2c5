"""Celery tasks. They only read from Qoyod (design.md §3, §5).

A task reaches Qoyod only through qoyod_sync.readback.fetch, whose one client is the QoyodReader
that connection_reader builds; tests/qoyod_sync/test_tasks.py walks everything a task can call and
fails if a write is among it. Tasks take ids, load, call one function, and are safe twice
(compare before write). They are acknowledged late and rejected when their worker dies, so a
killed worker's task is delivered again and finishes the job.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TypedDict

from celery import Task, shared_task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

from payments.services import qoyod_payment_states_unqueue
from qoyod_sync import reconcile
from qoyod_sync.client import PAGE_SIZE
from qoyod_sync.readback import fetch

logger = logging.getLogger(__name__)


class _TaskOptions(TypedDict):
    acks_late: bool
    reject_on_worker_lost: bool
    ignore_result: bool


READ_TASK_OPTIONS: _TaskOptions = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
}


@shared_task(bind=True, **READ_TASK_OPTIONS)
def refresh_invoices(self: Task, invoice_ids: list[int]) -> None:
    """Read back the payment state of these invoices from Qoyod."""
    fetch.invoices_refresh(invoice_ids=invoice_ids, token=self.request.id or "")


@shared_task(**READ_TASK_OPTIONS)
def refresh_open_invoices() -> None:
    """Queue reads of the stalest open Qoyod-managed invoices (beat, every
    QOYOD_REFRESH_PERIOD_MINUTES)."""
    queued = open_invoices_refresh_enqueue()
    logger.info("Queued %d chunks of open Qoyod invoices to refresh", queued)


@shared_task(**READ_TASK_OPTIONS)
def reconcile_nightly() -> None:
    """Compare the last QOYOD_RECONCILE_DAYS days of invoices with Qoyod (beat, nightly)."""
    try:
        period = reconcile.default_range()
        reconcile.reconciliation_run_now(date_from=period["date_from"], date_to=period["date_to"])
    except reconcile.CannotReconcile as exc:
        logger.warning("Nightly reconciliation did not run: %s", exc.message.code)


@dataclass(frozen=True)
class Queued:
    """Which of the invoices asked for can be refreshed, and which now wait for a read."""

    refreshable: frozenset[int]
    pending: frozenset[int]


def invoices_refresh_enqueue(*, invoice_ids: Iterable[int], stale_only: bool) -> Queued:
    """Queue a background read of these invoices, sent to the broker once the caller commits.

    Never waits for Qoyod. With `stale_only` (opening the invoices page) only invoices not
    checked within QOYOD_REFRESH_STALE_MINUTES are queued; invoices already queued or being
    read are not queued again, but are among the pending ones the page waits for.
    """
    targets = fetch.refreshable_targets(invoice_ids)
    if not targets:
        return Queued(frozenset(), frozenset())
    # The task id is the claim token, so the task owns the rows marked for it.
    token = uuid.uuid4().hex
    marked = fetch.invoices_mark_queued(invoice_ids=targets, token=token, stale_only=stale_only)
    if marked:
        transaction.on_commit(partial(_publish, marked, token))
    return Queued(frozenset(targets), frozenset(fetch.invoices_pending(targets)))


def open_invoices_refresh_enqueue() -> int:
    """Queue one refresh task per chunk of 100 open invoices, stalest first, at most
    QOYOD_REFRESH_CHUNKS_PER_RUN chunks; returns how many chunks were queued.

    Each task is one request, so none comes near the time limit however many invoices are open;
    the tasks draw on the shared rate budget (qoyod_sync/ratelimit.py) like every other call,
    and the cap keeps the periodic refresh to a small share of it: invoices past the cap are the
    stalest of the next run. A chunk's marks last as long as the chunks before it take at
    QOYOD_RATE_LIMIT_PER_MINUTE, plus QUEUED_FOR, so neither the next run nor opening the page
    queues those invoices again while the task waits its turn.
    """
    ids = fetch.open_invoices_stalest(limit=settings.QOYOD_REFRESH_CHUNKS_PER_RUN * PAGE_SIZE)
    per_second = settings.QOYOD_RATE_LIMIT_PER_MINUTE / 60
    queued = 0
    for start in range(0, len(ids), PAGE_SIZE):
        token = uuid.uuid4().hex
        marked = fetch.invoices_mark_queued(
            invoice_ids=ids[start : start + PAGE_SIZE],
            token=token,
            stale_only=False,
            queued_for=fetch.QUEUED_FOR + timedelta(seconds=queued / per_second),
        )
        if marked:
            transaction.on_commit(partial(_publish, marked, token))
            queued += 1
    return queued


def _publish(invoice_ids: list[int], token: str) -> None:
    try:
        # No publish retries: with the broker down the page would wait, which it must not.
        refresh_invoices.apply_async(args=(invoice_ids,), task_id=token, retry=False)
    except (OperationalError, OSError):
        logger.warning("Could not queue a Qoyod refresh of %d invoices", len(invoice_ids))
        qoyod_payment_states_unqueue(token=token)
