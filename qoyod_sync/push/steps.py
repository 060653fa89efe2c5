"""The Qoyod calls of one send (lookup, customer, products, stock, invoice) and how each
failure becomes an outcome. Runs with no database transaction open; remote ids are stored the
moment Qoyod returns them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Protocol, TypeVar

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from core.messages import Message
from garage.models import Customer, ServiceItem, SparePart
from invoicing.models import Invoice, InvoiceLine
from qoyod_sync import mappers
from qoyod_sync.client import DEFAULT_DEADLINE, ClientOptions, QoyodWriter
from qoyod_sync.errors import (
    QoyodError,
    QoyodMaybeSaved,
    QoyodNotFound,
    QoyodNotSent,
    QoyodRateLimited,
    QoyodRejected,
    QoyodUnauthorised,
    accounting_rejected,
    customer_inactive,
    reference_taken,
    sku_taken,
    stock_rejected,
    vat_rejected,
)
from qoyod_sync.messages import qoyod_error, with_detail
from qoyod_sync.models import (
    FailureKind,
    QoyodAttempt,
    QoyodConnection,
    QoyodCustomerLink,
    QoyodInvoiceSync,
    QoyodProductLink,
)
from qoyod_sync.models import SyncState as S
from qoyod_sync.types import Customer as RemoteCustomer
from qoyod_sync.types import DraftInvoice, Product
from qoyod_sync.types import Invoice as RemoteInvoice


class _Created(Protocol):
    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=_Created)


# The steps that write to Qoyod, each audited with its outcome (a lookup only reads).
_AUDITED: dict[str, str] = {
    QoyodAttempt.Step.CUSTOMER: AuditEvent.Action.QOYOD_CUSTOMER_CREATE,
    QoyodAttempt.Step.PRODUCT: AuditEvent.Action.QOYOD_PRODUCT_CREATE,
    QoyodAttempt.Step.INVOICE: AuditEvent.Action.QOYOD_INVOICE_CREATE,
}

# No new Qoyod write starts unless it can finish (client deadline) inside the lease.
_WRITE_MARGIN = timedelta(seconds=DEFAULT_DEADLINE + 15)


class Stop(Exception):
    """Ends a send with an outcome: the state to record and why."""

    def __init__(
        self,
        state: str,
        kind: str,
        reason: Message,
        *,
        remote: RemoteInvoice | None = None,
    ) -> None:
        super().__init__(reason.code)
        self.state, self.kind, self.reason, self.remote = state, kind, reason, remote


@dataclass
class Send:
    invoice: Invoice
    sync: QoyodInvoiceSync
    user: User | None
    claimed_from: str
    token: str
    options: ClientOptions | None
    writer: QoyodWriter | None = None
    connection: QoyodConnection | None = None
    lines: list[InvoiceLine] = field(default_factory=list)
    # Set just before POST /invoices: from then on a lost answer means "may exist in Qoyod".
    invoice_posted: bool = False

    @property
    def connected(self) -> tuple[QoyodWriter, QoyodConnection]:
        """The writer and connection for the steps after preflight, which has refused a send
        without a connection: reaching a step without them is a bug, not a user's problem."""
        if self.writer is None or self.connection is None:
            raise RuntimeError("a send step ran without a Qoyod connection")
        return self.writer, self.connection


def number_of(invoice: Invoice) -> dict[str, str]:
    return {"number": invoice.number}


def lookup_reference(send: Send) -> RemoteInvoice | None:
    """Retry of an unknown outcome: is our reference already in Qoyod?"""
    number = send.invoice.number
    if send.writer is None:
        raise Stop(S.UNKNOWN, FailureKind.NOT_CONNECTED, Message("qoyod.not_connected"))
    try:
        found = send.writer.reader.find_invoice_by_reference(number)
    except QoyodError as exc:
        _attempt(send, QoyodAttempt.Step.LOOKUP, number, exc=exc)
        raise Stop(
            S.UNKNOWN, _kind_of(exc), with_detail("send.lookup_failed", exc, number=number),
        ) from None  # fmt: skip
    outcome = QoyodAttempt.Outcome.FOUND if found else QoyodAttempt.Outcome.ABSENT
    _attempt(send, QoyodAttempt.Step.LOOKUP, number, outcome=outcome,
             qoyod_id=found.id if found else None)  # fmt: skip
    return found


