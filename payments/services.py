"""Payments recorded here, at the counter, on invoices Qoyod does not manage; and the payment
state of Qoyod-managed invoices as read back from Qoyod (qoyod_sync/readback/ does the reading).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.messages import Message
from core.money import to_money
from invoicing.models import Invoice
from invoicing.services import invoice_set_status
from payments.models import Payment, QoyodAllocation, QoyodPaymentState, QoyodStatus


def invoice_apply_paid_amount(
    *, invoice: Invoice, amount_paid: Decimal, user: User | None, note: Message
) -> None:
    """Set the paid amount and balance of a locked invoice and move its status to match."""
    invoice.amount_paid = amount_paid
    invoice.balance = invoice.total - amount_paid
    if amount_paid <= 0:
        target = Invoice.Status.ISSUED
    elif amount_paid < invoice.total:
        target = Invoice.Status.PARTIALLY_PAID
    else:
        target = Invoice.Status.PAID
    invoice_set_status(invoice=invoice, to_status=target, user=user, note=note)
    invoice.save(update_fields=["amount_paid", "balance", "status", "updated_at"])


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    method: str,
    amount: Decimal,
    paid_on: datetime.date,
    user: User | None,
    reference: str = "",
) -> Payment:
    """Record a counter payment; the invoice row is locked so two cashiers cannot overpay it."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if (refusal := invoice.payment_refusal()) is not None:
        raise ValidationError(refusal)
    if amount is None or amount <= 0:
        raise ValidationError({"amount": [_("The amount must be more than zero.")]})
    if amount != to_money(amount):
        raise ValidationError({"amount": [_("Amounts are in SAR with at most two decimals.")]})
    if amount > invoice.balance:
        raise ValidationError(
            {"amount": [_("That is more than the balance of %(balance)s SAR.")
                        % {"balance": invoice.balance}]}
        )  # fmt: skip
    payment = Payment.objects.create(
        invoice=invoice, method=method, amount=amount, paid_on=paid_on, reference=reference,
        created_by=user,
    )  # fmt: skip
    balance_before = invoice.balance
    invoice_apply_paid_amount(
        invoice=invoice,
        amount_paid=invoice.amount_paid + amount,
        user=user,
        note=Message("payment.recorded", method=payment.method, amount=amount),
    )
    audit_record(
        actor=user, action=AuditEvent.Action.PAYMENT_RECORD, obj=payment,
        label=f"{invoice.number}: {amount} ({method})",
        before={"invoice": invoice.number, "balance": balance_before},
        after={"invoice": invoice.number, "balance": invoice.balance, "method": method,
               "amount": amount, "paid_on": paid_on, "reference": reference},
    )  # fmt: skip
    return payment


# ---- payment state read back from Qoyod -----------------------------------------------------


@dataclass(frozen=True)
class QoyodAllocationData:
    """One allocation on a Qoyod invoice (qoyod-api.md §5.2 `payments[]`), amounts in halalas."""

    qoyod_id: int
    source_type: str
    source_id: int | None
    date: datetime.date | None
    amount: Decimal


@dataclass(frozen=True)
class QoyodPaymentData:
    """What Qoyod says about one invoice's payment, in our terms (never MISSING: that is None)."""

    status: str
    total: Decimal
    paid: Decimal
    due: Decimal
    allocations: tuple[QoyodAllocationData, ...] = ()


def _ensure_states(invoice_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(invoice_ids))
    QoyodPaymentState.objects.bulk_create(
        [QoyodPaymentState(invoice_id=pk) for pk in ids], ignore_conflicts=True
    )
    return ids


def qoyod_payment_states_queue(
    *,
    invoice_ids: Iterable[int],
    token: str,
    until: datetime.datetime,
    checked_before: datetime.datetime | None = None,
) -> list[int]:
    """Mark invoices as queued for a background refresh under `token`; returns those marked.

    Skips invoices already queued or being read (one queued task is enough), and with
    `checked_before` also those checked since then (not stale yet).
    """
    ids = _ensure_states(invoice_ids)
    now = timezone.now()
    free = (Q(queued_until__isnull=True) | Q(queued_until__lte=now)) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )
    if checked_before is not None:
        free &= Q(checked_at__isnull=True) | Q(checked_at__lt=checked_before)
    # A compare-and-set: of two pages opened at once, each row goes to exactly one of them.
    QoyodPaymentState.objects.filter(free, invoice_id__in=ids).update(
        queued_until=until, claim_token=token, claimed_until=None
    )
    return list(
        QoyodPaymentState.objects.filter(
            invoice_id__in=ids, claim_token=token, queued_until=until
        ).values_list("invoice_id", flat=True)
    )


def qoyod_payment_states_unqueue(*, token: str) -> None:
    """Forget the queued marks of a task that could not be queued after all."""
    QoyodPaymentState.objects.filter(claim_token=token, claimed_until__isnull=True).update(
        queued_until=None, claim_token=""
    )


