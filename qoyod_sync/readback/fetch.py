"""Read the payment state of Qoyod-managed invoices back from Qoyod (design.md §5).

    invoices_refresh(invoice_ids=[...])       read now: the row's Refresh from Qoyod, and tasks
    invoice_refresh_now(invoice=..., user=)   the row button: read now, or wait for a read running
    open_invoices_stalest(limit=...)          the open ones the periodic task queues next
    invoices_mark_queued(...)                 mark invoices before qoyod_sync.tasks queues a read
    invoices_pending(...)                     which of them a queued or running read still holds

Reads only: the one Qoyod client here is the QoyodReader that connection_reader builds. Invoices
are read up to 100 per request (`q[id_in][]`, qoyod-api.md §9.3), each batch claimed first so
overlapping refreshes of the same invoices never both ask Qoyod, and Qoyod is asked with no
database transaction open (the claim and the record are separate short writes).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.messages import Message
from core.money import to_money
from invoicing.models import Invoice
from payments.models import QoyodPaymentState, QoyodStatus
from payments.services import (
    QoyodAllocationData,
    QoyodPaymentData,
    qoyod_payment_states_claim,
    qoyod_payment_states_fail,
    qoyod_payment_states_queue,
    qoyod_payment_states_record,
    qoyod_payment_states_release,
)
from qoyod_sync import types
from qoyod_sync.client import PAGE_SIZE, QoyodReader
from qoyod_sync.errors import QoyodError
from qoyod_sync.messages import with_detail, with_qoyod_words
from qoyod_sync.models import SyncState
from qoyod_sync.services import connection_get, connection_reader

# One batch is one request, bounded by the client's deadline (retries included); a claim older
# than that belongs to a process that died, and anyone may take it.
CLAIM = timedelta(seconds=settings.QOYOD_DEADLINE + 15)
# How long a queued background read is trusted to start. Past it, opening the page queues the
# invoice again (the worker may be down) and the page stops waiting for the rows.
QUEUED_FOR = timedelta(minutes=2)
# The row button waits at most this long for a read another refresh is running.
ROW_WAIT_SECONDS = 15.0
_WAIT_STEP = 0.2

# Qoyod's status words (qoyod-api.md §5.2, §15.29) in our terms.
STATUSES = {
    types.DRAFT: QoyodStatus.DRAFT,
    "Awaiting for approval": QoyodStatus.AWAITING_APPROVAL,
    types.APPROVED: QoyodStatus.APPROVED,
    types.PARTIALLY_PAID: QoyodStatus.PARTIALLY_PAID,
    types.PAID: QoyodStatus.PAID,
}


class NotConnected(Exception):
    """There is no usable Qoyod connection to read with."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.code)
        self.message = message


class UnknownStatus(Exception):
    """Qoyod reported an invoice status we cannot interpret."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.code)
        self.message = message


@dataclass
class RefreshResult:
    """What one refresh did, by our invoice id."""

    refreshed: set[int] = field(default_factory=set)  # read from Qoyod and recorded here
    changed: set[int] = field(default_factory=set)  # ... of which something changed
    busy: set[int] = field(default_factory=set)  # another refresh read them, or is reading
    failed: dict[int, Message] = field(default_factory=dict)  # not read: why


@dataclass(frozen=True)
class RowOutcome:
    ok: bool
    message: str


def refreshable_invoices() -> QuerySet[Invoice]:
    """Invoices whose Qoyod draft we created and still expect to find in Qoyod."""
    return Invoice.objects.filter(
        qoyod_managed=True,
        qoyod_sync__state=SyncState.DRAFT_CREATED,
        qoyod_sync__qoyod_invoice_id__isnull=False,
        qoyod_sync__draft_deleted_at__isnull=True,
    ).exclude(status=Invoice.Status.VOID)


def refreshable_targets(invoice_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Our invoice id → its Qoyod invoice id, for the refreshable ones among `invoice_ids`."""
    rows = refreshable_invoices()
    if invoice_ids is not None:
        rows = rows.filter(pk__in=list(invoice_ids))
    return {
        pk: qoyod_id
        for pk, qoyod_id in rows.values_list("pk", "qoyod_sync__qoyod_invoice_id")
        if qoyod_id is not None
    }