def ensure_customer(send: Send) -> int:
    """The customer's Qoyod id: stored, else found by VAT number, then phone, else created."""
    customer = send.invoice.customer
    link = QoyodCustomerLink.objects.filter(customer=customer).first()
    if link is not None:
        return link.qoyod_id
    writer, _connection = send.connected
    matched_by = QoyodCustomerLink.MatchedBy.VAT_NUMBER
    matches: list[RemoteCustomer] = []
    try:
        if customer.vat_number:
            matches = writer.reader.find_customers_by_tax_number(customer.vat_number)
        if not matches:
            matched_by = QoyodCustomerLink.MatchedBy.PHONE
            matches = writer.reader.find_customers_by_phone(customer.phone)
    except QoyodError as exc:
        raise _stop_before_invoice(send, exc, Message("step.customer_lookup")) from None
    if matches:
        # Qoyod allows duplicates (qoyod-api.md §3.3): prefer an active one, then the oldest.
        chosen = sorted(matches, key=lambda c: (not c.is_active, c.id))[0]
        chosen_id = _link_customer(customer, chosen.id, matched_by)
        if not chosen.is_active:
            raise Stop(
                S.FAILED, FailureKind.CUSTOMER_INACTIVE,
                Message("send.customer_inactive_id", name=customer.name, id=chosen.id),
            )  # fmt: skip
        return chosen_id
    created = _write(
        send, QoyodAttempt.Step.CUSTOMER, customer.name,
        lambda: writer.create_customer(**mappers.customer_fields(customer)),
        lambda exc: _stop_before_invoice(send, exc, Message("step.customer_create")),
    )  # fmt: skip
    # Stored before anything else can fail, so a retry never creates the customer again.
    return _link_customer(customer, created.id, QoyodCustomerLink.MatchedBy.CREATED)


def _link_customer(customer: Customer, qoyod_id: int, matched_by: str) -> int:
    """Store the customer's Qoyod id; if a send of another invoice linked it first, use theirs."""
    link, _created = QoyodCustomerLink.objects.get_or_create(
        customer=customer, defaults={"qoyod_id": qoyod_id, "matched_by": matched_by}
    )
    return link.qoyod_id


def ensure_products(send: Send) -> tuple[dict[mappers.ProductKey, int], dict[int, Product]]:
    """Each line's Qoyod product id, and the Qoyod record of each spare part (for its stock)."""
    items: dict[mappers.ProductKey, ServiceItem | SparePart] = {}
    for line in send.lines:
        items.setdefault(mappers.product_key(line), mappers.line_item(line))
    links = _product_links(items)
    # One lookup by SKU serves both matching the unlinked items and reading the parts' stock.
    skus = [
        mappers.product_sku(item)
        for key, item in items.items()
        if key not in links or isinstance(item, SparePart)
    ]
    writer, _connection = send.connected
    try:
        found = writer.reader.find_products_by_skus(skus) if skus else {}
    except QoyodError as exc:
        raise _stop_before_invoice(send, exc, Message("step.product_lookup")) from None
    ids: dict[mappers.ProductKey, int] = {}
    parts: dict[int, Product] = {}
    for key, item in items.items():
        sku = mappers.product_sku(item)
        remote = found.get(sku)
        if key in links:
            ids[key] = links[key]
        elif remote is not None:
            _refuse_wrong_kind(item, remote)
            ids[key] = _link_product(item, remote.id, sku, QoyodProductLink.MatchedBy.SKU)
        else:
            # Qoyod SKUs are unique, so nobody else can have linked another id for this item.
            remote = _create_product(send, item)
            ids[key] = remote.id
        if isinstance(item, SparePart):
            parts[item.pk] = (
                remote if remote is not None and remote.id == ids[key] else _product(send, item)
            )
    return ids, parts


def _product_links(
    items: dict[mappers.ProductKey, ServiceItem | SparePart],
) -> dict[mappers.ProductKey, int]:
    service_ids = [k.pk for k in items if k.kind == InvoiceLine.Kind.SERVICE]
    part_ids = [k.pk for k in items if k.kind == InvoiceLine.Kind.PART]
    rows = QoyodProductLink.objects.filter(
        Q(service_item_id__in=service_ids) | Q(spare_part_id__in=part_ids)
    )
    links = {}
    for row in rows:
        if row.service_item_id is not None:
            links[mappers.ProductKey(InvoiceLine.Kind.SERVICE, row.service_item_id)] = row.qoyod_id
        elif row.spare_part_id is not None:
            links[mappers.ProductKey(InvoiceLine.Kind.PART, row.spare_part_id)] = row.qoyod_id
    return links


def _refuse_wrong_kind(item: ServiceItem | SparePart, remote: Product) -> None:
    """A SKU match of the wrong kind is someone else's product: report it, never overwrite."""
    is_part = isinstance(item, SparePart)
    if is_part == (remote.type == "Service") or (not is_part and remote.track_quantity):
        raise Stop(
            S.FAILED, FailureKind.SKU_TAKEN,
            Message(
                "send.sku_wrong_kind", sku=remote.sku, name=remote.name_en or remote.name_ar,
                id=remote.id, type=remote.type,
                what=Message("step.part" if is_part else "step.service"), ours=item.name,
            ),
        )  # fmt: skip


