"""Credit notes against invoices Qoyod has approved: issued here, sent to Qoyod as a Draft.

Qoyod edits no line of an approved invoice and deletes none (qoyod-api.md §5.3, §7.1): the one
correction it allows is a credit note against it (`parent_id`). A note is ours first
(CRN-YEAR-000123, its lines, the reason) and is then sent by a user's click, by the invoice
send's rules (design.md §4):

    claim (compare-and-set, with a lease)
      → [claimed from unknown: look our number up; ours → linked; another's → failed]
      → POST /credit_notes → record the outcome (second short transaction)

Refunds of money already paid stay in Qoyod; the read-back sees them.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Prefetch, Q, Sum, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.calculations import LineInput, calculate_invoice
from core.messages import Message
from core.money import HALALA, plain_text, to_money
from core.numbering import sequence_next
from invoicing.models import Invoice, InvoiceLine
from invoicing.services import invoice_reissue, invoice_void
from payments.models import QoyodStatus
from qoyod_sync import mappers
from qoyod_sync.client import ClientOptions, QoyodWriter
from qoyod_sync.errors import (
    QoyodError,
    QoyodNotSent,
    QoyodRateLimited,
    QoyodRejected,
    QoyodUnauthorised,
    reference_taken,
)
from qoyod_sync.messages import with_detail, with_qoyod_words
from qoyod_sync.models import (
    CreditNoteState,
    QoyodAttempt,
    QoyodCreditNote,
    QoyodCreditNoteChange,
    QoyodCreditNoteLine,
    QoyodCustomerLink,
    QoyodInvoiceSync,
    SyncState,
)
from qoyod_sync.push.state import LEASE, LEASE_MARGIN, StateConflict
from qoyod_sync.push.steps import attempt_record
from qoyod_sync.services import ConnectionUnusable, connection_get, connection_writer
from qoyod_sync.status import payment_state_for, sync_for
from qoyod_sync.types import CreditNote as RemoteNote
from qoyod_sync.types import DraftCreditNote

C = CreditNoteState
TRANSITIONS: dict[str, set[str]] = {
    C.NOT_SENT: {C.SENDING},
    C.SENDING: {C.DRAFT_CREATED, C.FAILED, C.UNKNOWN},
    C.FAILED: {C.SENDING},
    C.UNKNOWN: {C.SENDING},
    C.DRAFT_CREATED: set(),
}
# States from which Qoyod has taken the invoice into its books, so only a note can correct it.
CREDITABLE = (QoyodStatus.APPROVED, QoyodStatus.PARTIALLY_PAID, QoyodStatus.PAID)
# The POST must leave this much of the lease for recording its answer.
_WRITE_MARGIN = LEASE_MARGIN
# Our credit-note numbers, CRN-YEAR-000123: the Qoyod reference of every note sent from here.
NUMBER_PREFIX = "CRN"
NUMBER_PATTERN = re.compile(rf"^{NUMBER_PREFIX}-\d{{4}}-\d{{6}}$")


@dataclass(frozen=True)
class CreditLine:
    """How much of one invoice line to credit."""

    line_id: int
    quantity: Decimal


@dataclass
class CreditSendResult:
    note: QoyodCreditNote
    message: str

    @property
    def ok(self) -> bool:
        return self.note.state == C.DRAFT_CREATED


class _Stop(Exception):
    def __init__(self, state: str, reason: Message, remote: RemoteNote | None = None) -> None:
        super().__init__(reason.code)
        self.state, self.reason, self.remote = state, reason, remote


# ---- rules (services, views and templates all ask these) ------------------------------------


def credited_quantities(invoice: Invoice) -> dict[int, Decimal]:
    """Per invoice line id, the quantity our credit notes already credit."""
    rows = (
        QoyodCreditNoteLine.objects.filter(credit_note__invoice=invoice)
        .values("invoice_line_id")
        .annotate(credited=Sum("quantity"))
    )
    return {row["invoice_line_id"]: row["credited"] for row in rows}


def uncredited_lines(invoice: Invoice) -> list[tuple[InvoiceLine, Decimal]]:
    """Each line of the invoice with the quantity no credit note has credited yet."""
    credited = credited_quantities(invoice)
    # The lines the invoice page has loaded already, or one query (in position order either way).
    lines = InvoiceLine.objects.select_related("service_item", "spare_part")
    prefetch_related_objects([invoice], Prefetch("lines", queryset=lines))
    return [
        (line, line.quantity - credited.get(line.pk, Decimal("0"))) for line in invoice.lines.all()
    ]


def credit_refusal(
    invoice: Invoice, lines: list[tuple[InvoiceLine, Decimal]] | None = None
) -> str | None:
    """Why no credit note can be issued against `invoice` now, or None; `lines` is
    uncredited_lines(invoice) when the caller has it already."""
    # The sync row and read-back state as loaded with the invoice (a service loads it afresh).
    sync = sync_for(invoice)
    number = {"number": invoice.number}
    if sync is None or sync.state != SyncState.DRAFT_CREATED or sync.qoyod_invoice_id is None:
        return _("%(number)s is not in Qoyod, so there is nothing to credit there.") % number
    if sync.draft_deleted_at is not None:
        return _("The Qoyod draft of %(number)s was deleted: there is nothing to credit.") % number
    payment = payment_state_for(invoice)
    if payment is None or payment.qoyod_status not in CREDITABLE:
        return (
            _(
                "%(number)s is still a draft in Qoyod: void and reissue deletes the draft "
                "instead; a credit note is only for an approved invoice."
            )
            % number
        )
    if invoice.is_void:
        return _("%(number)s is void here: its credit notes are below.") % number
    if payment.credited_in_full:
        # Crediting it again would cancel it twice in Qoyod's books.
        return (
            _("Credit notes in Qoyod cover %(number)s in full already: void it here instead.")
            % number
        )
    if lines is None:
        lines = uncredited_lines(invoice)
    if not any(left > 0 for _line, left in lines):
        return _("Every line of %(number)s is credited already.") % number
    return None


def credit_replaces_void(invoice: Invoice) -> bool:
    """Void and reissue of this invoice goes through a credit note (Qoyod approved it)."""
    return invoice.qoyod_managed and credit_refusal(invoice) is None


def send_refusal(note: QoyodCreditNote) -> str | None:
    """Why the note cannot be sent (or retried) now, or None."""
    if note.state == C.DRAFT_CREATED:
        return _("Credit note %(number)s is in Qoyod already (Qoyod id %(id)s).") % {
            "number": note.number, "id": note.qoyod_id,
        }  # fmt: skip
    if note.state == C.SENDING and not _lease_expired(note):
        return _("Credit note %(number)s is being sent right now.") % {"number": note.number}
    return None


def _lease_expired(note: QoyodCreditNote) -> bool:
    return (
        note.state == C.SENDING
        and note.lease_until is not None
        and note.lease_until <= timezone.now()
    )


# ---- issuing --------------------------------------------------------------------------------


@transaction.atomic
def credit_note_issue(
    *,
    invoice: Invoice,
    reason: str,
    user: User | None,
    lines: Sequence[CreditLine] | None = None,
) -> QoyodCreditNote:
    """Record a credit note against a Qoyod-approved invoice: `lines`, or all not yet credited."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the invoice is credited.")]})
    if len(reason) > 255:
        raise ValidationError({"reason": [_("Keep the reason to 255 characters.")]})
    refusal = credit_refusal(invoice)
    if refusal is not None:
        raise ValidationError(refusal)
    chosen = _chosen(invoice, lines)
    totals = calculate_invoice(
        [
            LineInput(
                quantity=quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                discount=discount,
                price_includes_vat=line.price_includes_vat,
            )  # fmt: skip
            for line, quantity, discount in chosen
        ]
    )
    today = timezone.localdate()
    sequence = sequence_next(name="credit_note", year=today.year)
    number = f"{NUMBER_PREFIX}-{today.year}-{sequence:06d}"
    note = QoyodCreditNote.objects.create(
        number=number, invoice=invoice, issuance_reason=reason, issue_date=today,
        total=totals.total, created_by=user,
    )  # fmt: skip
    QoyodCreditNoteLine.objects.bulk_create(
        QoyodCreditNoteLine(
            credit_note=note,
            invoice_line=line,
            quantity=quantity,
            unit_price=line.unit_price,
            discount=discount,
            vat_rate=line.vat_rate,
            line_total=result.total,
        )  # fmt: skip
        for (line, quantity, discount), result in zip(chosen, totals.lines, strict=True)
    )
    QoyodCreditNoteChange.objects.create(
        credit_note=note, from_state="", to_state=C.NOT_SENT, changed_by=user,
        reason_code="credit.issued",
        reason_params={"number": number, "invoice": invoice.number, "reason": reason},
    )  # fmt: skip
    audit_record(actor=user, action=AuditEvent.Action.CREDIT_NOTE_ISSUE, obj=note, after={
        "invoice": invoice.number, "total": str(note.total), "reason": reason,
        "lines": [[line.position, str(quantity)] for line, quantity, _d in chosen],
    })  # fmt: skip
    return note