def payment_data(remote: types.Invoice) -> QoyodPaymentData:
    """A Qoyod invoice's payment state in our terms; raises UnknownStatus."""
    status = STATUSES.get(remote.status)
    if status is None:
        raise UnknownStatus(Message("readback.unknown_status", status=remote.status))
    return QoyodPaymentData(
        status=status,
        total=to_money(remote.total),
        paid=to_money(remote.paid_amount),
        due=to_money(remote.due_amount),
        allocations=tuple(
            QoyodAllocationData(
                qoyod_id=row.id,
                source_type=row.source_type,
                source_id=row.source_id,
                date=row.date,
                amount=to_money(row.amount),
            )
            for row in remote.payments
        ),
    )


def _reader() -> QoyodReader:
    connection = connection_get()
    if connection is None:
        raise NotConnected(Message("qoyod.not_connected"))
    try:
        return connection_reader(connection)
    except ValidationError:
        raise NotConnected(Message("qoyod.key_unreadable")) from None


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def invoices_refresh(
    *,
    invoice_ids: Iterable[int],
    reader: QoyodReader | None = None,
    user: User | None = None,
    token: str = "",
) -> RefreshResult:
    """Read these invoices' payment state from Qoyod, 100 per request, and record what changed.

    `reader` defaults to one for the stored connection. `token` names the claims (a task passes
    its id, so a redelivered task takes back what its dead worker held).
    """
    started = timezone.now()
    targets = refreshable_targets(invoice_ids)
    token = token or uuid.uuid4().hex
    result = RefreshResult()
    error: Message | None = None
    for chunk in _chunks(sorted(targets), PAGE_SIZE):
        claimed = qoyod_payment_states_claim(
            invoice_ids=chunk, token=token, until=timezone.now() + CLAIM, checked_before=started
        )
        result.busy.update(set(chunk) - set(claimed))
        if not claimed:
            continue
        if error:
            # Qoyod already failed on an earlier batch: say so instead of waiting on it again.
            _fail(result, claimed, token, error)
            continue
        try:
            reader = reader or _reader()
            remote = reader.list_invoices_by_ids(targets[pk] for pk in claimed)
        except (QoyodError, NotConnected) as exc:
            error = (
                with_detail("readback.failed", exc)
                if isinstance(exc, QoyodError)
                else Message("readback.failed", error=exc.message)
            )
            _fail(result, claimed, token, error)
            continue
        except BaseException:
            # A time limit or a crash: let the next refresh take these at once.
            qoyod_payment_states_release(invoice_ids=claimed, token=token)
            raise
        _record(result, claimed, targets, remote, token, user)
    return result


def _fail(result: RefreshResult, invoice_ids: Sequence[int], token: str, message: Message) -> None:
    qoyod_payment_states_fail(invoice_ids=invoice_ids, token=token, message=message)
    result.failed.update(dict.fromkeys(invoice_ids, message))


def _record(
    result: RefreshResult,
    claimed: Sequence[int],
    targets: dict[int, int],
    remote: list[types.Invoice],
    token: str,
    user: User | None,
) -> None:
    by_qoyod_id = {invoice.id: invoice for invoice in remote}
    results: dict[int, QoyodPaymentData | None] = {}
    unknown: dict[str, tuple[Message, list[int]]] = {}
    for pk in claimed:
        found = by_qoyod_id.get(targets[pk])
        if found is None:
            # Absent from the answer: the draft was deleted in Qoyod (approved ones cannot be).
            results[pk] = None
            continue
        try:
            results[pk] = payment_data(found)
        except UnknownStatus as exc:
            unknown.setdefault(found.status, (exc.message, []))[1].append(pk)
    for message, pks in unknown.values():
        _fail(result, pks, token, message)
    result.changed |= qoyod_payment_states_record(results=results, token=token, user=user)
    result.refreshed |= set(results)