def _link_product(item: ServiceItem | SparePart, qoyod_id: int, sku: str, matched_by: str) -> int:
    """Store the item's Qoyod id; if a send of another invoice linked it first, use theirs."""
    is_part = isinstance(item, SparePart)
    link, _created = QoyodProductLink.objects.get_or_create(
        service_item=None if is_part else item,
        spare_part=item if is_part else None,
        defaults={"qoyod_id": qoyod_id, "sku": sku, "matched_by": matched_by},
    )
    return link.qoyod_id


def _create_product(send: Send, item: ServiceItem | SparePart) -> Product:
    writer, connection = send.connected
    sku = mappers.product_sku(item)
    create: Callable[..., Product]
    if isinstance(item, ServiceItem):
        fields = mappers.service_product_fields(item, connection)
        create = writer.create_service_product
    else:
        fields = mappers.part_product_fields(item, connection)
        create = writer.create_stock_product

    def on_error(exc: QoyodError) -> Stop:
        if sku_taken(exc):
            # Our SKU lookup did not see it, but Qoyod has it: report, never overwrite.
            return Stop(
                S.FAILED, FailureKind.SKU_TAKEN,
                Message(
                    "send.sku_taken", name=item.name, sku=sku,
                    qoyod_message=qoyod_error(exc).qoyod_message,
                ),
            )  # fmt: skip
        return _stop_before_invoice(send, exc, Message("step.product_create", sku=sku))

    created = _write(send, QoyodAttempt.Step.PRODUCT, sku, lambda: create(**fields), on_error)
    # Stored before anything else can fail, so a retry never creates the product again.
    _link_product(item, created.id, sku, QoyodProductLink.MatchedBy.CREATED)
    return created


def _product(send: Send, item: SparePart) -> Product:
    """A linked part whose SKU lookup did not return the linked product: read it by id."""
    link = QoyodProductLink.objects.get(spare_part=item)
    writer, _connection = send.connected
    try:
        return writer.reader.get_product(link.qoyod_id)
    except QoyodNotFound:
        # Deleted in Qoyod: forget the id so the retry matches by SKU or creates it again.
        link.delete()
        raise Stop(
            S.FAILED, FailureKind.REJECTED,
            Message("send.part_gone", name=item.name, id=link.qoyod_id),
        ) from None  # fmt: skip
    except QoyodError as exc:
        raise _stop_before_invoice(send, exc, Message("step.stock_read")) from None


def check_stock(send: Send, parts: dict[int, Product], inventory_id: int) -> None:
    needed: dict[int, Decimal] = {}
    names: dict[int, str] = {}
    for line in send.lines:
        if line.spare_part is not None:
            pk = line.spare_part.pk
            needed[pk] = needed.get(pk, Decimal("0")) + line.quantity
            names[pk] = f"{line.spare_part.name} ({line.spare_part.sku})"
    short = [
        (pk, qty, parts[pk].stock_at(inventory_id))
        for pk, qty in needed.items()
        if parts[pk].track_quantity and parts[pk].stock_at(inventory_id) < qty
    ]
    if short:
        warehouse = send.invoice.branch.qoyod_warehouse
        detail = [
            Message("send.stock_line", part=names[pk], needed=_qty(qty), has=_qty(has))
            for pk, qty, has in short
        ]
        raise Stop(
            S.FAILED, FailureKind.STOCK_SHORTFALL,
            Message(
                "send.stock_shortfall",
                warehouse=warehouse.name or warehouse.qoyod_inventory_id, detail=detail,
            ),
        )  # fmt: skip


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def create_invoice(send: Send, draft: DraftInvoice) -> RemoteInvoice:
    _check_lease(send)
    writer, _connection = send.connected
    # From here a lost answer means the draft may exist in Qoyod.
    send.invoice_posted = True
    number = send.invoice.number
    try:
        created = writer.create_draft_invoice(draft)
    except QoyodError as exc:
        _attempt(send, QoyodAttempt.Step.INVOICE, number, exc=exc)
        if reference_taken(exc):
            # Qoyod's unique reference caught a second create (qoyod-api.md §11.2): ours is
            # already there, so find it and link it.
            found = lookup_reference(send)
            if found is not None:
                return found
            raise Stop(
                S.UNKNOWN, FailureKind.OUTCOME_UNKNOWN,
                Message("send.reference_not_found", number=number),
            ) from None  # fmt: skip
        raise _invoice_stop(send, exc) from None
    _attempt(send, QoyodAttempt.Step.INVOICE, number, outcome=QoyodAttempt.Outcome.OK,
             qoyod_id=created.id)  # fmt: skip
    return created