def _chosen(
    invoice: Invoice, lines: Sequence[CreditLine] | None
) -> list[tuple[InvoiceLine, Decimal, Decimal]]:
    """(line, quantity, its share of the line's discount) per credited line, checked."""
    left = {line.pk: (line, rest) for line, rest in uncredited_lines(invoice)}
    wanted = (
        [CreditLine(line_id=pk, quantity=rest) for pk, (_l, rest) in left.items() if rest > 0]
        if lines is None
        else [c for c in lines if c.quantity != 0]
    )
    errors: list[str] = []
    chosen = []
    seen: set[int] = set()
    for credit in wanted:
        if credit.line_id not in left or credit.line_id in seen:
            errors.append(_("A chosen line is not a line of %(number)s.") % {
                "number": invoice.number})  # fmt: skip
            continue
        seen.add(credit.line_id)
        line, rest = left[credit.line_id]
        if credit.quantity < 0 or credit.quantity > rest:
            errors.append(
                _("Line %(position)s: credit between 0 and %(left)s (not %(asked)s).")
                % {
                    "position": line.position,
                    "left": plain_text(rest),
                    "asked": plain_text(credit.quantity),
                }
            )
            continue
        discount = (
            line.discount
            if credit.quantity == line.quantity
            else to_money(line.discount * credit.quantity / line.quantity)
        )
        chosen.append((line, credit.quantity, discount))
    if errors:
        raise ValidationError(errors)
    if not chosen:
        raise ValidationError(_("Choose at least one line and a quantity to credit."))
    return chosen


