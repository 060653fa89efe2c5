"""Send an invoice to Qoyod as a Draft, and retry a failed or unknown send (design.md §4).

Only ever called from a web request a user started; never from a task, never automatically.

    claim (compare-and-set, with a lease)
      → [claimed from unknown: look the reference up; found → linked]
      → pre-flight (no HTTP) → customer → products → stock → POST /invoices
      → record the outcome (second short transaction)

No Qoyod call happens inside a database transaction: the claim and the outcome are separate
short transactions, and remote ids are stored the moment Qoyod returns them, so a later
failure never makes us create a customer or product twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

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
    describe_errors,
)
from qoyod_sync.models import (
    BranchWarehouse,
    FailureKind,
    QoyodAttempt,
    QoyodConnection,
    QoyodCustomerLink,
    QoyodInvoiceSync,
    QoyodProductLink,
    QoyodSyncStateChange,
)
from qoyod_sync.models import SyncState as S
from qoyod_sync.services import (
    ConnectionUnusable,
    connection_ensure_catalogue,
    connection_get,
    connection_writer,
)
from qoyod_sync.types import DraftInvoice, Product
from qoyod_sync.types import Invoice as RemoteInvoice

T = TypeVar("T")

# Allowed moves (design.md §4). SENDING goes back to where it came from when Qoyod refuses the
# API key: the invoice waits for the finance manager, not in the retry queue as a failure.
TRANSITIONS: dict[str, set[str]] = {
    S.NOT_REQUIRED: {S.READY},
    S.READY: {S.SENDING, S.NOT_REQUIRED},
    S.SENDING: {S.DRAFT_CREATED, S.FAILED, S.UNKNOWN, S.READY},
    S.FAILED: {S.SENDING, S.NOT_REQUIRED},
    S.UNKNOWN: {S.SENDING},
    S.DRAFT_CREATED: set(),
}
# A send makes a handful of calls, each bounded by the client's deadline; a request that has not
# finished by then died, and its row is treated as unknown.
LEASE = timedelta(minutes=5)
# No new Qoyod write starts unless it can finish (client deadline) inside the lease.
_WRITE_MARGIN = timedelta(seconds=DEFAULT_DEADLINE + 15)


class IllegalTransition(Exception):
    """A move the table does not allow: a bug, not a user error."""


class StateConflict(Exception):
    """The row was no longer in the state we read: another request moved it first."""


class SendRefused(ValidationError):
    """The send could not start (already sent, being sent, not marked for Qoyod, void)."""


def sync_transition(
    *,
    sync: QoyodInvoiceSync,
    to_state: str,
    user: AbstractBaseUser | None,
    note: str = "",
    expect_token: str | None = None,
    condition: Q | None = None,
    **fields: Any,
) -> None:
    """Move `sync` from the state it was read in to `to_state` and write a history row.

    The update is a compare-and-set on the state read (and `expect_token`, when given): if
    another request moved the row first nothing changes and StateConflict is raised.
    """
    from_state = sync.state
    if to_state not in TRANSITIONS[from_state]:
        raise IllegalTransition(f"{from_state} -> {to_state}")
    rows = QoyodInvoiceSync.objects.filter(pk=sync.pk, state=from_state)
    if expect_token is not None:
        rows = rows.filter(claim_token=expect_token)
    if condition is not None:
        rows = rows.filter(condition)
    now = timezone.now()
    with transaction.atomic():
        if not rows.update(state=to_state, updated_at=now, **fields):
            raise StateConflict(f"{sync.pk} is no longer {from_state}")
        QoyodSyncStateChange.objects.create(
            sync=sync, from_state=from_state, to_state=to_state, reason=note,
            changed_by=user, changed_at=now,
        )  # fmt: skip
    sync.refresh_from_db()


@dataclass
class SendResult:
    """What happened, for the page: the refreshed row and a sentence for the user."""

    sync: QoyodInvoiceSync
    message: str

    @property
    def ok(self) -> bool:
        return self.sync.state == S.DRAFT_CREATED


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str


class _Stop(Exception):
    """Ends a send with an outcome: the state to record and why."""

    def __init__(
        self,
        state: str,
        kind: str,
        reason: str,
        *,
        remote: RemoteInvoice | None = None,
    ) -> None:
        super().__init__(reason)
        self.state, self.kind, self.reason, self.remote = state, kind, reason, remote


@dataclass
class _Send:
    invoice: Invoice
    sync: QoyodInvoiceSync
    user: AbstractBaseUser | None
    claimed_from: str
    token: str
    options: ClientOptions | None
    writer: QoyodWriter | None = None
    connection: QoyodConnection | None = None
    lines: list[InvoiceLine] = field(default_factory=list)
    # Set just before POST /invoices: from then on a lost answer means "may exist in Qoyod".
    invoice_posted: bool = False


# ---- entry point ----------------------------------------------------------------------------


def invoice_send_draft(
    *,
    invoice: Invoice,
    user: AbstractBaseUser | None,
    retry: bool = False,
    options: ClientOptions | None = None,
) -> SendResult:
    """Send a saved invoice to Qoyod as a Draft (or retry a failed or unknown send)."""
    sync, claimed_from, token = _claim(invoice=invoice, user=user, retry=retry)
    send = _Send(
        invoice=invoice, sync=sync, user=user, claimed_from=claimed_from, token=token,
        options=options,
    )  # fmt: skip
    try:
        remote = _run(send)
    except _Stop as stop:
        return _finish(send, stop)
    except Exception as exc:
        # A bug or a database error mid-send: leave an honest state rather than a row that
        # stays "being sent" until its lease runs out, then let the error surface.
        state = S.UNKNOWN if send.invoice_posted else S.FAILED
        _finish(send, _Stop(state, FailureKind.TEMPORARY, _("Unexpected error: %s") % exc))
        raise
    return _finish(send, _Stop(S.DRAFT_CREATED, "", "", remote=remote))


def _claim(
    *, invoice: Invoice, user: AbstractBaseUser | None, retry: bool
) -> tuple[QoyodInvoiceSync, str, str]:
    invoice.refresh_from_db()
    if invoice.is_void:
        raise SendRefused(_("%(number)s is void; it is not sent to Qoyod.") % _n(invoice))
    sync, _created = QoyodInvoiceSync.objects.get_or_create(
        invoice=invoice, defaults={"state": S.READY if invoice.requires_qoyod else S.NOT_REQUIRED}
    )
    if invoice.qoyod_managed and sync.state != S.DRAFT_CREATED:
        # Managed in Qoyod by some other path (no send recorded here): never a second draft.
        raise SendRefused(_("%(number)s is already managed in Qoyod.") % _n(invoice))
    if not invoice.requires_qoyod:
        if sync.state in (S.READY, S.FAILED):
            _try(sync_transition, sync=sync, to_state=S.NOT_REQUIRED, user=user,
                 note=_("Requires Qoyod invoice was unticked."))  # fmt: skip
        if sync.state in (S.NOT_REQUIRED,):
            raise SendRefused(_("%(number)s is not marked “Requires Qoyod invoice”.") % _n(invoice))
    elif sync.state == S.NOT_REQUIRED:
        _try(sync_transition, sync=sync, to_state=S.READY, user=user,
             note=_("Requires Qoyod invoice was ticked."))  # fmt: skip
    if sync.lease_expired:
        # The request that claimed it died: whatever it sent may have reached Qoyod.
        try:
            sync_transition(
                sync=sync, to_state=S.UNKNOWN, user=user,
                condition=Q(lease_until__lte=timezone.now()),
                note=_("The send that started at %(when)s never finished.")
                % {"when": timezone.localtime(sync.last_attempt_at).strftime("%Y-%m-%d %H:%M")},
                failure_kind=FailureKind.OUTCOME_UNKNOWN, lease_until=None, claim_token="",
            )  # fmt: skip
        except StateConflict:
            raise SendRefused(_refusal(invoice, S.SENDING)) from None
    allowed = (S.FAILED, S.UNKNOWN) if retry else (S.READY,)
    if sync.state not in allowed:
        raise SendRefused(_refusal(invoice, sync.state))
    claimed_from = sync.state
    token = uuid.uuid4().hex
    now = timezone.now()
    try:
        sync_transition(
            sync=sync, to_state=S.SENDING, user=user,
            note=_("Retry") if retry else _("Send draft to Qoyod"),
            lease_until=now + LEASE, claim_token=token, attempts=F("attempts") + 1,
            last_attempt_at=now, last_attempt_by=user,
        )  # fmt: skip
    except StateConflict:
        # Another click, tab or user won the compare-and-set.
        sync.refresh_from_db()
        raise SendRefused(_refusal(invoice, sync.state)) from None
    return sync, claimed_from, token


def _try(function: Callable[..., None], **kwargs: Any) -> None:
    """A housekeeping move that another request may have made already: ignore the conflict."""
    try:
        function(**kwargs)
    except StateConflict:
        kwargs["sync"].refresh_from_db()


def _refusal(invoice: Invoice, state: str) -> str:
    if state == S.SENDING:
        return _("%(number)s is already being sent to Qoyod.") % _n(invoice)
    if state == S.DRAFT_CREATED:
        return _("%(number)s already has a draft in Qoyod.") % _n(invoice)
    if state in (S.FAILED, S.UNKNOWN):
        return _("%(number)s needs a retry, not a new send: see the reason, then Retry.") % _n(
            invoice
        )
    if state == S.READY:
        return _("%(number)s has not been sent yet: use Send draft to Qoyod.") % _n(invoice)
    return _("%(number)s is not marked “Requires Qoyod invoice”.") % _n(invoice)


def _n(invoice: Invoice) -> dict[str, str]:
    return {"number": invoice.number}


# ---- the work (no transaction is open here) -------------------------------------------------


def _run(send: _Send) -> RemoteInvoice:
    send.connection = connection_get()
    if send.connection is not None:
        try:
            send.writer = connection_writer(send.connection, options=send.options)
        except ConnectionUnusable as exc:
            stop_state = S.UNKNOWN if send.claimed_from == S.UNKNOWN else S.FAILED
            raise _Stop(stop_state, FailureKind.NOT_CONNECTED, exc.messages[0]) from None
    if send.claimed_from == S.UNKNOWN:
        found = _lookup(send)
        if found is not None:
            return found
    send.lines = list(
        send.invoice.lines.select_related("service_item", "spare_part").order_by("position", "id")
    )
    if send.connection is not None:
        send.connection = _catalogue_loaded(send)
    problems = invoice_preflight(invoice=send.invoice, lines=send.lines, connection=send.connection)
    if problems:
        raise _Stop(S.FAILED, problems[0].kind, "\n".join(p.message for p in problems))
    contact_id = _ensure_customer(send)
    product_ids, parts = _ensure_products(send)
    inventory_id = send.invoice.branch.qoyod_warehouse.qoyod_inventory_id
    _check_stock(send, parts, inventory_id)
    draft = mappers.draft_invoice(
        send.invoice, send.lines, contact_id=contact_id, product_ids=product_ids,
        inventory_id=inventory_id,
    )  # fmt: skip
    return _create_invoice(send, draft)


def _catalogue_loaded(send: _Send) -> QoyodConnection:
    """The first send after setup reads what Test connection would (warehouses, defaults)."""
    try:
        return connection_ensure_catalogue(connection=send.connection, options=send.options)
    except ValidationError:
        return send.connection


def _lookup(send: _Send) -> RemoteInvoice | None:
    """Retry of an unknown outcome: is our reference already in Qoyod?"""
    number = send.invoice.number
    if send.writer is None:
        raise _Stop(S.UNKNOWN, FailureKind.NOT_CONNECTED, _("Qoyod is not connected."))
    try:
        found = send.writer.reader.find_invoice_by_reference(number)
    except QoyodError as exc:
        _attempt(send, QoyodAttempt.Step.LOOKUP, number, exc=exc)
        raise _Stop(
            S.UNKNOWN, _kind_of(exc),
            _("Could not check Qoyod for %(number)s, so it may still exist there: %(error)s")
            % {"number": number, "error": exc.message},
        ) from None  # fmt: skip
    outcome = QoyodAttempt.Outcome.FOUND if found else QoyodAttempt.Outcome.ABSENT
    _attempt(send, QoyodAttempt.Step.LOOKUP, number, outcome=outcome,
             qoyod_id=found.id if found else None)  # fmt: skip
    return found


def invoice_preflight(
    *, invoice: Invoice, lines: Sequence[InvoiceLine], connection: QoyodConnection | None
) -> list[Problem]:
    """Everything that can be checked here before any call to Qoyod; [] when ready."""
    problems: list[Problem] = []
    if connection is None:
        return [Problem(FailureKind.NOT_CONNECTED, _("Connect Qoyod in Settings → Qoyod first."))]
    if connection.product_defaults_missing:
        problems.append(
            Problem(
                FailureKind.MAPPING_MISSING,
                _("Choose the tax, unit and category for new products in the Qoyod settings."),
            )
        )
    if not BranchWarehouse.objects.filter(branch_id=invoice.branch_id).exists():
        problems.append(
            Problem(
                FailureKind.MAPPING_MISSING,
                _("Branch %(branch)s has no Qoyod warehouse: choose one in the Qoyod settings.")
                % {"branch": invoice.branch.name},
            )
        )
    missing = customer_missing_details(invoice.customer)
    if missing:
        problems.append(
            Problem(
                FailureKind.CUSTOMER_INCOMPLETE,
                _("Customer %(name)s is missing: %(fields)s.")
                % {"name": invoice.customer.name, "fields": ", ".join(missing)},
            )
        )
    problems.extend(_line_problems(lines))
    problems.extend(_total_problems(invoice, lines))
    problems.extend(_sku_problems(lines))
    return problems


def customer_missing_details(customer: Customer) -> list[str]:
    """What Qoyod (and ZATCA, for a company) needs that the customer record lacks."""
    missing = []
    if not (customer.name_en or customer.name_ar):
        missing.append(_("name"))
    if not customer.phone:
        missing.append(_("mobile"))
    if customer.is_company:
        if not customer.vat_number:
            missing.append(_("VAT number"))
        if not (
            customer.building_number and customer.street and customer.city and customer.postal_code
        ):
            missing.append(_("national address (building number, street, city, postal code)"))
    return missing


def _line_problems(lines: Sequence[InvoiceLine]) -> list[Problem]:
    if not lines:
        return [Problem(FailureKind.LINE_UNLINKED, _("The invoice has no lines."))]
    problems = []
    for number, line in enumerate(lines, start=1):
        if line.item is None:
            problems.append(
                Problem(
                    FailureKind.LINE_UNLINKED,
                    _(
                        "Line %(n)d (%(text)s) is no longer linked to a service or part: edit "
                        "the invoice and choose one."
                    )
                    % {"n": number, "text": line.description_en},
                )
            )
    return problems


def _total_problems(invoice: Invoice, lines: Sequence[InvoiceLine]) -> list[Problem]:
    net = sum((line.line_net for line in lines), Decimal("0"))
    vat = sum((line.line_vat for line in lines), Decimal("0"))
    broken = [line for line in lines if line.line_total != line.line_net + line.line_vat]
    if broken or (net, vat, net + vat) != (invoice.net_total, invoice.vat_total, invoice.total):
        return [
            Problem(
                FailureKind.TOTALS,
                _(
                    "The lines add up to %(net)s + %(vat)s VAT, but the invoice says %(inv_net)s "
                    "+ %(inv_vat)s: open the invoice and save it again."
                )
                % {
                    "net": net,
                    "vat": vat,
                    "inv_net": invoice.net_total,
                    "inv_vat": invoice.vat_total,
                },
            )  # fmt: skip
        ]
    return []


def _sku_problems(lines: Sequence[InvoiceLine]) -> list[Problem]:
    # Qoyod SKUs are unique across all products, so a service code that is also a part number
    # would make both our items one Qoyod product.
    codes = {line.service_item.code for line in lines if line.service_item is not None}
    part_skus = {line.spare_part.sku for line in lines if line.spare_part is not None}
    clashes = codes & set(SparePart.objects.filter(sku__in=codes).values_list("sku", flat=True))
    clashes |= part_skus & set(
        ServiceItem.objects.filter(code__in=part_skus).values_list("code", flat=True)
    )
    return [
        Problem(
            FailureKind.SKU_TAKEN,
            _("%(sku)s is both a service code and a part number; rename one of them.")
            % {"sku": sku},
        )
        for sku in sorted(clashes)
    ]


def _ensure_customer(send: _Send) -> int:
    """The customer's Qoyod id: stored, else found by VAT number, then phone, else created."""
    customer = send.invoice.customer
    link = QoyodCustomerLink.objects.filter(customer=customer).first()
    if link is not None:
        return link.qoyod_id
    reader = send.writer.reader
    matched_by, matches = None, []
    try:
        if customer.vat_number:
            matched_by = QoyodCustomerLink.MatchedBy.VAT_NUMBER
            matches = reader.find_customers_by_tax_number(customer.vat_number)
        if not matches:
            matched_by = QoyodCustomerLink.MatchedBy.PHONE
            matches = reader.find_customers_by_phone(customer.phone)
    except QoyodError as exc:
        raise _stop_before_invoice(send, exc, _("looking up the customer")) from None
    if matches:
        # Qoyod allows duplicates (qoyod-api.md §3.3): prefer an active one, then the oldest.
        chosen = sorted(matches, key=lambda c: (not c.is_active, c.id))[0]
        chosen_id = _link_customer(customer, chosen.id, matched_by)
        if not chosen.is_active:
            raise _Stop(
                S.FAILED, FailureKind.CUSTOMER_INACTIVE,
                _("Customer %(name)s is inactive in Qoyod (Qoyod id %(id)s): make them active "
                  "in Qoyod, then retry.") % {"name": customer.name, "id": chosen.id},
            )  # fmt: skip
        return chosen_id
    created = _write(
        send, QoyodAttempt.Step.CUSTOMER, customer.name,
        lambda: send.writer.create_customer(**mappers.customer_fields(customer)),
        lambda exc: _stop_before_invoice(send, exc, _("creating the customer")),
    )  # fmt: skip
    # Stored before anything else can fail, so a retry never creates the customer again.
    return _link_customer(customer, created.id, QoyodCustomerLink.MatchedBy.CREATED)


