"""Sync stock to Qoyod: set Qoyod's stock of spare parts at a branch's warehouse to our count.

Only ever called from a web request a user started (an accountant's deliberate click).

    pre-flight (no HTTP: connection, warehouse, stock accounts, parts in Qoyod)
      → claim (one sync per branch at a time, with a lease)
      → read Qoyod's stock of the parts → POST /inventory_adjustments with the parts that differ
      → record the outcome (attempt log, audit, the adjustment row)

Each line's actual_quantity is our count, a total and not a change (qoyod-api.md §4.4), so an
adjustment Qoyod saved without our hearing of it cannot be doubled: the next sync reads Qoyod's
stock first, sends only what still differs, and sends it as a total again. Adjustments cannot be
read back from Qoyod; the products' stock is what tells whether one landed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from core.messages import Message
from garage.models import Branch, PartStock, SparePart
from invoicing.models import Invoice
from qoyod_sync.client import ClientOptions, QoyodWriter
from qoyod_sync.errors import (
    QoyodError,
    QoyodMaybeSaved,
    QoyodNotFound,
    QoyodRejected,
    QoyodUnauthorised,
)
from qoyod_sync.messages import with_detail, with_qoyod_words
from qoyod_sync.models import BranchWarehouse, QoyodAttempt, QoyodConnection, QoyodProductLink
from qoyod_sync.models import QoyodStockAdjustment as Adjustment
from qoyod_sync.push.state import LEASE
from qoyod_sync.push.steps import _WRITE_MARGIN, attempt_record
from qoyod_sync.services import ConnectionUnusable, connection_get, connection_writer
from qoyod_sync.types import AdjustmentLine, NewInventoryAdjustment, Product

State = Adjustment.State


class StockSyncRefused(ValidationError):
    """The sync could not start (not connected, nothing mapped, nothing to sync, busy)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())


@dataclass
class StockSyncResult:
    adjustment: Adjustment
    message: str

    @property
    def ok(self) -> bool:
        return self.adjustment.state in (State.DONE, State.IN_STEP)


@dataclass
class _Part:
    part: SparePart
    link: QoyodProductLink
    ours: Decimal


class _Stop(Exception):
    def __init__(self, state: str, reason: Message) -> None:
        super().__init__(reason.code)
        self.state, self.reason = state, reason


def stock_adjustment_send(
    *,
    branch: Branch,
    user: User | None,
    invoice: Invoice | None = None,
    options: ClientOptions | None = None,
) -> StockSyncResult:
    """Set Qoyod's stock at the branch's warehouse to our count, for the parts of `invoice`
    (or every part of the branch in Qoyod when there is no invoice)."""
    connection, warehouse, parts, missing = _preflight(branch, invoice)
    try:
        writer = connection_writer(connection, options=options)
    except ConnectionUnusable as exc:
        raise StockSyncRefused(exc.reason) from None
    adjustment = _claim(branch, invoice, warehouse, user)
    try:
        state, reason = _run(adjustment, writer, connection, warehouse, parts, user)
    except _Stop as stop:
        state, reason = stop.state, stop.reason
    except Exception as exc:
        _finish(adjustment, State.FAILED, Message("sync.unexpected_error", error=str(exc)))
        raise
    _finish(adjustment, state, reason)
    if state in (State.DONE, State.IN_STEP):
        _settle_earlier(adjustment)
    message = with_qoyod_words(adjustment.reason, adjustment.qoyod_message)
    if missing:
        message += " " + Message("stock.not_in_qoyod", parts=missing).render()
    return StockSyncResult(adjustment, message)


# ---- before any call ------------------------------------------------------------------------