@transaction.atomic
def invoice_credit_and_reissue(
    *, invoice: Invoice, reason: str, user: User | None
) -> tuple[QoyodCreditNote, Invoice]:
    """Void and reissue of an invoice Qoyod approved: a credit note of all that is left of it,
    the invoice void here, and its replacement issued (sent to Qoyod as a new draft)."""
    note = credit_note_issue(invoice=invoice, reason=reason, user=user)
    invoice_void(invoice=invoice, reason=reason, user=user, credit_note=note.number)
    return note, invoice_reissue(invoice=invoice, user=user)


# ---- sending --------------------------------------------------------------------------------


def credit_note_send(
    *, note: QoyodCreditNote, user: User | None, options: ClientOptions | None = None
) -> CreditSendResult:
    """Send a credit note to Qoyod as a Draft, or retry a failed or unknown send."""
    claimed_from, token = _claim(note, user)
    options = options or ClientOptions()
    options = replace(options, stop_at=time.monotonic() + options.deadline)
    posted = False
    # After an unknown outcome, only a lookup that finds nothing makes a stop a plain failure:
    # until then the note may be in Qoyod, and a retry from failed would not look first.
    absent = claimed_from != C.UNKNOWN
    try:
        try:
            writer = _writer(options)
            if not absent:
                found = _lookup(note, writer, user)
                if found is not None:
                    raise _Stop(
                        C.DRAFT_CREATED,
                        Message("credit.linked", number=note.number, id=found.id),
                        found,
                    )
                absent = True
            draft = _draft(note)
            _check_lease(note)
            posted = True
            remote = _post(note, writer, draft, user)
        except _Stop as stop:
            if stop.state == C.FAILED and not absent:
                stop.state = C.UNKNOWN
            return _finish(note, token, user, stop)
    except Exception as exc:
        state = C.UNKNOWN if posted or not absent else C.FAILED
        _finish(note, token, user, _Stop(state, Message("credit.unexpected_error", error=str(exc))))
        raise
    return _finish(
        note, token, user, _Stop(C.DRAFT_CREATED, Message("credit.draft_created", id=remote.id),
                                 remote),
    )  # fmt: skip