def open_invoices_stalest(*, limit: int) -> list[int]:
    """Up to `limit` open Qoyod-managed invoices no refresh holds, the longest unchecked first.

    Open: not fully paid here. Never checked counts as the stalest of all; queued or claimed
    invoices are left out, so a run never takes what an earlier one still has to read.
    """
    now = timezone.now()
    held = Q(qoyod_payment_state__queued_until__gt=now) | Q(
        qoyod_payment_state__claimed_until__gt=now
    )
    rows = (
        refreshable_invoices()
        .filter(status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID])
        .exclude(held)
        .order_by(F("qoyod_payment_state__checked_at").asc(nulls_first=True), "pk")
    )
    return list(rows.values_list("pk", flat=True)[:limit])


def invoice_refresh_now(
    *,
    invoice: Invoice,
    user: User | None,
    reader: QoyodReader | None = None,
    wait_seconds: float = ROW_WAIT_SECONDS,
) -> RowOutcome:
    """Refresh one invoice while the user waits; if another refresh is reading it, wait for that."""
    result = invoices_refresh(invoice_ids=[invoice.pk], reader=reader, user=user)
    if invoice.pk in result.busy:
        deadline = time.monotonic() + wait_seconds
        while invoice.pk in invoices_pending([invoice.pk], running_only=True):
            if time.monotonic() >= deadline:
                return RowOutcome(
                    False,
                    _("Another refresh of %(number)s is still reading Qoyod; try again shortly.")
                    % {"number": invoice.number},
                )
            time.sleep(_WAIT_STEP)
        state = QoyodPaymentState.objects.get(invoice=invoice)
        if state.failed_last_time:
            return RowOutcome(False, with_qoyod_words(state.last_error, state.qoyod_message))
        return RowOutcome(True, _("Refreshed from Qoyod."))
    if invoice.pk in result.failed:
        failure = result.failed[invoice.pk]
        return RowOutcome(False, with_qoyod_words(failure.render(), failure.qoyod_message))
    if invoice.pk not in result.refreshed:
        return RowOutcome(
            False, _("%(number)s has no draft in Qoyod.") % {"number": invoice.number}
        )
    if invoice.pk in result.changed:
        return RowOutcome(True, _("Updated from Qoyod."))
    return RowOutcome(True, _("Checked with Qoyod: nothing changed."))


def invoices_mark_queued(
    *,
    invoice_ids: Iterable[int],
    token: str,
    stale_only: bool,
    queued_for: timedelta = QUEUED_FOR,
) -> list[int]:
    """Mark these (refreshable) invoices as queued under `token` for `queued_for`; returns those
    marked.

    With `stale_only`, only invoices not checked within QOYOD_REFRESH_STALE_MINUTES; invoices
    already queued or being read are never marked twice.
    """
    now = timezone.now()
    stale_before = now - timedelta(minutes=settings.QOYOD_REFRESH_STALE_MINUTES)
    return qoyod_payment_states_queue(
        invoice_ids=invoice_ids,
        token=token,
        until=now + queued_for,
        checked_before=stale_before if stale_only else None,
    )


def invoices_pending(invoice_ids: Iterable[int], *, running_only: bool = False) -> set[int]:
    """Of these invoices, those with a refresh running (or, unless running_only, queued)."""
    now = timezone.now()
    waiting = Q(claimed_until__gt=now)
    if not running_only:
        waiting |= Q(queued_until__gt=now)
    rows = QoyodPaymentState.objects.filter(waiting, invoice_id__in=list(invoice_ids))
    return set(rows.values_list("invoice_id", flat=True))