def _link_customer(customer: Customer, qoyod_id: int, matched_by: str) -> int:
    """Store the customer's Qoyod id; if a send of another invoice linked it first, use theirs."""
    link, _created = QoyodCustomerLink.objects.get_or_create(
        customer=customer, defaults={"qoyod_id": qoyod_id, "matched_by": matched_by}
    )
    return link.qoyod_id


def _ensure_products(send: _Send) -> tuple[dict[mappers.ProductKey, int], dict[int, Product]]:
    """Each line's Qoyod product id, and the Qoyod record of each spare part (for its stock)."""
    items: dict[mappers.ProductKey, ServiceItem | SparePart] = {}
    for line in send.lines:
        items.setdefault(mappers.product_key(line), line.item)
    links = _product_links(items)
    # One lookup by SKU serves both matching the unlinked items and reading the parts' stock.
    skus = [
        mappers.product_sku(item)
        for key, item in items.items()
        if key not in links or isinstance(item, SparePart)
    ]
    try:
        found = send.writer.reader.find_products_by_skus(skus) if skus else {}
    except QoyodError as exc:
        raise _stop_before_invoice(send, exc, _("looking up products")) from None
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
        else:
            links[mappers.ProductKey(InvoiceLine.Kind.PART, row.spare_part_id)] = row.qoyod_id
    return links