def _preflight(
    branch: Branch, invoice: Invoice | None
) -> tuple[QoyodConnection, BranchWarehouse, list[_Part], list[str]]:
    connection = connection_get()
    if connection is None:
        raise StockSyncRefused(Message("preflight.connect_first"))
    warehouse = BranchWarehouse.objects.filter(branch=branch).first()
    if warehouse is None:
        raise StockSyncRefused(Message("preflight.no_warehouse", branch=branch.name))
    if connection.stock_accounts_missing:
        raise StockSyncRefused(Message("stock.accounts_missing"))
    if invoice is not None:
        on_invoice = invoice.lines.filter(spare_part__isnull=False).values("spare_part")
        chosen = SparePart.objects.filter(pk__in=on_invoice)
    else:
        chosen = SparePart.objects.filter(qoyod_link__isnull=False, is_active=True)
    counts = dict(
        PartStock.objects.filter(branch=branch, part__in=chosen).values_list("part_id", "quantity")
    )
    parts, missing = [], []
    for part in chosen.select_related("qoyod_link").order_by("sku"):
        link = getattr(part, "qoyod_link", None)
        if link is None:
            missing.append(f"{part.name} ({part.sku})")
        else:
            parts.append(_Part(part, link, counts.get(part.pk, Decimal("0"))))
    if not parts:
        raise StockSyncRefused(Message("stock.no_parts"))
    return connection, warehouse, parts, missing


def _claim(
    branch: Branch, invoice: Invoice | None, warehouse: BranchWarehouse, user: User | None
) -> Adjustment:
    now = timezone.now()
    for lapsed in Adjustment.objects.filter(
        branch=branch, state=State.SENDING, lease_until__lte=now
    ):
        # The request that claimed it died: whatever it posted may have reached Qoyod.
        when = timezone.localtime(lapsed.created_at).strftime("%Y-%m-%d %H:%M")
        Adjustment.objects.filter(pk=lapsed.pk, state=State.SENDING, lease_until__lte=now).update(
            state=State.UNKNOWN, lease_until=None, claim_token="", finished_at=now,
            reason_code="sync.never_finished", reason_params={"when": when},
        )  # fmt: skip
    try:
        with transaction.atomic():
            return Adjustment.objects.create(
                branch=branch, invoice=invoice, inventory_id=warehouse.qoyod_inventory_id,
                state=State.SENDING, lease_until=now + LEASE, claim_token=uuid.uuid4().hex,
                created_by=user,
            )  # fmt: skip
    except IntegrityError:
        raise StockSyncRefused(Message("stock.busy", branch=branch.name)) from None


# ---- the calls (no transaction is open here) ------------------------------------------------


def _run(
    adjustment: Adjustment,
    writer: QoyodWriter,
    connection: QoyodConnection,
    warehouse: BranchWarehouse,
    parts: list[_Part],
    user: User | None,
) -> tuple[str, Message]:
    where = warehouse.name or str(warehouse.qoyod_inventory_id)
    theirs = _read_stock(writer, parts, warehouse.qoyod_inventory_id)
    adjustment.lines = [
        {"part": p.part.pk, "sku": p.part.sku, "name": p.part.name,
         "product_id": p.link.qoyod_id, "ours": _count(p.ours), "qoyod": _count(theirs[p.part.pk])}
        for p in parts
    ]  # fmt: skip
    Adjustment.objects.filter(pk=adjustment.pk).update(lines=adjustment.lines)
    lines = tuple(
        AdjustmentLine(
            product_id=p.link.qoyod_id,
            actual_quantity=p.ours,
            current_quantity=theirs[p.part.pk],
            rate=p.part.cost,
        )  # fmt: skip
        for p in parts
        if p.ours != theirs[p.part.pk]
    )
    if not lines:
        return State.IN_STEP, Message("stock.in_step", warehouse=where)
    lease_until = adjustment.lease_until
    if lease_until is None or timezone.now() + _WRITE_MARGIN > lease_until:
        return State.FAILED, Message("send.lease_ran_out")
    scope = adjustment.invoice.number if adjustment.invoice else ""
    description = (
        f"Stock count of {adjustment.branch.code} for {scope}"
        if scope
        else f"Stock count of {adjustment.branch.code}"
    )
    gain, loss = connection.stock_gain_account_id, connection.stock_loss_account_id
    assert gain is not None and loss is not None, "pre-flight refuses missing stock accounts"
    request = NewInventoryAdjustment(
        inventory_id=warehouse.qoyod_inventory_id, gain_account_id=gain, loss_account_id=loss,
        date=timezone.localdate(), description=description, lines=lines,
    )  # fmt: skip
    target = ", ".join(p.part.sku for p in parts if p.ours != theirs[p.part.pk])
    try:
        created = writer.create_inventory_adjustment(request)
    except QoyodError as exc:
        _log(adjustment, user, target, lines, exc=exc)
        raise _Stop(*_failure(exc)) from None
    _log(adjustment, user, target, lines, qoyod_id=created.id)
    Adjustment.objects.filter(pk=adjustment.pk).update(qoyod_id=created.id)
    return State.DONE, Message("stock.done", count=len(lines), warehouse=where)