def _claim(note: QoyodCreditNote, user: User | None) -> tuple[str, str]:
    note.refresh_from_db()
    refusal = send_refusal(note)
    if refusal is not None:
        raise ValidationError(refusal)
    if _lease_expired(note):
        # The request that claimed it died: whatever it sent may have reached Qoyod.
        # The claim was the row's last update.
        when = timezone.localtime(note.updated_at).strftime("%Y-%m-%d %H:%M")
        try:
            _move(note, C.UNKNOWN, user, Message("credit.never_finished", when=when),
                  condition=Q(lease_until__lte=timezone.now()), lease_until=None,
                  claim_token="")  # fmt: skip
        except StateConflict:
            note.refresh_from_db()
    claimed_from = note.state
    token = uuid.uuid4().hex
    retry = claimed_from != C.NOT_SENT
    try:
        _move(
            note, C.SENDING, user, Message("credit.retry" if retry else "credit.send"),
            lease_until=timezone.now() + LEASE, claim_token=token, attempts=F("attempts") + 1,
        )  # fmt: skip
    except StateConflict:
        note.refresh_from_db()
        raise ValidationError(
            send_refusal(note)
            or _("Credit note %(number)s is being sent right now.") % {"number": note.number}
        ) from None
    return claimed_from, token


def _move(
    note: QoyodCreditNote,
    to_state: str,
    user: User | None,
    reason: Message,
    *,
    expect_token: str | None = None,
    condition: Q | None = None,
    **fields: Any,
) -> None:
    """Compare-and-set `note` from the state it was read in, with its history row."""
    from_state = note.state
    if to_state not in TRANSITIONS[from_state]:
        raise StateConflict(f"{from_state} -> {to_state}")
    rows = QoyodCreditNote.objects.filter(pk=note.pk, state=from_state)
    if expect_token is not None:
        rows = rows.filter(claim_token=expect_token)
    if condition is not None:
        rows = rows.filter(condition)
    now = timezone.now()
    with transaction.atomic():
        if not rows.update(state=to_state, updated_at=now, **fields):
            raise StateConflict(f"{note.pk} is no longer {from_state}")
        QoyodCreditNoteChange.objects.create(
            credit_note=note, from_state=from_state, to_state=to_state,
            reason_code=reason.code, reason_params=reason.params,
            qoyod_message=reason.qoyod_message, changed_by=user, changed_at=now,
        )  # fmt: skip
    note.refresh_from_db()


def _writer(options: ClientOptions) -> QoyodWriter:
    connection = connection_get()
    if connection is None:
        raise _Stop(C.FAILED, Message("qoyod.not_connected"))
    try:
        return connection_writer(connection, options=options)
    except ConnectionUnusable as exc:
        raise _Stop(C.FAILED, exc.reason) from None


