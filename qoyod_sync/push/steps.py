"""The Qoyod calls of one send (lookup, customer, products, stock, invoice) and how each
failure becomes an outcome. Runs with no database transaction open; remote ids are stored the
moment Qoyod returns them.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from core.messages import Message
from core.money import HALALA
from garage.models import Customer, ServiceItem, SparePart
from invoicing.models import Invoice, InvoiceLine
from qoyod_sync import mappers
from qoyod_sync.client import ClientOptions, QoyodWriter
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
    sku_taken_by,
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
    QoyodStockAdjustment,
)
from qoyod_sync.models import SyncState as S
from qoyod_sync.push.state import LEASE, LEASE_MARGIN
from qoyod_sync.types import Customer as RemoteCustomer
from qoyod_sync.types import DraftInvoice, Product
from qoyod_sync.types import Invoice as RemoteInvoice

if TYPE_CHECKING:
    from accounting.models import Transaction


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

# No new Qoyod write starts once the send's budget is spent: the transport ends every call by
# then, so a write that starts in time also finishes inside the lease.
_WRITE_MARGIN = LEASE_MARGIN
# How long after a lost customer create Qoyod may still be saving it: the client's deadline
# and a margin for Qoyod's own work after we stopped listening.
_STILL_SAVING = timedelta(seconds=settings.QOYOD_DEADLINE + 15)

# How long a send waits for another send that is creating the same customer (a create on a
# working connection takes well under a second), and how often it looks.
_CUSTOMER_WAIT = 3.0
_CUSTOMER_POLL = 0.05


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
    # What Qoyod is short of at the warehouse (params of "sync.stock_short"), stored with the
    # draft so the row can say it.
    stock_shortage: dict[str, Any] = field(default_factory=dict)

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
    """Is our reference already in Qoyod? Only a document that is ours is returned; another
    one with our number is a reference collision for a person to resolve (design.md §3)."""
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
    if found is None:
        _attempt(send, QoyodAttempt.Step.LOOKUP, number, outcome=QoyodAttempt.Outcome.ABSENT)
        return None
    ours = _is_ours(send, found)
    outcome = QoyodAttempt.Outcome.FOUND if ours else QoyodAttempt.Outcome.NOT_OURS
    _attempt(send, QoyodAttempt.Step.LOOKUP, number, outcome=outcome, qoyod_id=found.id)
    if not ours:
        raise _collision(send, found)
    return found


def _is_ours(send: Send, found: RemoteInvoice) -> bool:
    """Same customer, issue date and line count, and a total within rounding of ours.

    Qoyod rounds VAT per line (qoyod-api.md §5.2 line_total) where our calculator may place a
    halala differently, so each line may move the total by at most one halala.
    """
    invoice = send.invoice
    link = QoyodCustomerLink.objects.filter(
        customer_id=invoice.customer_id, state=QoyodCustomerLink.State.LINKED
    ).first()
    tolerance = HALALA * len(send.lines)
    return (
        link is not None
        and found.contact_id == link.qoyod_id
        and found.issue_date == invoice.issue_date
        and len(found.lines) == len(send.lines)
        and abs(found.total - invoice.total) <= tolerance
    )


def _collision(send: Send, found: RemoteInvoice) -> Stop:
    invoice = send.invoice
    their_customer = f"#{found.contact_id}"
    if send.writer is not None and found.contact_id is not None:
        # Only for the sentence: without the name the id still says who it is.
        with contextlib.suppress(QoyodError):
            their_customer = send.writer.reader.get_customer(found.contact_id).name
    return Stop(
        S.REFERENCE_COLLISION, FailureKind.REFERENCE_COLLISION,
        Message(
            "send.reference_collision", id=found.id, number=invoice.number,
            their_customer=their_customer, their_total=str(found.total),
            their_date=found.issue_date.isoformat() if found.issue_date else "?",
            their_lines=len(found.lines), our_customer=invoice.customer.name,
            our_total=str(invoice.total), our_date=invoice.issue_date.isoformat(),
            our_lines=len(send.lines),
        ),
    )  # fmt: skip


def ensure_customer(send: Send) -> int:
    """The customer's Qoyod id: stored, else found (VAT number, phone, after a lost create also
    the exact name), else created by the one send that holds the customer's claim."""
    customer = send.invoice.customer
    token = uuid.uuid4().hex
    claim = _claim_customer(send, customer, token)
    if isinstance(claim, int):
        return claim
    writer, _connection = send.connected
    create_sent = False
    try:
        try:
            found = _find_customer(writer, customer, after_lost_create=claim is not None)
        except QoyodError as exc:
            raise _stop_before_invoice(
                send, exc, Message("step.customer_lookup"), FailureKind.REJECTED_CUSTOMER
            ) from None
        if found is not None:
            chosen, matched_by = found
            chosen_id = _customer_linked(send, token, chosen.id, matched_by)
            if not chosen.is_active:
                raise Stop(
                    S.FAILED, FailureKind.CUSTOMER_INACTIVE,
                    Message("send.customer_inactive_id", name=customer.name, id=chosen.id),
                )  # fmt: skip
            return chosen_id
        if claim is not None and timezone.now() < claim:
            # The lost create may still be saved: creating now could make a second customer.
            _customer_released(customer, token, state=QoyodCustomerLink.State.UNKNOWN,
                               lease_until=claim)  # fmt: skip
            raise Stop(
                S.FAILED, FailureKind.TEMPORARY,
                Message("send.customer_still_saving", name=customer.name),
            )  # fmt: skip
        create_sent = True
        created = _write(
            send, QoyodAttempt.Step.CUSTOMER, customer.name,
            lambda: writer.create_customer(**mappers.customer_fields(customer)),
            lambda exc: _customer_create_failed(send, exc, token, claim),
        )  # fmt: skip
    except BaseException:
        # The claim is still ours only when nothing above stored an outcome. Qoyod cannot have
        # this customer from us unless a create went out now or before: then it stays unknown.
        ours = QoyodCustomerLink.objects.filter(
            customer=customer, claim_token=token, state=QoyodCustomerLink.State.CREATING
        )
        if claim is None and not create_sent:
            ours.delete()
        else:
            settle = timezone.now() + _STILL_SAVING if create_sent else claim
            ours.update(state=QoyodCustomerLink.State.UNKNOWN, claim_token="", lease_until=settle)
        raise
    # Stored before anything else can fail, so a retry never creates the customer again.
    return _customer_linked(send, token, created.id, QoyodCustomerLink.MatchedBy.CREATED)