def _check_lease(send: Send) -> None:
    # A claimed send always has a lease; without one it is not this send's to write.
    lease_until = send.sync.lease_until
    if lease_until is None or timezone.now() + _WRITE_MARGIN > lease_until:
        raise Stop(
            S.FAILED, FailureKind.TEMPORARY,
            Message("send.lease_ran_out"),
        )  # fmt: skip


def _write(
    send: Send,
    step: str,
    target: str,
    call: Callable[[], T],
    on_error: Callable[[QoyodError], Stop],
) -> T:
    """One Qoyod write (customer or product): checked against the lease and logged."""
    _check_lease(send)
    try:
        result = call()
    except QoyodError as exc:
        _attempt(send, step, target, exc=exc)
        raise on_error(exc) from None
    _attempt(send, step, target, outcome=QoyodAttempt.Outcome.OK, qoyod_id=result.id)
    return result


def _attempt(
    send: Send,
    step: str,
    target: str,
    *,
    outcome: str | None = None,
    exc: QoyodError | None = None,
    qoyod_id: int | None = None,
) -> None:
    detail = qoyod_error(exc) if exc else None
    attempt = QoyodAttempt.objects.create(
        invoice=send.invoice, step=step, target=target[:200],
        outcome=outcome or _outcome_of(exc), http_status=exc.status_code if exc else None,
        detail_code=detail.code if detail else "", detail_params=detail.params if detail else {},
        message=detail.qoyod_message if detail else "", qoyod_id=qoyod_id, user=send.user,
    )  # fmt: skip
    if step in _AUDITED:
        audit_record(actor=send.user, action=_AUDITED[step], obj=send.invoice, after={
            "target": attempt.target, "outcome": attempt.outcome, "qoyod_id": qoyod_id,
            "http_status": attempt.http_status, "detail_code": attempt.detail_code,
        })  # fmt: skip


def _outcome_of(exc: QoyodError | None) -> str:
    if isinstance(exc, QoyodRejected):
        return QoyodAttempt.Outcome.REJECTED
    if isinstance(exc, QoyodUnauthorised):
        return QoyodAttempt.Outcome.KEY_REJECTED
    if isinstance(exc, QoyodMaybeSaved):
        return QoyodAttempt.Outcome.MAYBE_SAVED
    if isinstance(exc, QoyodNotSent | QoyodRateLimited):
        return QoyodAttempt.Outcome.NOT_SENT
    return QoyodAttempt.Outcome.FAILED


def _kind_of(exc: QoyodError) -> str:
    if isinstance(exc, QoyodUnauthorised):
        return FailureKind.KEY_REJECTED
    return FailureKind.OUTCOME_UNKNOWN


def _stop_before_invoice(send: Send, exc: QoyodError, doing: Message) -> Stop:
    """A failure before POST /invoices: the invoice cannot be in Qoyod, so it simply failed."""
    if isinstance(exc, QoyodUnauthorised):
        # Back to where it was (ready, failed or unknown): nothing about the invoice is wrong,
        # the connection is; it waits for the finance manager, not in the retry queue.
        return Stop(
            send.claimed_from, FailureKind.KEY_REJECTED,
            Message("send.key_refused"),
        )  # fmt: skip
    if isinstance(exc, QoyodRejected | QoyodNotFound):
        return Stop(
            S.FAILED, FailureKind.REJECTED, with_detail("send.refused", exc, doing=doing),
        )  # fmt: skip
    return Stop(
        S.FAILED, FailureKind.TEMPORARY,
        with_detail("send.temporary", exc, doing=doing),
    )  # fmt: skip


def _invoice_stop(send: Send, exc: QoyodError) -> Stop:
    if isinstance(exc, QoyodMaybeSaved):
        return Stop(
            S.UNKNOWN, FailureKind.OUTCOME_UNKNOWN,
            with_detail("send.maybe_saved", exc, number=send.invoice.number),
        )  # fmt: skip
    if isinstance(exc, QoyodRejected):
        said = qoyod_error(exc).qoyod_message
        if customer_inactive(exc):
            return Stop(
                S.FAILED, FailureKind.CUSTOMER_INACTIVE,
                Message(
                    "send.customer_inactive", name=send.invoice.customer.name, qoyod_message=said
                ),
            )  # fmt: skip
        return Stop(
            S.FAILED, _rejection_kind(exc),
            Message("send.rejected", status=exc.status_code, qoyod_message=said),
        )  # fmt: skip
    return _stop_before_invoice(send, exc, Message("step.invoice_create"))


def _rejection_kind(exc: QoyodRejected) -> str:
    """Which of our data Qoyod objected to; an answer naming several is filed under the first."""
    if stock_rejected(exc):
        return FailureKind.REJECTED_STOCK
    if vat_rejected(exc):
        return FailureKind.REJECTED_VAT
    if accounting_rejected(exc):
        return FailureKind.REJECTED_ACCOUNTING
    return FailureKind.REJECTED