def _draft(note: QoyodCreditNote) -> DraftCreditNote:
    invoice = note.invoice
    unlinked = {"number": note.number, "invoice": invoice.number}
    sync = QoyodInvoiceSync.objects.filter(invoice=invoice).first()
    if sync is None or sync.qoyod_invoice_id is None:
        raise _Stop(C.FAILED, Message("credit.unlinked", what=Message("credit.what.invoice"),
                                      **unlinked))  # fmt: skip
    link = QoyodCustomerLink.objects.filter(
        customer_id=invoice.customer_id, state=QoyodCustomerLink.State.LINKED,
        qoyod_id__isnull=False,
    ).first()  # fmt: skip
    if link is None or link.qoyod_id is None:
        raise _Stop(C.FAILED, Message("credit.unlinked", what=Message("credit.what.customer"),
                                      **unlinked))  # fmt: skip
    warehouse = getattr(invoice.branch, "qoyod_warehouse", None)
    if warehouse is None:
        raise _Stop(C.FAILED, Message("credit.unlinked", what=Message("credit.what.warehouse"),
                                      **unlinked))  # fmt: skip
    lines = []
    for credited in note.lines.select_related(
        "invoice_line__service_item__qoyod_link", "invoice_line__spare_part__qoyod_link"
    ):
        line = credited.invoice_line
        product = getattr(line.item, "qoyod_link", None) if line.item is not None else None
        if product is None:
            raise _Stop(C.FAILED, Message(
                "credit.unlinked", what=Message("credit.what.product", position=line.position),
                **unlinked,
            ))  # fmt: skip
        lines.append(
            replace(
                mappers.draft_line(line, product.qoyod_id),
                quantity=credited.quantity,
                discount_amount=credited.discount,
            )  # fmt: skip
        )
    return DraftCreditNote(
        contact_id=link.qoyod_id, parent_id=sync.qoyod_invoice_id, reference=note.number,
        issuance_reason=note.issuance_reason, issue_date=note.issue_date,
        inventory_id=warehouse.qoyod_inventory_id, lines=tuple(lines),
    )  # fmt: skip


def _check_lease(note: QoyodCreditNote) -> None:
    note.refresh_from_db(fields=["lease_until"])
    if note.lease_until is None or timezone.now() + _WRITE_MARGIN > note.lease_until:
        raise _Stop(C.FAILED, Message("credit.lease_ran_out"))


def _post(
    note: QoyodCreditNote, writer: QoyodWriter, draft: DraftCreditNote, user: User | None
) -> RemoteNote:
    try:
        created = writer.create_draft_credit_note(draft)
    except QoyodError as exc:
        _attempt(note, QoyodAttempt.Step.CREDIT, user, exc=exc)
        if reference_taken(exc):
            # Qoyod's unique reference caught a second create: find ours and link it.
            found = _lookup(note, writer, user)
            if found is not None:
                raise _Stop(
                    C.DRAFT_CREATED, Message("credit.linked", number=note.number, id=found.id),
                    found,
                ) from None  # fmt: skip
            raise _Stop(
                C.UNKNOWN, Message("credit.reference_not_found", number=note.number)
            ) from None
        if isinstance(exc, QoyodRejected | QoyodUnauthorised | QoyodNotSent | QoyodRateLimited):
            raise _Stop(C.FAILED, with_detail("credit.not_sent", exc, number=note.number)) from None
        raise _Stop(
            C.UNKNOWN,
            with_detail("credit.maybe_saved", exc, number=note.number),
        ) from None
    _attempt(note, QoyodAttempt.Step.CREDIT, user, outcome=QoyodAttempt.Outcome.OK,
             qoyod_id=created.id)  # fmt: skip
    return created