def _claim_customer(send: Send, customer: Customer, token: str) -> int | datetime | None:
    """Claim the right to find or create `customer` in Qoyod, or learn its stored id.

    Returns the stored Qoyod id; or None, claimed for a first lookup; or, claimed after a
    create whose outcome was lost, until when Qoyod may still be saving it. Another send's
    live claim is waited for briefly, then the send stops: it never creates a second one.
    """
    give_up = time.monotonic() + _CUSTOMER_WAIT
    while True:
        now = timezone.now()
        link = QoyodCustomerLink.objects.filter(customer=customer).first()
        if link is None:
            try:
                with transaction.atomic():
                    QoyodCustomerLink.objects.create(
                        customer=customer, state=QoyodCustomerLink.State.CREATING,
                        claim_token=token, lease_until=now + LEASE,
                    )  # fmt: skip
                return None
            except IntegrityError:
                continue  # another send inserted its claim first: read it
        if link.state == QoyodCustomerLink.State.LINKED:
            assert link.qoyod_id is not None
            return link.qoyod_id
        lease_until = link.lease_until or now
        # A creating claim whose lease lapsed belongs to a request that died mid-create.
        if link.state == QoyodCustomerLink.State.UNKNOWN or lease_until <= now:
            taken = QoyodCustomerLink.objects.filter(
                pk=link.pk, state=link.state, claim_token=link.claim_token
            ).update(state=QoyodCustomerLink.State.CREATING, claim_token=token,
                     lease_until=now + LEASE)  # fmt: skip
            if taken:
                return lease_until
            continue
        if time.monotonic() >= give_up:
            raise Stop(
                S.FAILED, FailureKind.TEMPORARY,
                Message("send.customer_being_created", name=customer.name,
                        number=send.invoice.number),
            )  # fmt: skip
        time.sleep(_CUSTOMER_POLL)


