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

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.messages import Message
from invoicing.models import Invoice
from qoyod_sync import mappers
from qoyod_sync.client import ClientOptions
from qoyod_sync.messages import with_qoyod_words
from qoyod_sync.models import FailureKind, QoyodConnection, QoyodInvoiceSync
from qoyod_sync.models import SyncState as S
from qoyod_sync.push.preflight import Problem, customer_missing_details, invoice_preflight
from qoyod_sync.push.state import (
    LEASE,
    TRANSITIONS,
    IllegalTransition,
    SendRefused,
    StateConflict,
    sync_transition,
)
from qoyod_sync.push.steps import (
    Send,
    Stop,
    check_stock,
    create_invoice,
    ensure_customer,
    ensure_products,
    lookup_reference,
    number_of,
)
from qoyod_sync.services import (
    ConnectionUnusable,
    connection_ensure_catalogue,
    connection_get,
    connection_writer,
)
from qoyod_sync.status import Action, claim_refusal, sync_status
from qoyod_sync.types import Invoice as RemoteInvoice

__all__ = [
    "IllegalTransition",
    "LEASE",
    "Problem",
    "SendRefused",
    "SendResult",
    "StateConflict",
    "TRANSITIONS",
    "customer_missing_details",
    "invoice_preflight",
    "invoice_send_draft",
    "sync_transition",
]


@dataclass
class SendResult:
    """What happened, for the page: the refreshed row and a sentence for the user."""

    sync: QoyodInvoiceSync
    message: str

    @property
    def ok(self) -> bool:
        return self.sync.state == S.DRAFT_CREATED


# ---- entry point ----------------------------------------------------------------------------


def invoice_send_draft(
    *,
    invoice: Invoice,
    user: User | None,
    retry: bool = False,
    options: ClientOptions | None = None,
) -> SendResult:
    """Send a saved invoice to Qoyod as a Draft (or retry a failed or unknown send)."""
    sync, claimed_from, token = _claim(invoice=invoice, user=user, retry=retry)
    # Every call of this send shares one budget, counted from the claim, so the request ends
    # before the web worker's timeout and before the lease lapses.
    options = options or ClientOptions()
    options = replace(options, stop_at=time.monotonic() + options.deadline)
    send = Send(
        invoice=invoice, sync=sync, user=user, claimed_from=claimed_from, token=token,
        options=options,
    )  # fmt: skip
    try:
        remote = _run(send)
    except Stop as stop:
        return _finish(send, stop)
    except Exception as exc:
        # A bug or a database error mid-send: leave an honest state rather than a row that
        # stays "being sent" until its lease runs out, then let the error surface.
        state = S.UNKNOWN if send.invoice_posted else S.FAILED
        _finish(
            send,
            Stop(state, FailureKind.TEMPORARY, Message("sync.unexpected_error", error=str(exc))),
        )
        raise
    return _finish(
        send, Stop(S.DRAFT_CREATED, "", Message("sync.draft_created", id=remote.id), remote=remote)
    )


def _claim(
    *, invoice: Invoice, user: User | None, retry: bool
) -> tuple[QoyodInvoiceSync, str, str]:
    action = Action.RETRY if retry else Action.SEND
    invoice.refresh_from_db()
    sync = QoyodInvoiceSync.objects.filter(invoice=invoice).first()
    _refuse_unless_offered(invoice, sync, action)
    if sync is None:
        sync, _created = QoyodInvoiceSync.objects.get_or_create(invoice=invoice)
    # Bring the row to the state sync_status derived, so the claim moves from what was shown.
    if sync.state == S.NOT_REQUIRED:
        _try(sync_transition, sync=sync, to_state=S.READY, user=user,
             note=Message("sync.requires_qoyod_ticked"))  # fmt: skip
    if sync.lease_expired:
        # The request that claimed it died: whatever it sent may have reached Qoyod.
        _try(
            sync_transition, sync=sync, to_state=S.UNKNOWN, user=user,
            condition=Q(lease_until__lte=timezone.now()),
            note=Message(
                "sync.never_finished",
                when=timezone.localtime(sync.last_attempt_at).strftime("%Y-%m-%d %H:%M"),
            ),
            failure_kind=FailureKind.OUTCOME_UNKNOWN, lease_until=None, claim_token="",
        )  # fmt: skip
    # Another request may have moved the row meanwhile.
    _refuse_unless_offered(invoice, sync, action)
    claimed_from = sync.state
    token = uuid.uuid4().hex
    now = timezone.now()
    try:
        sync_transition(
            sync=sync, to_state=S.SENDING, user=user,
            note=Message("sync.retry" if retry else "sync.send"),
            lease_until=now + LEASE, claim_token=token, attempts=F("attempts") + 1,
            last_attempt_at=now, last_attempt_by=user,
        )  # fmt: skip
    except StateConflict:
        # Another click, tab or user won the compare-and-set. Should the row be back where it
        # was already, that other send has just finished: still not ours to make.
        sync.refresh_from_db()
        _refuse_unless_offered(invoice, sync, action)
        refusal = claim_refusal(invoice, sync, S.SENDING, retry=retry)
        assert refusal is not None, "a row being sent by another request is always refused"
        raise SendRefused(refusal) from None
    return sync, claimed_from, token