def _lookup(note: QoyodCreditNote, writer: QoyodWriter, user: User | None) -> RemoteNote | None:
    """Our number in Qoyod: the note if it is really ours, None if absent; another's stops."""
    try:
        found = writer.reader.find_credit_note_by_reference(note.number)
    except QoyodError as exc:
        _attempt(note, QoyodAttempt.Step.LOOKUP, user, exc=exc)
        lookup_failed = with_detail("credit.lookup_failed", exc, number=note.number)
        raise _Stop(C.UNKNOWN, lookup_failed) from None
    if found is None:
        _attempt(note, QoyodAttempt.Step.LOOKUP, user, outcome=QoyodAttempt.Outcome.ABSENT)
        return None
    sync = QoyodInvoiceSync.objects.filter(invoice=note.invoice).first()
    parent_id = sync.qoyod_invoice_id if sync is not None else None
    lines = note.lines.count()
    # Qoyod rounds VAT per line: each line may move the total by a halala.
    ours = (
        found.parent_id == parent_id
        and len(found.lines) == lines
        and abs(found.total_amount - note.total) <= HALALA * lines
    )
    outcome = QoyodAttempt.Outcome.FOUND if ours else QoyodAttempt.Outcome.NOT_OURS
    _attempt(note, QoyodAttempt.Step.LOOKUP, user, outcome=outcome, qoyod_id=found.id)
    if not ours:
        raise _Stop(C.FAILED, Message(
            "credit.not_ours", id=found.id, number=note.number, their_parent=found.parent_id,
            their_total=str(found.total_amount), their_lines=len(found.lines),
            our_parent=parent_id, our_total=str(note.total), our_lines=lines,
        ))  # fmt: skip
    return found


def _attempt(
    note: QoyodCreditNote,
    step: str,
    user: User | None,
    *,
    outcome: str | None = None,
    exc: QoyodError | None = None,
    qoyod_id: int | None = None,
) -> None:
    attempt = attempt_record(
        invoice=note.invoice, step=step, target=note.number, user=user, outcome=outcome,
        exc=exc, qoyod_id=qoyod_id,
    )  # fmt: skip
    if step == QoyodAttempt.Step.CREDIT:
        # Each write to Qoyod and how it ended, as the invoice send audits its creates.
        audit_record(actor=user, action=AuditEvent.Action.QOYOD_CREDIT_NOTE_CREATE, obj=note,
                     after={"invoice": note.invoice.number, "outcome": attempt.outcome,
                            "qoyod_id": qoyod_id, "http_status": attempt.http_status,
                            "detail_code": attempt.detail_code})  # fmt: skip


def _finish(note: QoyodCreditNote, token: str, user: User | None, stop: _Stop) -> CreditSendResult:
    fields: dict[str, Any] = {"lease_until": None, "claim_token": ""}
    reason = stop.reason
    if stop.remote is not None:
        fields.update(qoyod_id=stop.remote.id, reason_code="", reason_params={}, qoyod_message="")
    else:
        fields.update(reason_code=reason.code, reason_params=reason.params,
                      qoyod_message=reason.qoyod_message)  # fmt: skip
    try:
        _move(note, stop.state, user, reason, expect_token=token, **fields)
    except StateConflict:
        note.refresh_from_db()
        return CreditSendResult(
            note,
            _("This send of %(number)s ran out of time and another one took over; see the row.")
            % {"number": note.number},
        )
    if note.state == C.DRAFT_CREATED:
        message = _("Qoyod draft credit note created for %(number)s (Qoyod id %(id)s).") % {
            "number": note.number, "id": note.qoyod_id,
        }  # fmt: skip
        return CreditSendResult(note, message)
    return CreditSendResult(note, with_qoyod_words(note.reason, note.qoyod_message))


def credit_notes_record_qoyod_status(
    *, statuses: dict[int, str], read_at: datetime.datetime
) -> None:
    """Keep Qoyod's own status of these notes (by our id) as a reconciliation read it.

    Only the read-back columns move: the send state and its history are this module's own.
    """
    by_status: dict[str, list[int]] = {}
    for pk, status in statuses.items():
        by_status.setdefault(status, []).append(pk)
    for status, pks in by_status.items():
        QoyodCreditNote.objects.filter(pk__in=pks).update(
            qoyod_status=status, qoyod_status_read_at=read_at
        )