def _find_customer(
    writer: QoyodWriter, customer: Customer, *, after_lost_create: bool
) -> tuple[RemoteCustomer, str] | None:
    """The Qoyod customer that is ours, and how it was matched; None when Qoyod has none."""
    by = QoyodCustomerLink.MatchedBy
    if customer.vat_number and (
        matches := writer.reader.find_customers_by_tax_number(customer.vat_number)
    ):
        return _oldest_active(matches), by.VAT_NUMBER
    if matches := writer.reader.find_customers_by_phone(customer.phone):
        return _oldest_active(matches), by.PHONE
    if after_lost_create:
        # Qoyod has no customer reference we could store (qoyod-api.md §3.2), so the name we
        # sent is what is left; a VAT number that differs is someone else's.
        name = mappers.customer_fields(customer)["name"]
        matches = [
            c for c in writer.reader.find_customers_by_name(name)
            if not c.tax_number or c.tax_number.strip() == customer.vat_number.strip()
        ]  # fmt: skip
        if matches:
            # Our lost create is the newest customer of that name.
            return max(matches, key=lambda c: c.id), by.NAME
    return None


def _oldest_active(matches: list[RemoteCustomer]) -> RemoteCustomer:
    # Qoyod allows duplicates (qoyod-api.md §3.3): prefer an active one, then the oldest.
    return sorted(matches, key=lambda c: (not c.is_active, c.id))[0]


def _customer_create_failed(
    send: Send, exc: QoyodError, token: str, claim: datetime | None
) -> Stop:
    customer = send.invoice.customer
    if isinstance(exc, QoyodMaybeSaved):
        _customer_released(customer, token, state=QoyodCustomerLink.State.UNKNOWN,
                           lease_until=timezone.now() + _STILL_SAVING)  # fmt: skip
        return Stop(
            S.FAILED, FailureKind.TEMPORARY,
            with_detail("send.customer_maybe_saved", exc, name=customer.name),
        )  # fmt: skip
    if isinstance(exc, _NOT_SAVED):
        # Qoyod answered (or never heard us): this create saved nothing, so the link is left as
        # the claim found it, and a retry is not told to wait for a customer that cannot come.
        ours = QoyodCustomerLink.objects.filter(customer=customer, claim_token=token)
        if claim is None:
            ours.delete()
        else:
            ours.update(state=QoyodCustomerLink.State.UNKNOWN, claim_token="", lease_until=claim)
    return _stop_before_invoice(
        send, exc, Message("step.customer_create"), FailureKind.REJECTED_CUSTOMER
    )


_NOT_SAVED = (QoyodRejected, QoyodRateLimited, QoyodNotSent, QoyodUnauthorised, QoyodNotFound)


def _customer_linked(send: Send, token: str, qoyod_id: int, matched_by: str) -> int:
    """Store the customer's Qoyod id under our claim; should the claim have lapsed and another
    send linked it meanwhile, use theirs."""
    customer = send.invoice.customer
    QoyodCustomerLink.objects.filter(customer=customer, claim_token=token).update(
        state=QoyodCustomerLink.State.LINKED, qoyod_id=qoyod_id, matched_by=matched_by,
        claim_token="", lease_until=None, linked_at=timezone.now(),
    )  # fmt: skip
    link = QoyodCustomerLink.objects.get(customer=customer)
    if link.state != QoyodCustomerLink.State.LINKED or link.qoyod_id is None:
        raise Stop(
            S.FAILED, FailureKind.TEMPORARY,
            Message("send.customer_being_created", name=customer.name,
                    number=send.invoice.number),
        )  # fmt: skip
    return link.qoyod_id


def _customer_released(customer: Customer, token: str, **fields: object) -> None:
    QoyodCustomerLink.objects.filter(customer=customer, claim_token=token).update(
        claim_token="", **fields
    )


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
        raise _stop_before_invoice(
            send, exc, Message("step.product_lookup"), FailureKind.REJECTED_PRODUCT
        ) from None
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
            # Qoyod has the SKU but would not show it: most likely another send created it a
            # moment ago, and a plain retry links it.
            return Stop(
                S.FAILED, FailureKind.TEMPORARY,
                Message(
                    "send.sku_taken_retry", name=item.name, sku=sku,
                    qoyod_message=qoyod_error(exc).qoyod_message,
                ),
            )  # fmt: skip
        return _stop_before_invoice(
            send, exc, Message("step.product_create", sku=sku), FailureKind.REJECTED_PRODUCT
        )

    created = _write(
        send, QoyodAttempt.Step.PRODUCT, sku, lambda: create(**fields), on_error,
        recover=lambda exc: _taken_product(send, item, sku, exc),
    )  # fmt: skip
    # Stored before anything else can fail, so a retry never creates the product again.
    _link_product(item, created.id, sku, QoyodProductLink.MatchedBy.CREATED)
    return created