def qoyod_payment_states_claim(
    *,
    invoice_ids: Iterable[int],
    token: str,
    until: datetime.datetime,
    checked_before: datetime.datetime | None = None,
) -> list[int]:
    """Claim invoices for one read from Qoyod until `until`; returns the ids this token holds.

    An invoice another refresh is reading is left to it, and so (with `checked_before`, when
    this refresh started) is one another refresh read meanwhile: its answer is as new as ours.
    The same token takes back its own claim (a redelivered task); a lapsed claim (a dead
    process) can be taken by anyone.
    """
    ids = _ensure_states(invoice_ids)
    now = timezone.now()
    available = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now) | Q(claim_token=token)
    if checked_before is not None:
        available &= Q(checked_at__isnull=True) | Q(checked_at__lt=checked_before)
    QoyodPaymentState.objects.filter(available, invoice_id__in=ids).update(
        claimed_until=until, claim_token=token, queued_until=None
    )
    return list(
        QoyodPaymentState.objects.filter(
            invoice_id__in=ids, claim_token=token, claimed_until=until
        ).values_list("invoice_id", flat=True)
    )


def qoyod_payment_states_release(*, invoice_ids: Iterable[int], token: str) -> None:
    """Give up this token's claims on these invoices without recording anything."""
    QoyodPaymentState.objects.filter(invoice_id__in=list(invoice_ids), claim_token=token).update(
        claimed_until=None, claim_token="", queued_until=None
    )


def qoyod_payment_states_fail(*, invoice_ids: Iterable[int], token: str, message: Message) -> None:
    """Record a failed read (Qoyod unreachable, key refused) and release the claims."""
    now = timezone.now()
    QoyodPaymentState.objects.filter(invoice_id__in=list(invoice_ids), claim_token=token).update(
        checked_at=now, last_error_code=message.code, last_error_params=message.params,
        qoyod_message=message.qoyod_message, claimed_until=None, claim_token="",
        queued_until=None,
    )  # fmt: skip


def _paid_here(invoice: Invoice, remote: QoyodPaymentData) -> Decimal:
    """The paid amount to show here: Qoyod's, never above our total (a database constraint)."""
    if remote.status == QoyodStatus.PAID:
        # Fully paid in Qoyod is paid here, even when Qoyod's total differs from ours; the
        # difference itself is flagged on the row.
        return invoice.total
    return min(remote.paid, invoice.total)


def _credited(remote: QoyodPaymentData) -> Decimal:
    return sum(
        (
            a.amount
            for a in remote.allocations
            if a.source_type == QoyodAllocation.Source.CREDIT_NOTE
        ),
        Decimal("0.00"),
    )


def _allocation_key(row: QoyodAllocation | QoyodAllocationData) -> tuple:
    return (row.qoyod_id, row.source_type, row.source_id, row.date, row.amount)


def _allocations_differ(allocations: list[QoyodAllocation], remote: QoyodPaymentData) -> bool:
    return {_allocation_key(a) for a in allocations} != {
        _allocation_key(a) for a in remote.allocations
    }


def _payment_moves(invoice: Invoice, remote: QoyodPaymentData | None) -> bool:
    # A void invoice has no payments to move (and void is final); its state is still shown.
    return (
        remote is not None
        and not invoice.is_void
        and invoice.amount_paid != _paid_here(invoice, remote)
    )


def _differs(
    state: QoyodPaymentState,
    invoice: Invoice,
    allocations: list[QoyodAllocation],
    remote: QoyodPaymentData | None,
) -> bool:
    if remote is None:
        return state.qoyod_status != QoyodStatus.MISSING or not state.returned_by_accounting
    return (
        state.qoyod_status != remote.status
        or state.qoyod_total != remote.total
        or state.qoyod_paid != remote.paid
        or state.qoyod_due != remote.due
        or state.qoyod_credited != _credited(remote)
        or state.total_difference != remote.total - invoice.total
        or state.returned_by_accounting
        or _allocations_differ(allocations, remote)
        or _payment_moves(invoice, remote)
    )


_RECORDED = ["refreshed_at", "checked_at", "changed_at", "last_error_code", "last_error_params",
             "qoyod_message", "claimed_until", "claim_token", "queued_until"]  # fmt: skip
_FIGURES = ["qoyod_status", "qoyod_total", "qoyod_paid", "qoyod_due", "qoyod_credited",
            "total_difference", "returned_by_accounting", "returned_at"]  # fmt: skip


def _apply(
    state: QoyodPaymentState,
    invoice: Invoice,
    remote: QoyodPaymentData | None,
    now: datetime.datetime,
) -> None:
    """Copy Qoyod's figures onto the state row and mark it recorded (not saved)."""
    if remote is None:
        state.qoyod_status = QoyodStatus.MISSING
        if not state.returned_by_accounting:
            state.returned_by_accounting, state.returned_at = True, now
    else:
        state.qoyod_status = remote.status
        state.qoyod_total, state.qoyod_paid, state.qoyod_due = (
            remote.total, remote.paid, remote.due
        )  # fmt: skip
        state.qoyod_credited = _credited(remote)
        state.total_difference = remote.total - invoice.total
        state.returned_by_accounting, state.returned_at = False, None
    state.refreshed_at = state.checked_at = state.changed_at = now
    state.last_error_code, state.last_error_params, state.qoyod_message = "", {}, ""
    state.claimed_until, state.claim_token, state.queued_until = None, "", None