def _read_stock(writer: QoyodWriter, parts: list[_Part], inventory_id: int) -> dict[int, Decimal]:
    """Qoyod's stock of each part at the warehouse, found by SKU and else read by id."""
    try:
        found = writer.reader.find_products_by_skus([p.link.sku for p in parts])
        products: dict[int, Product] = {p.id: p for p in found.values()}
        for p in parts:
            if p.link.qoyod_id not in products:
                products[p.link.qoyod_id] = writer.reader.get_product(p.link.qoyod_id)
    except QoyodError as exc:
        raise _Stop(*_failure(exc, doing=Message("step.stock_read"))) from None
    return {p.part.pk: products[p.link.qoyod_id].stock_at(inventory_id) for p in parts}


def _failure(exc: QoyodError, doing: Message | None = None) -> tuple[str, Message]:
    doing = doing or Message("step.stock_adjust")
    if isinstance(exc, QoyodMaybeSaved):
        return State.UNKNOWN, with_detail("stock.maybe_saved", exc)
    if isinstance(exc, QoyodUnauthorised):
        return State.FAILED, Message("stock.key_refused")
    if isinstance(exc, QoyodRejected | QoyodNotFound):
        return State.FAILED, with_detail("send.refused", exc, doing=doing)
    return State.FAILED, with_detail("stock.temporary", exc, doing=doing)


def _count(value: Decimal) -> str:
    return f"{value.normalize():f}"


# ---- recording ------------------------------------------------------------------------------


def _log(
    adjustment: Adjustment,
    user: User | None,
    target: str,
    lines: Sequence[AdjustmentLine],
    *,
    exc: QoyodError | None = None,
    qoyod_id: int | None = None,
) -> None:
    outcome = QoyodAttempt.Outcome.OK if exc is None else None
    attempt = attempt_record(
        adjustment=adjustment, step=QoyodAttempt.Step.STOCK, target=target, user=user,
        outcome=outcome, exc=exc, qoyod_id=qoyod_id,
    )  # fmt: skip
    sent = {row["product_id"]: row["sku"] for row in adjustment.lines}
    audit_record(actor=user, action=AuditEvent.Action.QOYOD_STOCK_ADJUST, obj=adjustment, after={
        "branch": adjustment.branch.code, "outcome": attempt.outcome, "qoyod_id": qoyod_id,
        "http_status": attempt.http_status, "detail_code": attempt.detail_code,
        "lines": {sent[line.product_id]: _count(line.actual_quantity) for line in lines},
    })  # fmt: skip


def _finish(adjustment: Adjustment, state: str, reason: Message) -> None:
    fields: dict[str, Any] = {
        "state": state, "lease_until": None, "claim_token": "", "finished_at": timezone.now(),
        "reason_code": reason.code, "reason_params": reason.params,
        "qoyod_message": reason.qoyod_message,
    }  # fmt: skip
    # A request whose lease lapsed lost the claim: a later sync already marked it unknown.
    Adjustment.objects.filter(
        pk=adjustment.pk, state=State.SENDING, claim_token=adjustment.claim_token
    ).update(**fields)
    adjustment.refresh_from_db()


def _settle_earlier(adjustment: Adjustment) -> None:
    """Earlier syncs whose answer was lost, for parts this one has just brought to our count."""
    parts = {row["part"] for row in adjustment.lines}
    for earlier in Adjustment.objects.filter(
        branch=adjustment.branch, state=State.UNKNOWN, pk__lt=adjustment.pk
    ):
        if {row["part"] for row in earlier.lines} <= parts:
            Adjustment.objects.filter(pk=earlier.pk, state=State.UNKNOWN).update(
                state=State.SETTLED, reason_code="stock.settled",
                reason_params={"id": adjustment.pk}, qoyod_message="",
            )  # fmt: skip