def _taken_product(
    send: Send, item: ServiceItem | SparePart, sku: str, exc: QoyodError
) -> Product | None:
    """After "SKU already taken": the product holding our SKU (SKUs are unique in Qoyod, §4.1),
    linked if it is of our kind; None when Qoyod does not show it yet."""
    if not sku_taken(exc):
        return None
    writer, _connection = send.connected
    try:
        remote = writer.reader.find_product_by_sku(sku)
        if remote is None and (taken_id := sku_taken_by(exc)) is not None:
            remote = writer.reader.get_product(taken_id)
    except QoyodError:
        return None
    if remote is None or remote.sku != sku:
        return None
    _refuse_wrong_kind(item, remote)
    _link_product(item, remote.id, sku, QoyodProductLink.MatchedBy.SKU)
    return remote


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
        raise _stop_before_invoice(
            send, exc, Message("step.stock_read"), FailureKind.REJECTED_PRODUCT
        ) from None


def check_stock(send: Send, parts: dict[int, Product], inventory_id: int) -> None:
    """Note which parts Qoyod is short of at the warehouse; the draft goes anyway.

    A part new to Qoyod starts at zero stock there, so refusing would stop every first send
    of a new part. The draft is sent with draft_if_out_of_stock (qoyod-api.md §5.1) and the
    row shows the shortage until someone syncs stock (qoyod_sync/stock.py).
    """
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
            Message("sync.stock_short_line", part=names[pk], needed=_qty(qty), has=_qty(has))
            for pk, qty, has in short
        ]
        send.stock_shortage = Message(
            "sync.stock_short",
            warehouse=warehouse.name or warehouse.qoyod_inventory_id, detail=detail,
        ).params  # fmt: skip


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
    recover: Callable[[QoyodError], T | None] | None = None,
) -> T:
    """One Qoyod write (customer or product): checked against the lease and logged.

    `recover` may turn a refusal into the record it was about (an SKU another send took).
    """
    _check_lease(send)
    try:
        result = call()
    except QoyodError as exc:
        _attempt(send, step, target, exc=exc)
        if recover is not None and (recovered := recover(exc)) is not None:
            return recovered
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
    attempt = attempt_record(
        invoice=send.invoice, step=step, target=target, user=send.user, outcome=outcome,
        exc=exc, qoyod_id=qoyod_id,
    )  # fmt: skip
    if step in _AUDITED:
        audit_record(actor=send.user, action=_AUDITED[step], obj=send.invoice, after={
            "target": attempt.target, "outcome": attempt.outcome, "qoyod_id": qoyod_id,
            "http_status": attempt.http_status, "detail_code": attempt.detail_code,
        })  # fmt: skip


def attempt_record(
    *,
    step: str,
    target: str,
    user: User | None,
    invoice: Invoice | None = None,
    adjustment: QoyodStockAdjustment | None = None,
    money_move: Transaction | None = None,
    outcome: str | None = None,
    exc: QoyodError | None = None,
    qoyod_id: int | None = None,
) -> QoyodAttempt:
    """One row of the attempt log: what was called, how it ended, in our words and Qoyod's."""
    detail = qoyod_error(exc) if exc else None
    return QoyodAttempt.objects.create(
        invoice=invoice, adjustment=adjustment, transaction=money_move, step=step,
        target=target[:200],
        outcome=outcome or _outcome_of(exc), http_status=exc.status_code if exc else None,
        detail_code=detail.code if detail else "", detail_params=detail.params if detail else {},
        message=detail.qoyod_message if detail else "", qoyod_id=qoyod_id, user=user,
    )  # fmt: skip


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


def _stop_before_invoice(
    send: Send, exc: QoyodError, doing: Message, rejected: str = FailureKind.REJECTED
) -> Stop:
    """A failure before POST /invoices: the invoice cannot be in Qoyod, so it simply failed."""
    if isinstance(exc, QoyodUnauthorised):
        # Failed, in the retry queue, so it is retried once the finance manager fixed the key
        # (the client marked the connection for the banner); a row that may already be in Qoyod
        # stays unknown, since nothing was learnt about it.
        stop_state = S.UNKNOWN if send.claimed_from == S.UNKNOWN else S.FAILED
        return Stop(stop_state, FailureKind.KEY_REJECTED, Message("send.key_refused"))
    if isinstance(exc, QoyodRejected | QoyodNotFound):
        return Stop(
            S.FAILED, rejected, with_detail("send.refused", exc, doing=doing),
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
