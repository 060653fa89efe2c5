"""Reads for the Qoyod pages: the retry queue, an invoice's sync and attempt log, fix links."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.database import CompiledQuery, query_compile
from core.paging import capped_count_sql
from core.rows import RowsQuery, rows_query
from garage.models import Branch
from invoicing.models import Invoice
from qoyod_sync.models import (
    BranchWarehouse,
    FailureKind,
    QoyodAttempt,
    QoyodConnection,
    QoyodInvoiceSync,
    QoyodStockAdjustment,
    QoyodSyncStateChange,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def retry_queue() -> QuerySet[QoyodInvoiceSync]:
    """Every invoice in the retry queue (models.retry_queued), oldest attempt first."""
    return (
        QoyodInvoiceSync.objects.in_retry_queue()
        .select_related("invoice", "invoice__customer", "last_attempt_by")
        .order_by("last_attempt_at", "pk")
    )


@dataclass(frozen=True)
class InvoiceLog:
    """The Qoyod panel's log of one invoice, each list oldest first but the stock syncs."""

    attempts: list[QoyodAttempt]
    history: list[QoyodSyncStateChange]
    adjustments: list[QoyodStockAdjustment]


def invoice_log(*, invoice: Invoice, sync: QoyodInvoiceSync | None) -> InvoiceLog:
    """The calls made for the invoice, its sync's state changes and its stock syncs (newest
    first), in one query."""
    values = {"invoice": invoice.pk} | ({} if sync is None else {"sync": sync.pk})
    attempts, adjustments, *history = _log_query(
        invoice._state.db or "default", with_sync=sync is not None
    ).read(**values)
    return InvoiceLog(attempts, history[0] if history else [], adjustments)


# Stand for the invoice's and its sync's ids while the log's query is built (no row has them).
_ANY_INVOICE, _ANY_SYNC = -7_654_321, -7_654_322


@functools.cache
def _log_query(using: str, *, with_sync: bool) -> RowsQuery:
    """The query of the Qoyod panel's log, built once per database and shape."""
    invoice = Invoice(pk=_ANY_INVOICE)
    querysets: list[QuerySet[Any]] = [
        QoyodAttempt.objects.using(using).filter(invoice=invoice).select_related("user"),
        stock_adjustments(invoice=invoice).using(using),
    ]
    stand_ins = {"invoice": _ANY_INVOICE}
    if with_sync:
        querysets.append(
            QoyodSyncStateChange.objects.using(using)
            .filter(sync_id=_ANY_SYNC)
            .select_related("changed_by")
        )
        stand_ins["sync"] = _ANY_SYNC
    return rows_query(querysets, **stand_ins)


def branch_warehouses() -> list[tuple[Branch, BranchWarehouse | None]]:
    """Every active branch with its Qoyod warehouse, if mapped."""
    mapped = {w.branch_id: w for w in BranchWarehouse.objects.all()}
    return [(b, mapped.get(b.pk)) for b in Branch.objects.filter(is_active=True)]


@dataclass(frozen=True)
class FixLink:
    url: str
    label: StrOrPromise


def fix_link(sync: QoyodInvoiceSync) -> FixLink | None:
    """Where to go to remove the cause of a failure; None when the fix is just to retry."""
    kind = sync.failure_kind
    if kind in (
        FailureKind.CUSTOMER_INCOMPLETE,
        FailureKind.CUSTOMER_INACTIVE,
        FailureKind.REJECTED_CUSTOMER,
    ):
        return FixLink(
            reverse("garage:customer_edit", args=[sync.invoice.customer_id]), _("Edit customer")
        )
    if kind in (
        FailureKind.NOT_CONNECTED,
        FailureKind.MAPPING_MISSING,
        FailureKind.KEY_REJECTED,
        FailureKind.REJECTED_ACCOUNTING,
    ):
        return FixLink(reverse("qoyod_sync:settings"), _("Qoyod settings"))
    if kind in (
        FailureKind.LINE_UNLINKED,
        FailureKind.TOTALS,
        FailureKind.REJECTED_VAT,
        FailureKind.REJECTED,
    ):
        return FixLink(reverse("invoicing:invoice_edit", args=[sync.invoice_id]), _("Edit invoice"))
    if kind in (FailureKind.SKU_TAKEN, FailureKind.REJECTED_PRODUCT):
        return FixLink(reverse("garage:part_list"), _("Parts and services"))
    return None


# Counted up to this many rows: a badge or a figure reads "100+" beyond it, and no page pays
# for counting a long queue.
QUEUE_CAP = 100


def retry_queue_count() -> int:
    return QoyodInvoiceSync.objects.in_retry_queue().values("pk")[:QUEUE_CAP].count()


def connection_health() -> QoyodConnection | None:
    """The connection as last tested, or None when Qoyod is not connected."""
    return QoyodConnection.objects.only(
        "pk", "base_url", "last_tested_at", "last_test_ok", "last_test_code", "last_test_params"
    ).first()


def stock_adjustments(*, invoice: Invoice | None = None) -> QuerySet[QoyodStockAdjustment]:
    """Stock syncs, newest first: all of them, or those of one invoice's parts."""
    rows = QoyodStockAdjustment.objects.select_related("branch", "created_by")
    return rows.filter(invoice=invoice) if invoice is not None else rows


# Stands for the time a lease is compared with while the query is compiled.
_ANY_TIME = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)


@functools.cache
def _connection_query(using: str) -> CompiledQuery:
    ops = connections[using].ops
    queue = capped_count_sql(
        QoyodInvoiceSync.objects.db_manager(using).in_retry_queue(now=_ANY_TIME), cap=QUEUE_CAP
    )
    return query_compile(
        QoyodConnection.objects.db_manager(using).annotate(retry_queue_size=queue)[:1],
        now=ops.adapt_datetimefield_value(_ANY_TIME),
    )


def _connection_with_queue() -> QoyodConnection | None:
    using = QoyodConnection.objects.db
    now = connections[using].ops.adapt_datetimefield_value(timezone.now())
    found = _connection_query(using).raw(QoyodConnection, now=now)
    return found[0] if found else None


def request_connection(request: HttpRequest | None) -> QoyodConnection | None:
    """The one connection with the retry queue's capped count (`retry_queue_size`), read once
    per request: the menu's badge, the key banner and every link to Qoyod share one query."""
    if request is None:
        return _connection_with_queue()
    if not hasattr(request, "_qoyod_connection"):
        request._qoyod_connection = _connection_with_queue()  # type: ignore[attr-defined]
    return request._qoyod_connection  # type: ignore[attr-defined]


def request_retry_queue_count(request: HttpRequest) -> int:
    """retry_queue_count, read with the request's connection when there is one."""
    connection = request_connection(request)
    if connection is None:
        return retry_queue_count()
    return connection.retry_queue_size  # type: ignore[attr-defined]


def connection_key_refused(request: HttpRequest | None) -> QoyodConnection | None:
    """The connection while Qoyod refuses its key (for the banner), else None."""
    connection = request_connection(request)
    return connection if connection is not None and connection.key_refused_at else None