def _refuse_wrong_kind(item: ServiceItem | SparePart, remote: Product) -> None:
    """A SKU match of the wrong kind is someone else's product: report it, never overwrite."""
    is_part = isinstance(item, SparePart)
    if is_part == (remote.type == "Service") or (not is_part and remote.track_quantity):
        raise _Stop(
            S.FAILED, FailureKind.SKU_TAKEN,
            _("SKU %(sku)s is used in Qoyod by “%(name)s” (Qoyod id %(id)s), which is a "
              "%(type)s, not our %(what)s “%(ours)s”. Change the SKU here or in Qoyod, then "
              "retry.")
            % {"sku": remote.sku, "name": remote.name_en or remote.name_ar, "id": remote.id,
               "type": remote.type, "what": _("part") if is_part else _("service"),
               "ours": item.name},
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


def _create_product(send: _Send, item: ServiceItem | SparePart) -> Product:
    writer, connection = send.writer, send.connection
    sku = mappers.product_sku(item)
    if isinstance(item, ServiceItem):
        fields = mappers.service_product_fields(item, connection)
        create = writer.create_service_product
    else:
        fields = mappers.part_product_fields(item, connection)
        create = writer.create_stock_product

    def on_error(exc: QoyodError) -> _Stop:
        if isinstance(exc, QoyodRejected) and "sku" in exc.errors:
            # Our SKU lookup did not see it, but Qoyod has it: report, never overwrite.
            return _Stop(
                S.FAILED, FailureKind.SKU_TAKEN,
                _("Qoyod will not create %(name)s: its SKU %(sku)s is already used by another "
                  "Qoyod product (%(error)s). Change the SKU here or in Qoyod, then retry.")
                % {"name": item.name, "sku": sku, "error": _said(exc)},
            )  # fmt: skip
        return _stop_before_invoice(send, exc, _("creating product %(sku)s") % {"sku": sku})

    created = _write(send, QoyodAttempt.Step.PRODUCT, sku, lambda: create(**fields), on_error)
    # Stored before anything else can fail, so a retry never creates the product again.
    _link_product(item, created.id, sku, QoyodProductLink.MatchedBy.CREATED)
    return created


def _product(send: _Send, item: SparePart) -> Product:
    """A linked part whose SKU lookup did not return the linked product: read it by id."""
    link = QoyodProductLink.objects.get(spare_part=item)
    try:
        return send.writer.reader.get_product(link.qoyod_id)
    except QoyodNotFound:
        # Deleted in Qoyod: forget the id so the retry matches by SKU or creates it again.
        link.delete()
        raise _Stop(
            S.FAILED, FailureKind.REJECTED,
            _("Part %(name)s (Qoyod id %(id)s) no longer exists in Qoyod; retry to link or "
              "create it again.") % {"name": item.name, "id": link.qoyod_id},
        ) from None  # fmt: skip
    except QoyodError as exc:
        raise _stop_before_invoice(send, exc, _("reading stock")) from None


def _check_stock(send: _Send, parts: dict[int, Product], inventory_id: int) -> None:
    needed: dict[int, Decimal] = {}
    names: dict[int, str] = {}
    for line in send.lines:
        if line.spare_part is not None:
            pk = line.spare_part_id
            needed[pk] = needed.get(pk, Decimal("0")) + line.quantity
            names[pk] = f"{line.spare_part.name} ({line.spare_part.sku})"
    short = [
        (pk, qty, parts[pk].stock_at(inventory_id))
        for pk, qty in needed.items()
        if parts[pk].track_quantity and parts[pk].stock_at(inventory_id) < qty
    ]
    if short:
        warehouse = send.invoice.branch.qoyod_warehouse
        detail = "; ".join(
            _("%(part)s: needs %(needed)s, Qoyod has %(has)s")
            % {"part": names[pk], "needed": _qty(qty), "has": _qty(has)}
            for pk, qty, has in short
        )
        raise _Stop(
            S.FAILED, FailureKind.STOCK_SHORTFALL,
            _("Not enough stock in Qoyod warehouse %(warehouse)s — %(detail)s. Record the stock "
              "in Qoyod, then retry.")
            % {"warehouse": warehouse.name or warehouse.qoyod_inventory_id, "detail": detail},
        )  # fmt: skip


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _create_invoice(send: _Send, draft: DraftInvoice) -> RemoteInvoice:
    _check_lease(send)
    # From here a lost answer means the draft may exist in Qoyod.
    send.invoice_posted = True
    number = send.invoice.number
    try:
        created = send.writer.create_draft_invoice(draft)
    except QoyodError as exc:
        _attempt(send, QoyodAttempt.Step.INVOICE, number, exc=exc)
        if isinstance(exc, QoyodRejected) and _reference_taken(exc):
            # Qoyod's unique reference caught a second create (qoyod-api.md §11.2): ours is
            # already there, so find it and link it.
            found = _lookup(send)
            if found is not None:
                return found
            raise _Stop(
                S.UNKNOWN, FailureKind.OUTCOME_UNKNOWN,
                _("Qoyod says %(number)s is already taken but does not find it by that "
                  "reference; check Qoyod, then retry.") % _n(send.invoice),
            ) from None  # fmt: skip
        raise _invoice_stop(send, exc) from None
    _attempt(send, QoyodAttempt.Step.INVOICE, number, outcome=QoyodAttempt.Outcome.OK,
             qoyod_id=created.id)  # fmt: skip
    return created


def _reference_taken(exc: QoyodRejected) -> bool:
    return any("taken" in message.lower() for message in exc.errors.get("reference", []))


def _check_lease(send: _Send) -> None:
    if timezone.now() + _WRITE_MARGIN > send.sync.lease_until:
        raise _Stop(
            S.FAILED, FailureKind.TEMPORARY,
            _("The send took too long and stopped before writing to Qoyod; retry."),
        )  # fmt: skip


def _write(
    send: _Send,
    step: str,
    target: str,
    call: Callable[[], T],
    on_error: Callable[[QoyodError], _Stop],
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
    send: _Send,
    step: str,
    target: str,
    *,
    outcome: str | None = None,
    exc: QoyodError | None = None,
    qoyod_id: int | None = None,
) -> None:
    QoyodAttempt.objects.create(
        invoice=send.invoice, step=step, target=target[:200],
        outcome=outcome or _outcome_of(exc), http_status=exc.status_code if exc else None,
        message=exc.message if exc else "", qoyod_id=qoyod_id, user=send.user,
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


def _said(exc: QoyodError) -> str:
    return describe_errors(exc.errors) if isinstance(exc, QoyodRejected) else exc.message


def _stop_before_invoice(send: _Send, exc: QoyodError, doing: str) -> _Stop:
    """A failure before POST /invoices: the invoice cannot be in Qoyod, so it simply failed."""
    if isinstance(exc, QoyodUnauthorised):
        # Back to where it was (ready, failed or unknown): nothing about the invoice is wrong,
        # the connection is; it waits for the finance manager, not in the retry queue.
        return _Stop(
            send.claimed_from, FailureKind.KEY_REJECTED,
            _("Qoyod refused the API key. Ask the finance manager to fix the Qoyod connection "
              "(Settings → Qoyod), then send again."),
        )  # fmt: skip
    if isinstance(exc, QoyodRejected | QoyodNotFound):
        return _Stop(
            S.FAILED, FailureKind.REJECTED,
            _("Qoyod refused %(doing)s: %(error)s") % {"doing": doing, "error": _said(exc)},
        )  # fmt: skip
    return _Stop(
        S.FAILED, FailureKind.TEMPORARY,
        _("Temporary Qoyod or network problem while %(doing)s; the invoice was not sent. "
          "Retry in a moment. (%(error)s)") % {"doing": doing, "error": exc.message},
    )  # fmt: skip


def _invoice_stop(send: _Send, exc: QoyodError) -> _Stop:
    if isinstance(exc, QoyodMaybeSaved):
        return _Stop(
            S.UNKNOWN, FailureKind.OUTCOME_UNKNOWN,
            _("Qoyod did not confirm the draft, so %(number)s may already exist in Qoyod. Retry "
              "looks it up by its number before creating anything. (%(error)s)")
            % {"number": send.invoice.number, "error": exc.message},
        )  # fmt: skip
    if isinstance(exc, QoyodRejected):
        said = _said(exc)
        if "not active" in said.lower():
            return _Stop(
                S.FAILED, FailureKind.CUSTOMER_INACTIVE,
                _("Customer %(name)s is inactive in Qoyod: make them active in Qoyod, then "
                  "retry. (Qoyod: %(error)s)")
                % {"name": send.invoice.customer.name, "error": said},
            )  # fmt: skip
        return _Stop(
            S.FAILED, _rejection_kind(exc), _("Qoyod rejected the invoice: %(error)s")
            % {"error": said},
        )  # fmt: skip
    return _stop_before_invoice(send, exc, _("creating the invoice"))


def _rejection_kind(exc: QoyodRejected) -> str:
    """Which of our data Qoyod objected to, from the fields and words of its answer."""
    text = " ".join([*exc.errors, *(m for ms in exc.errors.values() for m in ms)]).lower()
    if any(word in text for word in ("stock", "inventory", "quantity")):
        return FailureKind.REJECTED_STOCK
    if any(word in text for word in ("tax", "vat")):
        return FailureKind.REJECTED_VAT
    if "account" in text:
        return FailureKind.REJECTED_ACCOUNTING
    return FailureKind.REJECTED


# ---- recording the outcome ------------------------------------------------------------------


def _finish(send: _Send, stop: _Stop) -> SendResult:
    sync, invoice = send.sync, send.invoice
    fields: dict[str, Any] = {"lease_until": None, "claim_token": ""}
    if stop.state == S.DRAFT_CREATED:
        remote = stop.remote
        invoice.refresh_from_db(fields=["total"])
        fields.update(
            qoyod_invoice_id=remote.id, qoyod_total=remote.total,
            total_difference=remote.total - invoice.total, failure_kind="", reason="",
        )  # fmt: skip
        note = _("Qoyod invoice id %(id)s") % {"id": remote.id}
    else:
        fields.update(failure_kind=stop.kind, reason=stop.reason)
        note = stop.reason
    try:
        with transaction.atomic():
            sync_transition(
                sync=sync, to_state=stop.state, user=send.user, note=note,
                expect_token=send.token, **fields,
            )  # fmt: skip
            if stop.state == S.DRAFT_CREATED:
                # From here Qoyod owns edits and payments (product.md Workflow 1 step 4).
                Invoice.objects.filter(pk=invoice.pk).update(qoyod_managed=True)
    except StateConflict:
        sync.refresh_from_db()
        return SendResult(
            sync,
            _("This send of %(number)s ran out of time and another one took over; see the row.")
            % _n(invoice),
        )
    return SendResult(sync, _message(invoice, sync))


def _message(invoice: Invoice, sync: QoyodInvoiceSync) -> str:
    if sync.state == S.DRAFT_CREATED:
        message = _("Qoyod draft created for %(number)s (Qoyod id %(id)s).") % {
            "number": invoice.number, "id": sync.qoyod_invoice_id,
        }  # fmt: skip
        if sync.total_difference:
            message += " " + _(
                "Qoyod's total is %(theirs)s SAR, ours %(ours)s SAR (difference %(diff)s)."
            ) % {"theirs": sync.qoyod_total, "ours": invoice.total, "diff": sync.total_difference}
        return message
    return sync.reason