def _refuse_unless_offered(invoice: Invoice, sync: QoyodInvoiceSync | None, action: Action) -> None:
    refusal = sync_status(invoice, sync).refusal(action)
    if refusal is not None:
        raise SendRefused(refusal)


def _try(function: Callable[..., None], **kwargs: Any) -> None:
    """A housekeeping move that another request may have made already: ignore the conflict."""
    try:
        function(**kwargs)
    except StateConflict:
        kwargs["sync"].refresh_from_db()


# ---- the work (no transaction is open here) -------------------------------------------------


def _run(send: Send) -> RemoteInvoice:
    send.connection = connection_get()
    if send.connection is not None:
        try:
            send.writer = connection_writer(send.connection, options=send.options)
        except ConnectionUnusable as exc:
            stop_state = S.UNKNOWN if send.claimed_from == S.UNKNOWN else S.FAILED
            raise Stop(stop_state, FailureKind.NOT_CONNECTED, exc.reason) from None
    send.lines = list(
        send.invoice.lines.select_related("service_item", "spare_part").order_by("position", "id")
    )
    if send.claimed_from in (S.UNKNOWN, S.REFERENCE_COLLISION):
        found = lookup_reference(send)
        if found is not None:
            return found
    if send.connection is not None:
        send.connection = _catalogue_loaded(send, send.connection)
    problems = invoice_preflight(invoice=send.invoice, lines=send.lines, connection=send.connection)
    if problems:
        raise Stop(
            S.FAILED,
            problems[0].kind,
            Message("sync.preflight", problems=[p.message for p in problems]),
        )
    contact_id = ensure_customer(send)
    product_ids, parts = ensure_products(send)
    inventory_id = send.invoice.branch.qoyod_warehouse.qoyod_inventory_id
    check_stock(send, parts, inventory_id)
    _writer, connection = send.connected
    draft = mappers.draft_invoice(
        send.invoice, send.lines, contact_id=contact_id, product_ids=product_ids,
        inventory_id=inventory_id, payment_method=connection.payment_method,
    )  # fmt: skip
    return create_invoice(send, draft)


def _catalogue_loaded(send: Send, connection: QoyodConnection) -> QoyodConnection:
    """The first send after setup reads what Test connection would (warehouses, defaults)."""
    try:
        return connection_ensure_catalogue(connection=connection, options=send.options)
    except ValidationError:
        return connection


# ---- recording the outcome ------------------------------------------------------------------


def _finish(send: Send, stop: Stop) -> SendResult:
    sync, invoice, note = send.sync, send.invoice, stop.reason
    fields: dict[str, Any] = {"lease_until": None, "claim_token": ""}
    # Only a created draft carries Qoyod's record of it.
    if (remote := stop.remote) is not None:
        invoice.refresh_from_db(fields=["total"])
        fields.update(
            qoyod_invoice_id=remote.id, qoyod_total=remote.total,
            total_difference=remote.total - invoice.total, failure_kind="", reason_code="",
            reason_params={}, qoyod_message="", stock_shortage=send.stock_shortage,
        )  # fmt: skip
    else:
        fields.update(
            failure_kind=stop.kind, reason_code=note.code, reason_params=note.params,
            qoyod_message=note.qoyod_message,
        )  # fmt: skip
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
            % number_of(invoice),
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
        if sync.stock_shortage:
            message += " " + sync.stock_shortage_text
        return message
    return with_qoyod_words(sync.reason, sync.qoyod_message)