def qoyod_payment_states_record(
    *,
    results: Mapping[int, QoyodPaymentData | None],
    token: str,
    user: User | None = None,
) -> set[int]:
    """Record what Qoyod said for these invoices (None: gone from Qoyod); returns those changed.

    Compare before write. An invoice whose state, amounts and allocations are as Qoyod says
    gets only its refreshed time touched, in one UPDATE for all of them; so do, in one more,
    those where only Qoyod's own figures changed. An invoice whose payments moved is written
    under a row lock, its status changed by invoice_apply_paid_amount (with a history row).
    Invoices this token no longer holds are skipped: a newer refresh took them over.
    """
    states = {
        s.invoice_id: s
        for s in QoyodPaymentState.objects.filter(invoice_id__in=list(results), claim_token=token)
    }
    invoices = Invoice.objects.in_bulk(list(states))
    allocations: dict[int, list[QoyodAllocation]] = defaultdict(list)
    for row in QoyodAllocation.objects.filter(invoice_id__in=list(states)):
        allocations[row.invoice_id].append(row)
    changed: set[int] = set()
    # What Qoyod says of each invoice whose payments moved, to record under a row lock.
    moved: dict[int, QoyodPaymentData] = {}
    for pk, state in states.items():
        remote = results[pk]
        if _differs(state, invoices[pk], allocations[pk], remote):
            changed.add(pk)
            if remote is not None and (
                _payment_moves(invoices[pk], remote) or _allocations_differ(allocations[pk], remote)
            ):
                moved[pk] = remote
    now = timezone.now()
    QoyodPaymentState.objects.filter(
        invoice_id__in=[pk for pk in states if pk not in changed], claim_token=token
    ).update(
        refreshed_at=now, checked_at=now, last_error_code="", last_error_params={},
        qoyod_message="", claimed_until=None, claim_token="", queued_until=None,
    )  # fmt: skip
    figures_only = [states[pk] for pk in changed - moved.keys()]
    recorded = (
        _record_figures(figures_only, invoices, results, token=token, now=now)
        if figures_only
        else set()
    )
    return recorded | {
        pk for pk, remote in moved.items() if _record_one(pk, remote, token=token, user=user)
    }


@transaction.atomic
def _record_figures(
    states: list[QoyodPaymentState],
    invoices: Mapping[int, Invoice],
    results: Mapping[int, QoyodPaymentData | None],
    *,
    token: str,
    now: datetime.datetime,
) -> set[int]:
    ours = set(
        QoyodPaymentState.objects.select_for_update()
        .filter(pk__in=[s.pk for s in states], claim_token=token)
        .values_list("pk", flat=True)
    )
    rows = [s for s in states if s.pk in ours]
    for state in rows:
        _apply(state, invoices[state.invoice_id], results[state.invoice_id], now)
    QoyodPaymentState.objects.bulk_update(rows, [*_FIGURES, *_RECORDED])
    return {s.invoice_id for s in rows}


@transaction.atomic
def _record_one(
    invoice_id: int, remote: QoyodPaymentData, *, token: str, user: User | None
) -> bool:
    # The invoice first, as payment_record locks it: one lock order for everyone.
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
    state = (
        QoyodPaymentState.objects.select_for_update()
        .filter(invoice_id=invoice_id, claim_token=token)
        .first()
    )
    if invoice is None or state is None:
        return False
    _allocations_sync(invoice, remote.allocations)
    if _payment_moves(invoice, remote):
        invoice_apply_paid_amount(
            invoice=invoice,
            amount_paid=_paid_here(invoice, remote),
            user=user,
            note=Message("payment.read_back", status=remote.status, paid=remote.paid),
        )
    _apply(state, invoice, remote, timezone.now())
    state.save(update_fields=[*_FIGURES, *_RECORDED])
    return True


def _allocations_sync(invoice: Invoice, remote: tuple[QoyodAllocationData, ...]) -> None:
    current = {row.qoyod_id: row for row in QoyodAllocation.objects.filter(invoice=invoice)}
    wanted = {row.qoyod_id: row for row in remote}
    QoyodAllocation.objects.filter(
        invoice=invoice, qoyod_id__in=[pk for pk in current if pk not in wanted]
    ).delete()
    for qoyod_id, data in wanted.items():
        row = current.get(qoyod_id)
        if row is not None and _allocation_key(row) == _allocation_key(data):
            continue
        QoyodAllocation.objects.update_or_create(
            invoice=invoice,
            qoyod_id=qoyod_id,
            defaults={
                "source_type": data.source_type,
                "source_id": data.source_id,
                "date": data.date,
                "amount": data.amount,
            },
        )
